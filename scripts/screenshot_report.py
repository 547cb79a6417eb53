"""Render a run's HTML report in headless Chromium and save a full-page PNG, to look at what a person sees.

    python scripts/screenshot_report.py output/sample [--out report.png] [--width 1400] [--height 16000]

Needs a Chromium binary (Debian: ``apt-get install chromium``; or set ``CHROMIUM=/path``). The page is rendered
at ``--width`` x ``--height`` and the blank space below the report is cropped away (Pillow, via matplotlib).
Exit 2 with one line when there is no report or no browser.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium flags for a sandboxed, offline machine: no background network chatter, a throwaway profile.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_browser() -> str | None:
    """The Chromium binary to use: ``$CHROMIUM`` or the first of ``BROWSERS`` on the PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def screenshot(html: Path, out: Path, width: int = 1400, height: int = 16000, timeout: int = 120) -> Path:
    """Render ``html`` and write the PNG to ``out``, cropped to the report's height. Returns ``out``."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError(
            "no Chromium found: apt-get install chromium, or set CHROMIUM=/path/to/chrome"
        )
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={out}", html.resolve().as_uri()],
            check=True, capture_output=True, timeout=timeout,
        )  # fmt: skip
    _crop_blank_bottom(out)
    return out


def _crop_blank_bottom(path: Path) -> None:
    from PIL import Image  # Pillow arrives with matplotlib

    with Image.open(path) as image:
        grey = image.convert("L")
        width, height = grey.size
        bottom = height
        pixels = grey.load()
        step = max(width // 200, 1)
        while bottom > 1 and all(pixels[x, bottom - 1] >= 250 for x in range(0, width, step)):
            bottom -= 1
        cropped = image.crop((0, 0, width, min(height, bottom + 20)))
    cropped.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run folder (its stats/report.html is rendered) or an HTML file")
    parser.add_argument("--out", default=None, help="PNG path (default: <run>/stats/report.png)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=16000)
    args = parser.parse_args(argv)
    target = Path(args.run_dir)
    html = target if target.suffix == ".html" else target / "stats" / "report.html"
    if not html.is_file():
        print(f"error: {html} not found (run `python -m pipeline stats {target}` first)", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else html.with_suffix(".png")
    try:
        screenshot(html, out, args.width, args.height)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
