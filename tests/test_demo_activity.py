"""`make run`'s lived-in system: demo clues and tasks worked through the real processes to every
stage, over the last weeks, across the districts; told once. Run as the command line runs it, on
a database of its own."""
from sqlalchemy import create_engine, text

from tests.test_cli import lowcode


def test_demo_stories_reach_every_stage_once(empty_database_url, tmp_path):
    url = empty_database_url()
    env = {"DATABASE_URL": url, "LOWCODE_INSTANCE_PATH": str(tmp_path), "REDIS_URL": ""}
    for args in (["migrate"], ["load-definitions"], ["seed-demo"], ["seed-activity", "--count", "60"]):
        result = lowcode(*args, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    assert "生成演示线索 60 条" in result.stdout

    with create_engine(url).connect() as db:
        def one(sql: str):
            return db.execute(text(sql)).scalar()

        clue_states = set(db.execute(text("SELECT DISTINCT status FROM clue")).scalars())
        task_states = set(db.execute(text("SELECT DISTINCT status FROM task")).scalars())
        assert len(clue_states) >= 4 and "待启动" not in clue_states, clue_states
        assert "已办结归档" in task_states and len(task_states) >= 3, task_states
        assert one("SELECT count(*) FROM dispatch WHERE parent_id IS NOT NULL") > 0          # forwards
        assert one("SELECT count(*) FROM work_item WHERE state = 'open'") > 10
        assert one("SELECT count(*) FROM work_item WHERE overdue") > 0
        assert one("SELECT count(*) FROM supervision") > 0
        assert one("SELECT count(*) FROM attachment WHERE submission_id IS NOT NULL") > 0     # feedback photos
        assert one("SELECT count(DISTINCT substr(CAST(created_at AS TEXT), 1, 10)) FROM clue") >= 10
        assert one("SELECT count(DISTINCT district_code) FROM clue") >= 8

    again = lowcode("seed-activity", "--count", "60", env=env)
    assert again.returncode == 0 and "已有线索，未生成演示业务数据" in again.stdout
