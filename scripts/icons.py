"""Draw the app icons (PNG) from their SVG sources, once; the PNGs are committed.

    .venv/bin/python scripts/icons.py

Uses Playwright with the system Chromium (no Pillow or ImageMagick needed). The web app
manifest (redwheel/core/pwa.py) lists these files.
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "redwheel" / "static" / "redwheel" / "icons"
# (source SVG, output PNG, size in px)
TARGETS = [
    ("icon.svg", "icon-192.png", 192),
    ("icon.svg", "icon-512.png", 512),
    ("icon-maskable.svg", "icon-maskable-192.png", 192),
    ("icon-maskable.svg", "icon-maskable-512.png", 512),
    ("icon-maskable.svg", "apple-touch-icon.png", 180),  # iOS rounds the corners itself
    ("icon.svg", "favicon-32.png", 32),
]


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for source, target, size in TARGETS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (ICONS / source).read_text()
            page.set_content(
                "<style>html,body{margin:0;background:transparent}svg{display:block;"
                f"width:{size}px;height:{size}px}}</style>{svg}"
            )
            page.screenshot(path=str(ICONS / target), omit_background=True)
            page.close()
            print(f"drew {target}")
        browser.close()


if __name__ == "__main__":
    main()
