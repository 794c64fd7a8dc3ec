"""The form engine on the largest checklist of definitions/: rendering (web and PDA) and the server's
validation (dropping hidden fields, then JSON Schema with formats and Chinese messages), each with
its form compiled and its validator built once, as the application does.
Last line: `render_ms_p95=N validate_us_p95=N` (targets: render < 20 ms, validation < 1,000 µs).
Run: .venv/bin/python perf/bench_forms.py [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import forms  # noqa: E402
from forms.fields import Field  # noqa: E402
from lowcode.definitions import form_ui, load_tree  # noqa: E402
from pda_renderer import render_pda  # noqa: E402
from forms.examples import example  # noqa: E402

ATTACHMENT_ID = "0123456789abcdef0123456789abcdef"


def field_count(field: Field) -> int:
    return 1 + sum(field_count(child) for child in field.children) + (field_count(field.item) if field.item else 0)


def p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20)[-1]


def measure(action: Callable[[], Any], rounds: int) -> list[float]:
    for _ in range(20):   # warm-up: template compilation, caches
        action()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    checklists = {f"{pack.code}/{key}": forms.compile_form(pack.forms[key].uri, pack.form_registry, form_ui(pack, key))
                  for pack in load_tree(ROOT / "definitions").packs.values()
                  for key in pack.forms if key.startswith("forms/checklists/")}
    key, form = max(checklists.items(), key=lambda item: field_count(item[1].root))
    data = example(form, attach=lambda field, path: ATTACHMENT_ID)   # ids of stored files, as a post holds
    assert form.errors(form.normalise(data)) == {}, form.errors(form.normalise(data))
    invalid = form.defaults()
    print(f"form={key} fields={field_count(form.root)} rounds={args.rounds}")

    web = measure(lambda: forms.render_web(form, data), args.rounds)
    web_errors = measure(lambda: forms.render_web(form, invalid, form.errors(invalid)), args.rounds)
    pda = measure(lambda: render_pda(form, data), args.rounds)
    valid = measure(lambda: form.errors(form.normalise(data)), args.rounds)
    refused = measure(lambda: form.errors(form.normalise(invalid)), args.rounds)
    print(f"render web p95 {p95(web) * 1e3:.2f} ms, with errors {p95(web_errors) * 1e3:.2f} ms, "
          f"pda {p95(pda) * 1e3:.2f} ms")
    print(f"validate valid p95 {p95(valid) * 1e6:.0f} µs, empty form with {len(form.errors(invalid))} errors "
          f"{p95(refused) * 1e6:.0f} µs")
    render_ms = max(p95(web), p95(pda)) * 1e3
    validate_us = p95(valid) * 1e6
    print(f"render_ms_p95={render_ms:.2f} validate_us_p95={validate_us:.0f}")


if __name__ == "__main__":
    main()
