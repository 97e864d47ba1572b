#!/bin/sh
# Nightly RedWheel backup with retention: keep KEEP_DAILY daily and KEEP_WEEKLY weekly backups.
#
# Example crontab line (03:15 every night, as the user that runs the app):
#   15 3 * * * /srv/redwheel/scripts/backup.sh >>/var/log/redwheel-backup.log 2>&1
#
# Settings (environment, or the app's EnvironmentFile via ENV_FILE):
#   BACKUP_DIR   where backups go (default /var/backups/redwheel); daily/ and weekly/ below it
#   KEEP_DAILY   daily backups kept (default 7)
#   KEEP_WEEKLY  weekly backups kept (default 4); the backup of WEEKLY_DAY becomes a weekly one
#   WEEKLY_DAY   day of the week, 1 = Monday … 7 = Sunday (default 7)
#   PYTHON       the app's interpreter (default <app>/.venv/bin/python)
#
# The personal-data keys are NOT in these backups, by design. Export them once (and after each
# rotation) with `manage.py backup --keys-only FILE` and keep that file somewhere else.
set -eu

APP_DIR=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
BACKUP_DIR=${BACKUP_DIR:-/var/backups/redwheel}
KEEP_DAILY=${KEEP_DAILY:-7}
KEEP_WEEKLY=${KEEP_WEEKLY:-4}
WEEKLY_DAY=${WEEKLY_DAY:-7}
PYTHON=${PYTHON:-$APP_DIR/.venv/bin/python}

umask 077 # backups hold (encrypted) personal data and the audit log
mkdir -p "$BACKUP_DIR/daily" "$BACKUP_DIR/weekly"

# One run at a time: a slow dump must not overlap the next night's.
exec 9>"$BACKUP_DIR/.lock"
if ! flock -n 9; then
    echo "backup.sh: another backup is running, skipping" >&2
    exit 1
fi

name="redwheel-$(date -u +%Y%m%d-%H%M%S)"
"$PYTHON" "$APP_DIR/manage.py" backup "$BACKUP_DIR/daily" --archive --name "$name" -v 0
archive="$BACKUP_DIR/daily/$name.tar"
test -s "$archive"

if [ "$(date -u +%u)" = "$WEEKLY_DAY" ]; then
    # A hard link costs no space; fall back to a copy across file systems.
    ln "$archive" "$BACKUP_DIR/weekly/$name.tar" 2>/dev/null \
        || cp -p "$archive" "$BACKUP_DIR/weekly/$name.tar"
fi

# Keep the newest N of a directory. Names sort by time; the dot-named leftovers of a crashed run
# start with a dot and are removed once they are a day old.
prune() {
    dir=$1
    keep=$2
    ls -1 "$dir" | grep -E '^redwheel-[0-9]{8}-[0-9]{6}\.tar$' | sort -r | tail -n +"$((keep + 1))" |
        while read -r old; do
            rm -f -- "$dir/$old"
        done
    find "$dir" -maxdepth 1 -name '.redwheel-*' -mtime +0 -exec rm -rf -- {} +
}
prune "$BACKUP_DIR/daily" "$KEEP_DAILY"
prune "$BACKUP_DIR/weekly" "$KEEP_WEEKLY"

echo "backup.sh: wrote $archive"
