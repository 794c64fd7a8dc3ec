"""A lived-in system for `make run`: warnings from a demo feed become clues, and clues and their
tasks are worked through the real processes by the demo officers, spread over the last weeks and
across the districts, stopping at every stage along the way.

Nothing here knows a warning type, a form or a process: warnings are the payload forms' example
answers, each open work item is answered from its own form (usually the first choice, the
"happy path"; sometimes another, so rejections, returns and forwards happen too), receivers are
subordinate units that have demo officers. Time is replayed with `clock.shifted`, so deadlines
passed in the story are overdue now.
"""
from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

import forms.examples
from lowcode import clock, form_service, intake, publishing
from lowcode.extensions import db
from lowcode.flow import actions, records
from lowcode.flow.timers import fire_due
from lowcode.models import ApiClient, Clue, Department, Dispatch, Officer, ProcessInstance, Task, WorkItem

FEED_CODE = "demo-feed"
HAPPY_PATH = 0.85          # how often an officer takes a form's first choice
DAYS = 30                  # how far back stories start
STEP_HOURS = (2, 30)       # how long each step waits for its officer
SUPERVISE_SHARE = 0.2      # open dispatches pressed with a 督办
TERMINATE_SHARE = 0.015    # tasks the issuer ends early


def seed(count: int, seed_value: int = 2026, progress: Callable[[int, int], None] | None = None) -> int:
    """Tell `count` stories unless clues exist already; returns how many clues were made."""
    if count <= 0 or db.session.scalar(select(func.count(Clue.id)).execution_options(unscoped=True)):
        return 0
    rng = random.Random(seed_value)
    cast = _Cast()
    now = clock.now()
    starts = sorted(now - dt.timedelta(days=rng.uniform(0.2, DAYS)) for _ in range(count))
    for done, start in enumerate(starts, 1):
        clue_id = _receive(rng, start)
        if clue_id is not None:
            _tell(rng, cast, clue_id, start, now)
        if progress:
            progress(done, count)
    fire_due(now=now, limit=100_000)
    return count


class _Cast:
    """Who acts for a department in a role: the demo officers, looked up once."""

    def __init__(self):
        self.by_post: dict[tuple[int, str], Officer] = {}
        for officer in db.session.scalars(select(Officer).where(Officer.active.is_(True))):
            for role in officer.roles:
                self.by_post.setdefault((officer.department_id, role.name), officer)
        self.staffed = {department_id for department_id, _ in self.by_post}

    def for_item(self, item: WorkItem) -> Officer | None:
        roles = [r for r in item.roles.split("|") if r]
        return next((self.by_post[(item.department_id, r)] for r in roles if (item.department_id, r) in self.by_post),
                    None)

    def in_department(self, department_id: int) -> Officer | None:
        return next((o for (d, _), o in self.by_post.items() if d == department_id), None)


def _feed() -> ApiClient:
    client = db.session.scalar(select(ApiClient).where(ApiClient.code == FEED_CODE))
    if client is None:
        client = ApiClient(code=FEED_CODE, name="演示预警数据源", created_at=clock.now(), key_prefix="", key_hash="")
        db.session.add(client)
        db.session.commit()
    return client


def _receive(rng: random.Random, start: dt.datetime) -> int | None:
    packs = publishing.warning_packs()
    code = rng.choice(sorted(packs))
    pack = packs[code]
    warning = pack.warning_types[code].content
    district = rng.choice(db.session.scalars(select(Department).where(Department.depth == 1)).all())
    payload = forms.examples.example(form_service.form_for(pack, warning["payload_form"]), rng)
    item = {"type": code, "source_id": f"DEMO-{rng.getrandbits(40):010x}",
            "occurred_at": start.replace(microsecond=0).isoformat() + "+08:00", "district_code": district.district_code,
            "subject": {"id": f"{district.district_code}-{rng.randrange(10_000):04d}",
                        "name": f"{district.district_name}{_name_in(payload)}"},
            "payload": payload}
    with clock.shifted(start):
        answer = intake.process(intake.store(_feed(), [item]), start_processes=False)[0]
        if answer.get("clue_id") is not None:
            actions.start_waiting_clues([answer["clue_id"]])
    return answer.get("clue_id")


def _name_in(payload: dict) -> str:
    """The subject's name: the first `…name` answer outside the report section that opens a payload."""
    sections = [v for v in payload.values() if isinstance(v, dict)][1:]
    return next((v for section in sections for k, v in section.items() if k.endswith("name") and isinstance(v, str)),
                "")


def _tell(rng: random.Random, cast: _Cast, clue_id: int, start: dt.datetime, now: dt.datetime) -> None:
    """Work the clue's open items one after another until the story's length or the present."""
    moment, steps = start, rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 10, 14, 40, 40, 40, 40))
    for _ in range(steps):
        moment += dt.timedelta(hours=rng.uniform(*STEP_HOURS))
        if moment >= now:
            return
        item = _next_item(clue_id)
        if item is None:
            break
        officer = cast.for_item(item)
        if officer is None:
            return
        with clock.shifted(moment):
            try:
                actions.submit(item.id, _answer(rng, cast, item, officer), officer)
            except actions.ActionRefused:
                db.session.rollback()
                return
            _press_or_end(rng, cast, clue_id, officer)


def _next_item(clue_id: int) -> WorkItem | None:
    task_ids = select(Task.id).where(Task.clue_id == clue_id)
    return db.session.scalar(
        select(WorkItem).where(WorkItem.state == "open",
                               (WorkItem.clue_id == clue_id) | WorkItem.task_id.in_(task_ids))
        .order_by(WorkItem.created_at, WorkItem.id).limit(1).execution_options(unscoped=True))


def _answer(rng: random.Random, cast: _Cast, item: WorkItem, officer: Officer) -> dict:
    pack = records.context(records.get(ProcessInstance, item.instance_id)).pack
    form = form_service.form_for(pack, item.form_key)

    def attach(field, path: str) -> str:
        photo = FileStorage(io.BytesIO(forms.examples.png(4, 3, rng.randrange(40, 220))), filename="现场照片.png")
        return form_service.store_attachment(pack, item.form_key, path, photo, officer).id

    answer = forms.examples.example(form, rng if rng.random() > HAPPY_PATH else None, attach=attach)
    if "receivers" in form.root.child:
        answer["receivers"] = [{"department_code": d.code} for d in _receivers(rng, cast, item)]
    return answer


def _receivers(rng: random.Random, cast: _Cast, item: WorkItem) -> list[Department]:
    """One or two staffed subordinate units of the sender (a forward: of the receiving unit)."""
    sender = (records.get(Dispatch, item.dispatch_id).receiver if item.dispatch_id is not None
              else records.get(Task, item.task_id).issuer)
    units = [d for d in db.session.scalars(select(Department).where(Department.parent_id == sender.id))
             if d.id in cast.staffed] or [sender]
    return rng.sample(units, min(len(units), rng.choice((1, 1, 2))))


def _press_or_end(rng: random.Random, cast: _Cast, clue_id: int, officer: Officer) -> None:
    """Now and then the issuer presses an open dispatch (and the receiver answers) or ends a task."""
    task = db.session.scalar(select(Task).where(Task.clue_id == clue_id, Task.closed_at.is_(None))
                             .execution_options(unscoped=True))
    if task is None:
        return
    issuer = cast.in_department(task.issuer_department_id)
    open_dispatches = db.session.scalars(select(Dispatch).where(Dispatch.task_id == task.id,
                                                                Dispatch.closed_at.is_(None))
                                         .execution_options(unscoped=True)).all()
    if issuer is None or not open_dispatches:
        return
    roll = rng.random()
    if roll < TERMINATE_SHARE:
        actions.terminate(task.id, rng.choice(("当事站点已停业", "线索重复，已并案处理", "经核查不属于本辖区")), issuer)
    elif roll < TERMINATE_SHARE + SUPERVISE_SHARE:
        dispatch = rng.choice(open_dispatches)
        supervision = actions.supervise(dispatch.id, rng.choice(("请加快处置进度", "请于期限内反馈处置结果", "该站点问题突出，请重点督办")),
                                        clock.now() + dt.timedelta(days=1), issuer)
        receiver = cast.in_department(dispatch.receiver_department_id)
        if receiver is not None and rng.random() < 0.6:
            actions.reply_supervision(supervision.id, rng.choice(("已安排民警上门检查", "正在处置，将按期反馈")), receiver)
