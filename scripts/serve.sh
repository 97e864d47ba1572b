#!/usr/bin/env bash
# Run the web server and the task worker together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/python" manage.py worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
echo "RedWheel is serving on http://${HOST:-127.0.0.1}:${PORT:-8000}/ (Ctrl-C stops the server and the worker)"
"$BIN/python" manage.py runserver --noreload "${HOST:-127.0.0.1}:${PORT:-8000}"
