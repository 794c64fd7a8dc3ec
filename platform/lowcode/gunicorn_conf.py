"""gunicorn settings of the platform's web workers: `gunicorn -c python:lowcode.gunicorn_conf ...`."""
from __future__ import annotations


def post_worker_init(worker) -> None:
    """Called in each worker once it has loaded the application."""
    from lowcode import process_tuning

    process_tuning.settle()
