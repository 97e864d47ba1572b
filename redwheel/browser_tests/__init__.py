"""Browser tests: Playwright driving Debian's Chromium through the main journeys against a live
server, with axe-core on every page visited (docs/frontend.md, "Browser tests")."""
