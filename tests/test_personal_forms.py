"""x-personal: a definition marks form fields as personal; their values are stored as SM4-GCM
tokens (clue payloads, form submissions, drafts) and shown masked by default."""
from __future__ import annotations

import json

import pytest

import forms
from sqlalchemy import select
from lowcode import form_service, personal, publishing
from lowcode.extensions import db
from lowcode.models import Clue
from tests.test_forms_engine import DEFINITIONS, form_of, make, problems
from tests.test_intake import post, warning

PAYLOAD = "forms/payloads/red_label_rider"
ID_CARD = "11010519491231002X"


@pytest.fixture(scope="module")
def api_key(app):
    from lowcode import clock, intake
    from lowcode.models import ApiClient

    with app.app_context():
        peer = ApiClient(code="personal-forms-peer", name="个人信息测试系统", created_at=clock.now())
        key = intake.issue_key(peer)
        db.session.add(peer)
        db.session.commit()
    return key


def test_the_marker_is_part_of_the_subset_on_strings_only():
    form = make(form_of(("id", {"type": "string", "title": "身份证号", "format": "id-card", "x-personal": True}),
                        ("n", {"type": "integer", "title": "数量"})))
    assert form.root.child["id"].personal and not form.root.child["n"].personal
    assert ("form.json", "/properties/n/x-personal") in problems(
        form_of(("n", {"type": "integer", "title": "数量", "x-personal": True})))


def test_the_meta_schema_refuses_a_marker_that_is_not_a_boolean(tmp_path):
    import shutil

    from lowcode.definitions import load_tree

    shutil.copytree(DEFINITIONS, tmp_path / "definitions")
    defs = tmp_path / "definitions" / "nmv" / "forms" / "common" / "fields.defs.json"
    defs.write_text(defs.read_text(encoding="utf-8").replace('"x-personal": true', '"x-personal": "是"', 1),
                    encoding="utf-8")
    errors = load_tree(tmp_path / "definitions").errors
    assert any("fields.defs.json" in str(e) and "x-personal" in str(e) for e in errors)


def test_the_nmv_rider_fields_are_marked(app):
    with app.app_context():
        form = form_service.form_for(publishing.current_tree().packs["nmv"], PAYLOAD)
    rider = form.root.child["rider"]
    assert rider.child["name"].personal and rider.child["id_card"].personal and rider.child["mobile"].personal
    assert not rider.child["plate_number"].personal


def test_a_clue_payload_keeps_personal_values_encrypted_and_shows_them_masked(client, app, api_key):
    item = warning(app, "PF-0001", warning_type="RED_LABEL_RIDER", subject_id="RIDER-PF-1")
    item["payload"]["rider"].update(name="张三丰", id_card=ID_CARD, mobile="13812345678")
    answer = post(client, api_key, item).get_json()["items"][0]
    assert answer["status"] == "accepted", answer
    with app.test_request_context():
        clue = db.session.get(Clue, answer["clue_id"])
        stored = json.dumps(clue.payload, ensure_ascii=False)
        assert ID_CARD not in stored and "13812345678" not in stored and "张三丰" not in stored
        pack = publishing.current_tree().packs["nmv"]
        form = form_service.form_for(pack, PAYLOAD)
        masked = personal.mask_form(form, clue.payload)["rider"]
        assert masked["id_card"] == "110***********002X" and masked["mobile"] == "138****5678"
        assert masked["name"] == "张**"
        assert "RIDER-PF-1" not in json.dumps(clue.subject) and "RIDER-PF-1" not in clue.subject_key
        assert clue.title.endswith("：" + personal.mask("name", item["subject"]["name"]))
        assert personal.reveal_form(form, clue.payload)["rider"]["id_card"] == ID_CARD
        html = str(forms.render_summary(form, personal.mask_form(form, clue.payload)))
        assert "110***********002X" in html and ID_CARD not in html


def test_clues_are_found_by_subject_id_number_and_mobile_within_scope(client, app, api_key, api):
    item = warning(app, "PF-0002", warning_type="RED_LABEL_RIDER", subject_id="RIDER-PF-2")
    item["payload"]["rider"].update(name="钱七", id_card="310101199001011234", mobile="13911112222")
    clue_id = post(client, api_key, item).get_json()["items"][0]["clue_id"]
    for query in ({"id_number": "310101199001011234"}, {"id_number": " 310101199001011234 "},
                  {"mobile": "+86 139 1111 2222"}):
        found = api("yanpan").get("/api/v1/clue-search/", query_string=query).get_json()["result"]
        assert [c["id"] for c in found] == [clue_id], query
    assert api("yanpan").get("/api/v1/clue-search/", query_string={"id_number": "11010519491231002X"}) \
        .get_json()["result"] != [clue_id]
    assert api("zd_minhang").get("/api/v1/clue-search/", query_string={"id_number": "310101199001011234"}) \
        .get_json()["result"] == []  # another district's clue stays invisible
    assert api("yanpan").get("/api/v1/clue-search/").status_code == 400


def test_a_token_moved_to_another_field_does_not_decrypt(app):
    with app.app_context():
        form = form_service.form_for(publishing.current_tree().packs["nmv"], PAYLOAD)
        protected = personal.protect_form(form, {"rider": {"name": "李四", "id_card": ID_CARD}})
        swapped = {"rider": {"name": protected["rider"]["id_card"], "id_card": protected["rider"]["name"]}}
        from lowcode.crypto.errors import DecryptionError

        with pytest.raises(DecryptionError):
            personal.reveal_form(form, swapped)
        assert personal.protect_form(form, protected) == protected  # encrypting twice changes nothing


def test_one_walk_encrypts_a_document_and_indexes_its_clear_values(app):
    with app.app_context():
        form = form_service.form_for(publishing.current_tree().packs["nmv"], PAYLOAD)
        data = {"rider": {"name": "王五", "id_card": ID_CARD, "mobile": "138 1234 5678", "plate_number": "沪A12345"},
                "note": "非个人信息"}
        protected, entries = personal.protect_and_index(form, data)
        assert protected["note"] == "非个人信息" and protected["rider"]["plate_number"] == "沪A12345"
        assert all(personal.is_token(protected["rider"][name]) for name in ("name", "id_card", "mobile"))
        assert personal.reveal_form(form, protected) == data
        rows = personal.index_rows("Clue", 7, entries)
        assert rows == personal.document_index_rows("Clue", 7, form, data) == \
            personal.document_index_rows("Clue", 7, form, protected)
        assert {(r["field"], r["kind"]) for r in rows} == {("rider.id_card", "id_number"), ("rider.mobile", "mobile")}
        again, same_entries = personal.protect_and_index(form, protected)  # tokens stay, indexed by their clear value
        assert again == protected and same_entries == entries


def test_a_submission_page_masks_and_reveals_only_with_permission(app, client, db_session):
    from lowcode.models import AuditEvent, FormSubmission, Officer
    from tests.conftest import csrf_token, web_login
    from tests.form_samples import sample

    with app.test_request_context():
        pack = publishing.current_tree().packs["nmv"]
        data = sample(pack, PAYLOAD)
        data["rider"].update(name="王小明", id_card=ID_CARD, mobile="13812345678")
        data.pop("attachments", None)
        user = db.session.scalar(select(Officer).where(Officer.username == "yanpan"))
        submission, errors = form_service.submit("nmv", PAYLOAD, data, "PF-SUB-1", user)
        assert not errors, errors
        submission_id = submission.id
        stored = json.dumps(db.session.get(FormSubmission, submission_id).data, ensure_ascii=False)
        assert ID_CARD not in stored and "13812345678" not in stored
    web_login(client, "yanpan")
    page = client.get(f"/form-submissions/{submission_id}").get_data(as_text=True)
    assert "110***********002X" in page and ID_CARD not in page and "显示完整个人信息" in page
    token = csrf_token(page)
    revealed = client.post(f"/form-submissions/{submission_id}/reveal", data={"csrf_token": token})
    assert revealed.status_code == 200 and ID_CARD in revealed.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "reveal_personal",
                                                      AuditEvent.object_id == str(submission_id)))
    client.get("/logout/")
    web_login(client, "zd_xuhui")  # without the permission (and outside the scope)
    page = client.get(f"/form-submissions/{submission_id}")
    assert page.status_code in (403, 404) or "显示完整个人信息" not in page.get_data(as_text=True)
    refused = client.post(f"/form-submissions/{submission_id}/reveal", data={"csrf_token": token})
    assert refused.status_code in (302, 403, 404) and ID_CARD not in refused.get_data(as_text=True)


def test_warnings_about_one_personal_subject_still_merge(client, app, api_key):
    first, second = (warning(app, f"PF-M{n}", warning_type="RED_LABEL_RIDER", subject_id="RIDER-PF-MERGE")
                     for n in (1, 2))
    clue_ids = {post(client, api_key, item).get_json()["items"][0]["clue_id"] for item in (first, second)}
    assert len(clue_ids) == 1  # merged by the subject's blind index, never compared in clear
