"""Synthetic data for benchmarks and load tests: deterministic, bulk-loaded, with a scale knob."""
from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def in_prepared_app(generate: Callable[[], T]) -> T:
    """Run a generator against the application configured by the environment, migrated and with
    its definitions loaded, inside a request context (what the services it calls expect)."""
    from lowcode.app import create_app
    from lowcode.config import load_config
    from lowcode.server import prepare

    app = create_app(load_config())
    with app.app_context():
        prepare(app)
    with app.test_request_context():
        return generate()
