"""Definition versions: publish, upload with validation, difference, rollback, audit, permissions.

Each test leaves the nmv pack with the content it found (later tests and the app rely on it).
"""
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lowcode import publishing
from lowcode.models import AuditEvent, DefinitionRelease
from tests.conftest import csrf_token, web_login

ROOT = Path(__file__).resolve().parents[1]
WARNING_TYPES = ROOT / "definitions/nmv/warning_types"


def new_warning_type(code: str) -> bytes:
    """A new category written as a file only: a copy of an existing one with a new code and name."""
    template = json.loads(sorted(WARNING_TYPES.glob("*.json"))[0].read_text(encoding="utf-8"))
    template.update(code=code, name=f"测试新增预警类型{code}")
    return json.dumps(template, ensure_ascii=False, indent=2).encode()


def releases(db_session, pack="nmv") -> int:
    return db_session.scalar(select(func.count(DefinitionRelease.id)).where(DefinitionRelease.pack_code == pack))


def upload(client, pack: str, files: dict[str, bytes], folder: str = "", replace: bool = False):
    page = client.get("/definitions/upload")
    data = {"pack": pack, "folder": folder, "csrf_token": csrf_token(page.get_data(as_text=True)),
            "files": [(io.BytesIO(content), name) for name, content in files.items()]}
    if replace:
        data["replace"] = "1"
    return client.post("/definitions/upload", data=data, content_type="multipart/form-data")


def publish_staged(client, html: str, note: str):
    import re

    action = re.search(r'action="(/definitions/upload/[^"]+/publish)"', html).group(1)
    return client.post(action, data={"note": note, "csrf_token": csrf_token(html)})


def rollback_to(client, release_id: int):
    page = client.get("/definitions/")
    return client.post(f"/definitions/release/{release_id}/rollback",
                       data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def test_start_published_every_pack_of_the_folder(app):
    with app.app_context():
        current = publishing.current_releases()
        assert {"core", "nmv"} <= set(current)
        tree = publishing.current_tree()
        assert tree.errors == []
        assert len(tree.packs["nmv"].warning_types) >= 18


def test_publishing_unchanged_content_makes_no_release(app, db_session):
    before = releases(db_session)
    with app.app_context():
        assert publishing.publish_directory(ROOT / "definitions") == []
    assert releases(db_session) == before


def test_a_new_warning_type_as_a_file_is_usable_at_once_and_can_be_rolled_back(client, app, db_session):
    web_login(client, "yewu")
    with app.app_context():
        original = publishing.current_releases()["nmv"]
    count = releases(db_session)
    response = upload(client, "nmv", {"TEST_NEW_CATEGORY.json": new_warning_type("TEST_NEW_CATEGORY")},
                      folder="warning_types")
    html = response.get_data(as_text=True)
    assert "校验通过" in html and "新增 warning_types/TEST_NEW_CATEGORY.json" in html
    assert releases(db_session) == count  # validation alone stores nothing
    published = publish_staged(client, html, "新增测试预警类型")
    assert published.status_code == 302
    assert releases(db_session) == count + 1
    with app.app_context():
        assert "TEST_NEW_CATEGORY" in publishing.current_tree().packs["nmv"].warning_types
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "publish")
                               .order_by(AuditEvent.id.desc())).first()
    assert "新增 1" in event.summary and event.actor_name != "系统"
    assert event.after["added"] == ["warning_types/TEST_NEW_CATEGORY.json"]

    assert rollback_to(client, original.id).status_code == 302
    with app.app_context():
        assert "TEST_NEW_CATEGORY" not in publishing.current_tree().packs["nmv"].warning_types
        assert publishing.current_releases()["nmv"].sha256 == original.sha256


def test_a_broken_upload_shows_file_pointer_and_reason_and_stores_nothing(client, db_session):
    web_login(client, "yewu")
    broken = json.loads(new_warning_type("TEST_BROKEN"))
    broken["task_level"] = "NO_SUCH_LEVEL"
    broken["review_required"] = "是"
    count = releases(db_session)
    html = upload(client, "nmv", {"TEST_BROKEN.json": json.dumps(broken).encode()},
                  folder="warning_types").get_data(as_text=True)
    assert "校验未通过" in html
    assert "nmv/warning_types/TEST_BROKEN.json#/review_required" in html
    assert "nmv/warning_types/TEST_BROKEN.json#/task_level" in html
    assert "确认发布" not in html
    assert releases(db_session) == count


def test_upload_refuses_paths_outside_the_pack(client):
    web_login(client, "yewu")
    html = upload(client, "nmv", {"evil.py": b"print(1)"}, folder="../../platform").get_data(as_text=True)
    assert "只接受定义包内相对路径下的 .json 与 .bpmn 文件" in html


def test_difference_between_two_versions_of_a_file(client, app, db_session):
    web_login(client, "yewu")
    path = "task_levels.json"
    with app.app_context():
        original = publishing.current_releases()["nmv"]
        files = publishing.release_files(original)
        old_file = {f.path: f.id for f in original.files}[path]
    changed = json.loads(files[path])
    first = changed["task_levels"][0]
    first["name"] = first["name"] + "（测试）"
    html = upload(client, "nmv", {path: json.dumps(changed, ensure_ascii=False).encode()}).get_data(as_text=True)
    assert publish_staged(client, html, "改名").status_code == 302
    with app.app_context():
        new = publishing.current_releases()["nmv"]
        new_file = {f.path: f.id for f in new.files}[path]
    page = client.get(f"/definitions/compare/{original.id}/{new.id}").get_data(as_text=True)
    assert "task_levels.json" in page and "（测试）" in page and 'class="add"' in page
    file_diff = client.get(f"/definitions/diff?a={old_file}&b={new_file}")
    assert "（测试）" in file_diff.get_data(as_text=True)
    assert rollback_to(client, original.id).status_code == 302


@pytest.mark.parametrize("username, path, method, expected", [
    ("dd_xuhui", "/definitions/", "get", 403),
    ("lingdao", "/definitions/", "get", 200),
    ("lingdao", "/definitions/publish-directory", "post", 403),
])
def test_definition_pages_need_their_permissions(client, username, path, method, expected):
    web_login(client, username)
    if method == "get":
        assert client.get(path).status_code == expected
    else:
        page = client.get("/")
        assert client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == expected


def test_the_current_releases_are_kept_per_release_version_and_read_again_after_a_publication(app, db_session):
    """Kept by the process under the version read with the officer; a publication elsewhere (another
    process, the CLI) moves the version, one in the request itself is seen at once."""
    from flask import g
    from sqlalchemy import event

    from lowcode.extensions import db
    from lowcode.models import Officer

    reads = []

    def count(_conn, _cursor, statement, *_):
        if "FROM definition_release JOIN" in statement:
            reads.append(statement)

    def in_request(call):
        with app.test_request_context("/definitions/"):
            officer = db.session.scalar(select(Officer).where(Officer.username == "yewu"))
            g.user = app.appbuilder.sm.load_user(officer.id)   # as Flask-Login loads the signed-in officer
            g.pop("current_releases", None)   # as every request starts (the test's app context outlives it)
            return call()

    nmv = lambda: publishing.current_releases()["nmv"]
    with app.app_context():
        engine = db.engine
        original = publishing.current_releases()["nmv"]
        original_id, original_files = original.id, publishing.release_files(original)
    event.listen(engine, "before_cursor_execute", count)
    try:
        in_request(nmv)
        reads.clear()
        kept = in_request(lambda: (nmv().id, publishing.release_files(nmv())))
        assert kept == (original_id, original_files) and reads == []   # files still load from the copy
        with app.app_context():   # elsewhere: no officer, no request
            added = publishing.publish("nmv", {**original_files, "warning_types/TEST_KEPT.json":
                                               new_warning_type("TEST_KEPT")}, source="upload")
            added_id = added.id
        assert in_request(lambda: nmv().id) == added_id and len(reads) == 2   # the CLI's own read, then ours

        def publish_and_read():
            nmv()
            back = publishing.rollback(original_id)
            return back.id, nmv().id, "TEST_KEPT" in publishing.current_tree().packs["nmv"].warning_types

        back_id, seen_id, still_there = in_request(publish_and_read)
        assert seen_id == back_id != added_id and not still_there
        reads.clear()
        assert in_request(lambda: nmv().id) == back_id and len(reads) == 1   # the version moved: read again
    finally:
        event.remove(engine, "before_cursor_execute", count)
