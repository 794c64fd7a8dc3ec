"""Backup and restore: a round trip into an empty database gives back every row and every
attachment; a tampered backup is refused before anything is written."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert

from lowcode import backup, keyring, storage
from lowcode.extensions import db
from lowcode.security_cli import backup_command, restore_command


def dump_all(url: str, folder: Path) -> dict[str, str]:
    """Every table's rows, encoded as a backup encodes them."""
    folder.mkdir()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            out = {}
            for table in backup._tables():
                backup._dump_table(connection, table, folder / table.name)
                out[table.name] = (folder / table.name).read_text(encoding="utf-8")
            return out
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def made_backup(app, tmp_path_factory):
    with app.app_context():
        storage.storage().save("ab" + "0" * 30, [b"%PDF-1.4 backup test attachment"])
        target = tmp_path_factory.mktemp("backup") / "b1"
        result = app.test_cli_runner().invoke(backup_command, [str(target)])
        assert result.exit_code == 0, result.output
        return target


def test_round_trip_into_an_empty_database_gives_back_everything(app, made_backup, empty_database_url, tmp_path):
    url = empty_database_url()
    with app.app_context():
        ring = keyring.keyring()
        source_url = app.config["SQLALCHEMY_DATABASE_URI"]
        manifest = backup.restore(url, tmp_path / "files", made_backup, ring)
        db.session.remove()
    assert manifest["tables"]["audit_event"]["rows"] > 0 and manifest["files"]
    original, restored = dump_all(source_url, tmp_path / "a"), dump_all(url, tmp_path / "b")
    for name, rows in json.loads((made_backup / "manifest.json").read_text())["tables"].items():
        assert restored[name].count("\n") == rows["rows"], name
    assert set(original) == set(restored)
    backed = {name: (made_backup / "tables" / f"{name}.jsonl").read_text(encoding="utf-8") for name in restored}
    assert restored == backed  # everything the backup holds came back, byte for byte once encoded
    assert (tmp_path / "files" / "ab" / ("ab" + "0" * 30)).read_bytes() == b"%PDF-1.4 backup test attachment"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:  # the audit chain came back intact, and ids continue
            from lowcode import audit_chain

            with app.app_context():
                assert audit_chain.verify(connection) == []
            from lowcode.models import Department

            largest = max(r["id"] for r in map(json.loads, backed["department"].splitlines()))
            new_id = connection.execute(insert(Department.__table__).values(
                name="恢复后新增", path="/restored/", depth=9, code="R1", kind="大队", district_code="310000",
                sort_order=0, active=True, district_name="")).inserted_primary_key[0]
            assert new_id > largest
    finally:
        engine.dispose()


def copy_of(made_backup: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(made_backup, target)
    return target


def test_a_changed_table_file_is_refused_naming_it(app, made_backup, tmp_path):
    copy = copy_of(made_backup, tmp_path)
    table = copy / "tables" / "audit_event.jsonl"
    table.write_text(table.read_text(encoding="utf-8").replace('"summary": "', '"summary": "改', 1), encoding="utf-8")
    with app.app_context(), pytest.raises(backup.BackupRefused, match="tables/audit_event.jsonl"):
        backup.check(copy, keyring.keyring())


def test_a_changed_attachment_or_an_extra_file_is_refused(app, made_backup, tmp_path):
    copy = copy_of(made_backup, tmp_path)
    (copy / "files" / "ab" / ("ab" + "0" * 30)).write_bytes(b"changed")
    with app.app_context(), pytest.raises(backup.BackupRefused, match="files/ab/"):
        backup.check(copy, keyring.keyring())
    copy = copy_of(made_backup, tmp_path / "x")
    (copy / "tables" / "extra.jsonl").write_text("{}\n")
    with app.app_context(), pytest.raises(backup.BackupRefused, match="清单以外"):
        backup.check(copy, keyring.keyring())


def test_a_rewritten_manifest_is_refused(app, made_backup, tmp_path):
    copy = copy_of(made_backup, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tables"]["audit_event"]["rows"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with app.app_context(), pytest.raises(backup.BackupRefused, match="HMAC-SM3"):
        backup.check(copy, keyring.keyring())


def test_restore_refuses_a_database_with_data(app, made_backup):
    result = app.test_cli_runner().invoke(restore_command, [str(made_backup)])
    assert result.exit_code != 0 and "目标数据库不是空的" in result.output


def test_backup_refuses_a_non_empty_folder(app, tmp_path):
    (tmp_path / "something").write_text("x")
    result = app.test_cli_runner().invoke(backup_command, [str(tmp_path)])
    assert result.exit_code != 0 and "不为空" in result.output
