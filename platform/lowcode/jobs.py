"""Celery: a real worker on Redis when REDIS_URL is set, tasks run in-process otherwise."""
from __future__ import annotations

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

OUTBOX_INTERVAL_SECONDS = 10.0
DASHBOARD_INTERVAL_SECONDS = 60.0


def make_celery(app: Flask) -> Celery:
    class AppContextTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppContextTask)
    broker = app.config["REDIS_URL"] or "memory://"
    celery.conf.update(
        broker_url=broker,
        result_backend=app.config["REDIS_URL"] or "cache+memory://",
        task_always_eager=app.config["CELERY_EAGER"],
        task_eager_propagates=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="Asia/Shanghai",
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={"fire-timers": {"task": "lowcode.fire_timers", "schedule": 30.0},
                       "deliver-outbox": {"task": "lowcode.deliver_outbox", "schedule": OUTBOX_INTERVAL_SECONDS},
                       "refresh-dashboards": {"task": "lowcode.refresh_dashboards", "schedule": DASHBOARD_INTERVAL_SECONDS}},
    )
    celery.set_default()
    # Each worker process once it has started (the signal is sent in real workers only).
    worker_process_init.connect(_settle, weak=False, dispatch_uid="lowcode.process_tuning")
    app.extensions["celery"] = celery
    _register_tasks(celery)
    return celery


def _settle(**_) -> None:
    from lowcode import process_tuning

    process_tuning.settle()


def start_clue_processes(clue_ids: list[int]) -> None:
    """Start the processes of new clues: in the background on a worker, in-process when eager.
    One message per intake chunk: the worker starts them in batches (actions.start_waiting_clues)."""
    from flask import current_app

    current_app.extensions["celery"].tasks["lowcode.start_clue_processes"].delay(clue_ids)


def _register_tasks(celery: Celery) -> None:
    @celery.task(name="lowcode.ping")
    def ping() -> dict:
        """Round trip through the broker to a worker that reaches the database."""
        from lowcode.health import check_database

        return {"database": check_database()}

    # Acknowledged when done, not when taken: a worker that dies mid-batch leaves the message to
    # another, which skips the clues started already.
    @celery.task(name="lowcode.start_clue_processes", acks_late=True)
    def start_clue_processes_task(clue_ids: list[int]) -> int:
        from lowcode.flow import actions

        return actions.start_waiting_clues(clue_ids)

    @celery.task(name="lowcode.fire_timers")
    def fire_timers() -> int:
        """Due deadlines, reminders and BPMN timers; safe to run twice (each row fires once)."""
        from lowcode.flow.timers import fire_due

        return fire_due()

    @celery.task(name="lowcode.deliver_outbox")
    def deliver_outbox() -> dict:
        """Pushes that are due; safe to run in parallel (each row is claimed by one caller)."""
        from lowcode.outbox import deliver_due

        return deliver_due()

    @celery.task(name="lowcode.refresh_dashboards")
    def refresh_dashboards() -> dict:
        """Dashboard panels whose figures are due, and the task and clue statistics; one transaction each."""
        from lowcode.dashboard_rollups import refresh_due

        return refresh_due()
