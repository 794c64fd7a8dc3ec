"""Key rotation re-encrypts every encrypted column and rebuilds blind indexes, in resumable
batches, audited; everything still reads, searches and verifies afterwards."""
from __future__ import annotations

import json

from sqlalchemy import func, select, text

from lowcode import audit_chain, intake, keyring, personal, rotation
from lowcode.extensions import db
from lowcode.models import ApiClient, AuditEvent, InboundWarning, Officer
from lowcode.security_cli import rotate_keys_command

MOBILES = {"zd_minhang": "13700001111", "dd_minhang": "13700002222", "pda_minhang": "13700003333"}


def tokens(table: str, column: str) -> list[str]:
    return [t for t in db.session.execute(text(f"SELECT {column} FROM {table}")).scalars() if t]


def test_rotation_re_encrypts_everything_resumably(app, api):
    with app.test_request_context():
        for username, mobile in MOBILES.items():
            db.session.scalar(select(Officer).where(Officer.username == username)).mobile = mobile
        peer = ApiClient(code="rotate-peer", name="轮换测试系统", created_at=intake.clock.now())
        intake.issue_key(peer)
        db.session.add(peer)
        db.session.commit()
        [stored_id] = intake.store(peer, [{"type": "X", "source_id": "ROT-1", "subject": {"mobile": "13700004444"}}])
        old = keyring.keyring().current_id
        before = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))   # other files rotate too

    result = app.test_cli_runner().invoke(rotate_keys_command, ["--new-key", "--batch", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with app.app_context():
        new = keyring.keyring().current_id
        assert new != old and old in keyring.keyring()
        assert all(t.startswith(f"v1.{new}.") for t in tokens("ab_user", "mobile"))
        assert all(t.startswith(f"{new}.") for t in tokens("ab_user", "mobile_index"))
        assert all(t.startswith(f"v1.{new}.") for t in tokens("inbound_warning", "raw"))
        row = db.session.get(InboundWarning, stored_id)
        assert json.loads(intake.raw_text(row))["source_id"] == "ROT-1"
        for username, mobile in MOBILES.items():
            officer = db.session.scalar(select(Officer).where(Officer.username == username))
            assert personal.reveal(officer, "mobile") == mobile
        batches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rotate_keys",
                                                              AuditEvent.id > before)).all()
        assert len(batches) >= len(MOBILES) and all(new in b.summary for b in batches)
        with db.engine.begin() as connection:
            assert audit_chain.verify(connection) == []
    found = api("admin").get("/api/v1/officer/by-mobile", query_string={"mobile": MOBILES["dd_minhang"]})
    assert [o["username"] for o in found.get_json()["result"]] == ["dd_minhang"]


def test_an_interrupted_rotation_continues_where_it_stopped(app):
    with app.test_request_context():
        from lowcode.crypto import keys

        keys.rotate_master_key(app.config["INSTANCE_PATH"])
        keyring.reset()
        [spec] = [c for c in rotation.encrypted_columns() if c.table.name == "ab_user"]
        assert rotation.rotate_column(spec, batch=1, max_batches=1) == 1  # interrupted after one batch
        current = keyring.keyring().current_id
        stale = [t for t in tokens("ab_user", "mobile") if not t.startswith(f"v1.{current}.")]
        assert stale
        assert rotation.rotate_column(spec, batch=2) == len(stale)
        assert rotation.rotate_column(spec) == 0  # nothing left: running again is harmless


def test_personal_values_inside_documents_are_re_encrypted(app):
    from lowcode import form_service, publishing
    from lowcode.crypto import keys
    from lowcode.models import FormDraft

    with app.test_request_context():
        form = form_service.form_for(publishing.current_tree().packs["nmv"], "forms/payloads/red_label_rider")
        officer = db.session.scalar(select(Officer).where(Officer.username == "pda_minhang"))
        draft = FormDraft(owner_id=officer.id, pack_code="nmv", form_key="forms/payloads/red_label_rider",
                          business_key="ROT-DOC", form_title="t", saved_at=intake.clock.now(), dept_path="/",
                          data=personal.protect_form(form, {"rider": {"name": "赵六", "id_card": "11010519491231002X"}}))
        db.session.add(draft)
        db.session.commit()
        keys.rotate_master_key(app.config["INSTANCE_PATH"])
        keyring.reset()
        counts = rotation.rotate_all(batch=2)
        assert counts["form_draft.data"] >= 1
        db.session.expire_all()
        data = db.session.get(FormDraft, draft.id).data
        assert data["rider"]["id_card"].startswith(f"v1.{keyring.keyring().current_id}.")
        assert personal.reveal_form(form, data)["rider"] == {"name": "赵六", "id_card": "11010519491231002X"}
        assert rotation.rotate_all()["form_draft.data"] == 0
        from lowcode.models import PersonalIndex

        current = keyring.keyring().current_id
        assert all(i.startswith(f"{current}.") for i in db.session.scalars(select(PersonalIndex.value_index)))


def test_values_left_in_clear_from_before_encryption_are_encrypted(app):
    with app.test_request_context():
        officer_id = db.session.scalar(select(Officer.id).where(Officer.username == "zd_jinshan"))
        db.session.execute(text("UPDATE ab_user SET mobile = '13600001234', mobile_index = NULL WHERE id = :i"),
                           {"i": officer_id})
        db.session.commit()
        [spec] = [c for c in rotation.encrypted_columns() if c.table.name == "ab_user"]
        rotation.rotate_column(spec)
        stored = db.session.execute(text("SELECT mobile FROM ab_user WHERE id = :i"), {"i": officer_id}).scalar()
        assert stored.startswith(f"v1.{keyring.keyring().current_id}.")
        db.session.expire_all()
        assert personal.reveal(db.session.get(Officer, officer_id), "mobile") == "13600001234"
