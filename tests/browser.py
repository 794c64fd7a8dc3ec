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


def field(page, path: str):
    """The form engine's wrapper of one field (label, control, messages), by data path."""
    return page.locator(f'.lc-field[data-path="{path}"]')


def choose(page, path: str, option: str):
    field(page, path).get_by_label(option, exact=True).check()


def draw_signature(page, path: str):
    pad = field(page, path).locator("canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 2) * 50)
    page.mouse.up()
    field(page, path).get_by_role("button", name="确认签名").click()
    field(page, path).locator(".lc-attachment img").wait_for()


def fill_in(page, form, answers: dict, photo: bytes) -> None:
    """Answer a form-engine form in the page as an officer would: every field of `answers` that the
    page shows, choices by their titles; for each attachment answered (by any placeholder) a photo
    is uploaded or a signature drawn."""
    _fill(page, form.root, answers, "", photo)


def _fill(page, spec, value, path: str, photo: bytes) -> None:
    if spec.kind == "object":
        for child in spec.children:
            child_path = f"{path}.{child.name}" if path else child.name
            if child.name in value and not child.read_only and field(page, child_path).is_visible():
                _fill(page, child, value[child.name], child_path, photo)
        return
    box = field(page, path)
    if spec.kind == "group":
        for row, item in enumerate(value):
            if box.locator(f'.lc-row[data-row="{row}"]').count() == 0:
                box.locator(".lc-add-row").click()
            _fill(page, spec.item, item, f"{path}.{row}", photo)
    elif spec.widget == "select":
        box.locator("select").select_option(label=spec.option_titles[value])
    elif spec.kind in ("choice", "boolean"):
        choose(page, path, spec.option_titles[value])
    elif spec.kind == "choices":
        for each in value:
            box.get_by_label(spec.option_titles[each], exact=True).check()
    elif spec.widget == "signature":
        draw_signature(page, path)
    elif spec.kind in ("attachment", "attachments"):
        count = len(value) if isinstance(value, list) else 1
        box.locator("input[type=file]").set_input_files(
            files=[{"name": f"现场{n}.png", "mimeType": "image/png", "buffer": photo} for n in range(count)])
        box.locator(".lc-attachment").nth(count - 1).wait_for()
    else:
        text = str(value)[:16] if spec.format == "date-time" else str(value)
        box.locator("input, textarea").first.fill(text)
