"""A running instance keeps its version; two submits of one work item never interleave."""
import threading

import pytest
from sqlalchemy import select

from lowcode import publishing
from lowcode.flow import actions
from lowcode.models import Dispatch, WorkItem
from tests.conftest import services_mode
from tests.form_samples import sample
from tests.task_helpers import department, do
from tests.test_workflow_paths import adopted_task, ctx, dispatch_to, open_item, pack, user  # noqa: F401


def test_old_and_new_instances_run_side_by_side(ctx, app):  # noqa: F811
    old_task = adopted_task("版本测试：旧版")
    dispatch_to(old_task, ["310112000000"])
    original = publishing.current_releases()["nmv"]
    files = publishing.release_files(original)
    files["bpmn/dispatch.bpmn"] = files["bpmn/dispatch.bpmn"].replace(
        'name="任务签收"'.encode(), 'name="任务签收（新版）"'.encode())
    publishing.publish("nmv", files, source="upload", note="签收环节改名")
    try:
        new_task = adopted_task("版本测试：新版")
        dispatch_to(new_task, ["310112000000"])
        old_item = open_item("zd_minhang", task_id=old_task.id)
        new_item = open_item("zd_minhang", task_id=new_task.id)
        assert old_item.title.startswith("任务签收：") and new_item.title.startswith("任务签收（新版）：")
        for item in (old_item, new_item):  # both go on, each on its own definition
            actions.submit(item.id, sample(pack(), item.form_key, handling="本单位处置"), user("zd_minhang"))
        assert open_item("zd_minhang", task_id=old_task.id).task_name == "Task_Feedback"
        assert open_item("zd_minhang", task_id=new_task.id).task_name == "Task_Feedback"
    finally:
        publishing.rollback(original.id)


@pytest.mark.skipif(not services_mode(), reason="row locks are a PostgreSQL matter; SQLite serialises writers")
def test_two_concurrent_submits_of_one_work_item_apply_once(ctx, app):  # noqa: F811
    from lowcode.extensions import db

    task = adopted_task("并发测试")
    dispatch_to(task, ["310113000000"])
    item = open_item("zd_baoshan", task_id=task.id)
    data = sample(pack(), item.form_key, handling="本单位处置")
    outcomes, barrier = [], threading.Barrier(2)

    def submit():
        with app.test_request_context():
            officer = user("zd_baoshan")
            barrier.wait()
            try:
                actions.submit(item.id, data, officer)
                outcomes.append("ok")
            except actions.ActionRefused as refused:
                outcomes.append(str(refused))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["ok", "该待办已被他人办理"])
    db.session.expire_all()
    done = db.session.scalars(select(WorkItem).where(WorkItem.task_id == task.id, WorkItem.task_name == "Task_Sign")
                              .execution_options(unscoped=True)).all()
    assert [i.state for i in done] == ["done"]
    assert len([i for i in db.session.scalars(select(WorkItem).where(WorkItem.task_id == task.id,
                                                                      WorkItem.task_name == "Task_Feedback")
                                              .execution_options(unscoped=True))]) == 1


@pytest.mark.skipif(not services_mode(), reason="row locks are a PostgreSQL matter; SQLite serialises writers")
def test_the_last_two_dispatches_closing_at_once_still_let_the_task_go_on(ctx, app):  # noqa: F811
    from lowcode.extensions import db

    task = adopted_task("并发办结测试")
    dispatch_to(task, ["310114000000", "310117000000"])
    reviews = []
    for code, username in (("310114000000", "zd_jiading"), ("310117000000", "zd_songjiang")):
        dispatch_id = db.session.scalar(select(Dispatch.id).where(
            Dispatch.task_id == task.id, Dispatch.receiver_department_id == department(code).id)
            .execution_options(unscoped=True))
        do(username, {"handling": "本单位处置"}, dispatch_id=dispatch_id)
        do(username, dispatch_id=dispatch_id)
        item = open_item("yanpan", dispatch_id=dispatch_id)
        assert item.task_name == "Task_FeedbackReview"
        reviews.append((item.id, sample(pack(), item.form_key, feedback_review_result="通过")))
    outcomes, barrier = [], threading.Barrier(2)

    def review(item_id, data):
        with app.test_request_context():
            officer = user("yanpan")
            barrier.wait()
            try:
                actions.submit(item_id, data, officer)
                outcomes.append("ok")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=review, args=work) for work in reviews]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    archive = db.session.scalars(select(WorkItem).where(WorkItem.task_id == task.id, WorkItem.state == "open")
                                 .execution_options(unscoped=True)).all()
    assert [i.task_name for i in archive] == ["Task_Archive"]
