"""Headless Chromium for the page tests: Debian's chromium, never a downloaded browser."""
from __future__ import annotations

import os
import tempfile

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PDA = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 800}}


def launch(playwright):
    # Guard: if anything ever tried to fetch a browser, it would fail fast on a dead address.
    os.environ.setdefault("PLAYWRIGHT_DOWNLOAD_HOST", "http://127.0.0.1:9")
    scratch = tempfile.mkdtemp(prefix="chromium-")
    os.environ.setdefault("XDG_CONFIG_HOME", scratch)
    os.environ.setdefault("XDG_CACHE_HOME", scratch)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
