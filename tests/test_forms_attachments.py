"""Attachments: the type told by the bytes (never by the client), size and type limits per field,
an SM3 checksum of what was stored, downloads only for those allowed to see the record, and a
submission that may only use its submitter's own uploads."""
import io
import re
import zipfile

import pytest
from gmssl import sm3, func as gmssl_func
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

import forms
import forms.examples
from lowcode.extensions import db
from lowcode.form_service import form_for
from lowcode.models import Attachment, AuditEvent, FormSubmission
from lowcode.storage import storage
from tests.conftest import csrf_token, web_login
from forms.examples import png
from tests.test_forms_pages import as_post

CHECKLIST = "nmv/forms/checklists/red_label_rider"
UPLOAD = f"/form-attachments/{CHECKLIST}"


def office(main_part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<x/>")
    return buffer.getvalue()


def ole2(stream_name: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000 + stream_name.encode("utf-16-le") + b"\x00" * 100


@pytest.mark.parametrize("content, kind", [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    (png(), "image/png"),
    (b"%PDF-1.7\n...", "application/pdf"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16, "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 16, "video/quicktime"),
    (office("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (office("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (ole2("WordDocument"), "application/msword"),
    (ole2("Workbook"), "application/vnd.ms-excel"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (b"MZ\x90\x00", None),
])
def test_the_content_type_comes_from_the_bytes(content, kind):
    assert forms.sniff(io.BytesIO(content)) == kind


def test_accept_lists_admit_exact_types_and_wildcards():
    assert forms.accepts(("image/*",), "image/png")
    assert forms.accepts(("image/jpeg", "image/png"), "image/png")
    assert not forms.accepts(("image/jpeg",), "image/png")


def upload(client, field: str, content: bytes, name: str = "现场.jpg", mimetype: str = "image/jpeg"):
    token = csrf_token(client.get(f"/forms/{CHECKLIST}").get_data(as_text=True))
    return client.post(f"{UPLOAD}?field={field}", data={"file": (io.BytesIO(content), name, mimetype)},
                       headers={"X-CSRFToken": token}, content_type="multipart/form-data")


@pytest.fixture()
def officer(client):
    web_login(client, "dd_minhang")
    return client


def colleague(app, username: str):
    other = app.test_client()
    web_login(other, username)
    return other


def test_an_upload_is_stored_by_id_with_its_sniffed_type_and_sm3(app, officer):
    content = png(3, 3)
    response = upload(officer, "evidence.photos", content, name="照片.gif", mimetype="image/gif")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["content_type"] == "image/png" and answer["size"] == len(content) and answer["name"] == "照片.gif"
    assert answer["sm3"] == sm3.sm3_hash(gmssl_func.bytes_to_list(content))   # gmssl as an independent check
    assert f'name="evidence.photos" value="{answer["id"]}"' in answer["html"] and "<img" in answer["html"]
    download = officer.get(answer["url"])
    assert download.data == content and download.mimetype == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == answer["id"]))
        assert (event.action, event.summary) == ("upload_attachment", f"上传附件「照片.gif」（PNG 图片，{len(content)} 字节）")
        assert event.after["sm3"] == answer["sm3"]
        row = db.session.get(Attachment, answer["id"])
        assert (row.field_path, row.submission_id, row.uploaded_by_id) == ("evidence.photos", None, row.uploaded_by_id)
        with storage().open(answer["id"]) as stored:
            assert stored.read() == content


def test_a_file_of_a_type_the_field_refuses_is_not_stored(app, officer):
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Attachment.id)))
    response = upload(officer, "evidence.photos", b"%PDF-1.7\n" + b"x" * 100, name="伪装.jpg")
    assert response.status_code == 400
    assert response.get_json()["message"] == "不接受此文件（PDF 文件），此项可上传：JPEG 图片、PNG 图片"
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Attachment.id))) == before


def test_a_file_over_the_size_limit_is_not_stored(app, officer):
    response = upload(officer, "confirmation.officer_signature", png() + b"\x00" * (2 * 1024 * 1024))
    assert response.status_code == 400 and response.get_json()["message"] == "文件超过 2 MB，未保存"
    # A body far over the limit is refused on its declared length, before it is read.
    response = upload(officer, "confirmation.officer_signature", png() + b"\x00" * (3 * 1024 * 1024))
    assert response.status_code == 413 and response.get_json()["message"] == "文件超过 2 MB，未保存"
    with app.app_context():
        leftovers = [path for path in storage().root.rglob("*") if path.is_file() and path.name.startswith(".upload-")]
    assert leftovers == []


def test_only_attachment_fields_take_uploads(officer):
    assert upload(officer, "inspection.place", png()).get_json()["message"] == "此项不接受附件"
    assert upload(officer, "nothing.here", png()).status_code == 400


def test_before_submission_only_the_uploader_may_download(app, officer):
    url = upload(officer, "evidence.photos", png()).get_json()["url"]
    assert colleague(app, "pda_minhang").get(url).status_code == 404    # same department, not theirs
    assert colleague(app, "zd_xuhui").get(url).status_code == 404


def checklist_answers(app, photo: str, signature: str) -> dict:
    """Valid answers; the unit manager refused to sign, so the officer's signature is the only one."""
    from lowcode import publishing

    with app.app_context():
        data = forms.examples.example(form_for(publishing.current_tree().packs["nmv"], "forms/checklists/red_label_rider"))
    data["evidence"] = {"photos": [photo]}
    data["confirmation"] = {"officer_signature": signature, "refused_to_sign": True, "refusal_note": "拒绝签字"}
    return data


def submit(client, data: dict):
    url = f"/forms/{CHECKLIST}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data=MultiDict([("csrf_token", token), *as_post(data)]))


def test_a_submission_takes_its_attachments_and_shares_them_with_whoever_sees_it(app, officer):
    photo = upload(officer, "evidence.photos", png()).get_json()
    signature = upload(officer, "confirmation.officer_signature", png(), name="签名.png").get_json()
    response = submit(officer, checklist_answers(app, photo["id"], signature["id"]))
    assert response.status_code == 302, re.findall(r"<li><a href=[^>]*>[^<]*</a>：[^<]*</li>", response.get_data(as_text=True))
    with app.app_context():
        submission_id = db.session.get(Attachment, photo["id"]).submission_id
        assert submission_id is not None
        assert db.session.get(FormSubmission, submission_id).data["evidence"] == {"photos": [photo["id"]]}
    assert colleague(app, "pda_minhang").get(photo["url"]).status_code == 200
    assert colleague(app, "zd_minhang").get(photo["url"]).status_code == 200
    assert colleague(app, "zd_xuhui").get(photo["url"]).status_code == 404
    summary = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert f'src="{photo["url"]}"' in summary


def test_a_submission_may_not_use_someone_elses_or_a_used_attachment(app, officer):
    photo = upload(colleague(app, "pda_minhang"), "evidence.photos", png()).get_json()
    signature = upload(officer, "evidence.photos", png()).get_json()   # uploaded for another field
    response = submit(officer, checklist_answers(app, photo["id"], signature["id"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    message = "附件无效：须是本人为此项上传、尚未随其他表单提交的文件"
    assert f'<a href="#w-evidence.photos">现场取证 › 现场照片</a>：{message}' in html
    assert f'<a href="#w-confirmation.officer_signature">签字确认 › 检查民警签字</a>：{message}' in html


def test_an_attachment_claimed_by_a_concurrent_submission_stores_nothing(app, officer, monkeypatch):
    from lowcode import form_service
    from lowcode.models import Officer

    photo = upload(officer, "evidence.photos", png()).get_json()["id"]
    signature = upload(officer, "confirmation.officer_signature", png()).get_json()["id"]
    data = checklist_answers(app, photo, signature)
    key = "forms/checklists/red_label_rider"
    with app.test_request_context():
        user = db.session.scalar(select(Officer).where(Officer.username == "dd_minhang"))
        first, errors = form_service.submit("nmv", key, data, "", user)
        assert first is not None and errors == {}
        before = db.session.scalar(select(db.func.count(FormSubmission.id)))
        # The second submission was validated before the first claimed the files.
        monkeypatch.setattr(form_service, "validate_submission", lambda *args: {})
        second, errors = form_service.submit("nmv", key, data, "", user)
        assert second is None and errors == {"": [form_service.ATTACHMENT_TAKEN]}
        assert db.session.scalar(select(db.func.count(FormSubmission.id))) == before
        assert db.session.get(Attachment, photo).submission_id == first.id
