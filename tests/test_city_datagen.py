"""perf/datagen/city.py at the tiny scale, run as its command line into a fresh database (SQLite,
or PostgreSQL in services mode, where it loads with COPY): the counts of the scale, every ref
resolving, the districts of the organisation, personal fields decrypting with the app's keys.
On PostgreSQL two forked workers share slices of 150 records."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from lowcode.crypto import fields, keys
from perf.datagen.city import SCALES

ROOT = Path(__file__).resolve().parents[1]
REFS = [("supplier", "enterprise", "enterprise"), ("station", "supplier", "supplier"), ("station", "enterprise", "enterprise"),
        ("rider", "station", "station"), ("rider", "enterprise", "enterprise"), ("vehicle", "owner", "rider"),
        ("violation", "rider", "rider"), ("violation", "vehicle", "vehicle"), ("accident", "rider", "rider")]
KEYS = {"vehicle": "plate_no"}


@pytest.fixture(scope="module")
def generated(empty_database_url, tmp_path_factory):
    url, instance = empty_database_url(), tmp_path_factory.mktemp("city")
    env = {**{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
           "DATABASE_URL": url, "LOWCODE_INSTANCE_PATH": str(instance), "DEFINITIONS_PATH": str(ROOT / "definitions")}
    run = subprocess.run([sys.executable, "-m", "perf.datagen.city", "--scale", "tiny", "--seed", "7",
                          "--workers", "2", "--slice", "150"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    again = subprocess.run(run.args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    engine = create_engine(url)
    yield engine, instance, run.stdout, again
    engine.dispose()


def test_every_table_holds_its_count_and_the_figures_are_printed(generated):
    engine, _, output, _ = generated
    with engine.connect() as connection:
        for name, count in SCALES["tiny"].items():
            if name != "tasks":
                assert connection.execute(text(f"SELECT count(*) FROM ent_nmv_{name}")).scalar() == count
    assert "ent_nmv_violation: 1500 条" in output and "total=" in output


def test_a_second_run_on_loaded_data_changes_nothing(generated):
    engine, _, _, again = generated
    assert again.returncode == 0 and "基础信息已生成，跳过" in again.stdout
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ent_nmv_violation")).scalar() == SCALES["tiny"]["violation"]


def test_every_ref_names_an_existing_record(generated):
    engine, _, _, _ = generated
    with engine.connect() as connection:
        for table, column, target in REFS:
            dangling = connection.execute(text(
                f"SELECT count(*) FROM ent_nmv_{table} t LEFT JOIN ent_nmv_{target} r ON r.{KEYS.get(target, 'code')} = t.{column} "
                f"WHERE t.{column} IS NOT NULL AND r.id IS NULL")).scalar()
            assert dangling == 0, (table, column)
        riders = connection.execute(text("SELECT count(*) FROM ent_nmv_rider r JOIN ent_nmv_station s ON s.code = r.station "
                                         "WHERE s.district_code = r.district_code")).scalar()
        assert riders == SCALES["tiny"]["rider"]


def test_records_spread_over_the_districts_in_realistic_mixes(generated):
    engine, _, _, _ = generated
    with engine.connect() as connection:
        districts = set(connection.execute(text("SELECT DISTINCT district_code FROM ent_nmv_violation")).scalars())
        modes = dict(connection.execute(text("SELECT mode, count(*) FROM ent_nmv_violation GROUP BY mode")).all())
        marks = dict(connection.execute(text("SELECT mark, count(*) FROM ent_nmv_rider GROUP BY mark")).all())
    assert len(districts) == 16
    assert modes["offsite"] > modes["onsite"] > 0.2 * SCALES["tiny"]["violation"]
    assert marks["green"] > marks["yellow"] > marks["red"] > 0


def test_personal_fields_are_stored_as_the_app_stores_them(generated):
    engine, instance, _, _ = generated
    ring = keys.load_keyring(str(instance), {name: os.environ.get(name, "") for name in (keys.ENV_KEY, keys.ENV_KEY_FILE)},
                             create=False)
    with engine.connect() as connection:
        code, token, index = connection.execute(text(
            "SELECT code, id_number, id_number_index FROM ent_nmv_rider ORDER BY code LIMIT 1")).one()
    clear = fields.decrypt_field(ring, token, fields.field_context("ent_nmv_rider", "id_number", code))
    assert len(clear) == 18 and index == fields.blind_index(ring, "ent_nmv_rider", "id_number", clear,
                                                            normalise=fields.normalise_id_number)


INDEXED = ("clue", "task", "dispatch", "work_item", "timer", "process_instance")


def _index_definitions(connection) -> set:
    return set(connection.execute(text("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                       "AND tablename = ANY(:t)"), {"t": list(INDEXED)}).scalars())


@pytest.mark.skipif(not os.environ.get("LOWCODE_TEST_SERVICES"), reason="the copier uses PostgreSQL's SQL")
def test_clues_and_tasks_are_copied_and_every_index_comes_back(generated, empty_database_url, tmp_path):
    """perf/datagen/closed_loop.py: a few stories told through the processes, copied server-side to
    the tasks asked for, with the indexes it dropped for the copy built again, as migrated."""
    reference, _, _, _ = generated
    url = empty_database_url()
    env = {**{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}, "DEMO_CLUES": "0",
           "DATABASE_URL": url, "LOWCODE_INSTANCE_PATH": str(tmp_path), "DEFINITIONS_PATH": str(ROOT / "definitions")}
    run = subprocess.run([sys.executable, "-m", "perf.datagen.closed_loop", "--tasks", "40", "--templates", "8"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "重建索引" in run.stdout
    engine = create_engine(url)
    with engine.connect() as connection, reference.connect() as migrated:
        tasks = connection.execute(text("SELECT count(*) FROM task")).scalar()
        copies = connection.execute(text("SELECT count(*) FROM task WHERE title LIKE '%·副本%'")).scalar()
        orphans = connection.execute(text("SELECT count(*) FROM work_item w LEFT JOIN process_instance p "
                                          "ON p.id = w.instance_id WHERE p.id IS NULL")).scalar()
        # A running copy's engine data name its own business record, as the original's did.
        misnamed = connection.execute(text(
            "SELECT count(*) FROM process_instance WHERE status = 'running' AND business_kind IN ('clue', 'task', "
            "'dispatch') AND position('\"' || business_kind || '_id\": ' || business_id IN CAST(state AS text)) = 0")).scalar()
        running_copies = connection.execute(text(
            "SELECT count(*) FROM process_instance p JOIN task t ON t.id = p.business_id AND p.business_kind = 'task' "
            "WHERE p.status = 'running' AND t.title LIKE '%·副本%'")).scalar()
        # Every copy is seen where it was issued and where it was dispatched (the task lists read this).
        unseen = connection.execute(text(
            "SELECT count(*) FROM (SELECT id AS task_id, dept_path FROM task UNION ALL "
            "SELECT task_id, dept_path FROM dispatch) AS s WHERE NOT EXISTS (SELECT 1 FROM task_visibility v "
            "WHERE v.task_id = s.task_id AND v.path = s.dept_path)")).scalar()
        assert tasks >= 40 and copies > 0 and orphans == 0 and misnamed == 0 and running_copies > 0 and unseen == 0
        assert _index_definitions(connection) == _index_definitions(migrated)
    engine.dispose()
