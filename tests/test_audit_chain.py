"""The audit trail is an HMAC-SM3 chain with SM2 checkpoints: any change, deletion or insertion
is found and named by position, on SQLite and PostgreSQL; concurrent writers never fork it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, insert, select, update
from gmssl import sm3 as gm_sm3_module

from lowcode import audit, audit_chain, keyring
from lowcode.crypto import chain
from lowcode.extensions import db
from lowcode.models import AuditChainHead, AuditCheckpoint, AuditEvent

EVENTS = AuditEvent.__table__


def findings(app):
    with app.app_context(), db.engine.begin() as connection:
        return audit_chain.verify(connection)


def write_events(app, count: int, label: str = "测试") -> list[int]:
    with app.app_context():
        for n in range(count):
            audit.record("test_event", "Chain", n, f"{label} {n}", after={"n": n, "名称": label})
        db.session.commit()
        return list(db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(count)))[::-1]


@pytest.fixture()
def chain_rows(app):
    """A few fresh rows; whatever a test tampers with is put back afterwards."""
    seqs = write_events(app, 5)
    with app.app_context():
        saved = [dict(r._mapping) for r in db.session.execute(
            select(EVENTS).where(EVENTS.c.seq.in_(seqs)).order_by(EVENTS.c.seq))]
    yield seqs
    with app.app_context():
        db.session.execute(delete(EVENTS).where(EVENTS.c.seq.in_(seqs) | EVENTS.c.seq.is_(None)
                                                | (EVENTS.c.seq > seqs[-1])))
        db.session.execute(insert(EVENTS), saved)
        db.session.execute(update(AuditChainHead.__table__).values(seq=seqs[-1], mac=saved[-1]["mac"]))
        db.session.commit()
    assert findings(app) == []


def gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3_module.sm3_hash(list(data)))


def gm_hmac_sm3(key: bytes, message: bytes) -> bytes:
    key = key.ljust(64, b"\x00")
    return gm_sm3(bytes(b ^ 0x5C for b in key) + gm_sm3(bytes(b ^ 0x36 for b in key) + message))


def test_an_intact_trail_verifies_and_every_row_is_chained(app, chain_rows):
    assert findings(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EVENTS).where(EVENTS.c.seq.is_(None))) == 0
        seqs = list(db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        assert seqs == list(range(1, len(seqs) + 1))


def test_the_mac_is_hmac_sm3_over_the_previous_mac_and_the_content_in_gmssl(app, chain_rows):
    with app.app_context():
        previous, row = db.session.execute(select(EVENTS).where(EVENTS.c.seq.in_(chain_rows[1:3]))
                                           .order_by(EVENTS.c.seq)).all()
        key_id, _, mac = row.mac.partition(".")
        key = keyring.keyring().derive(chain.CHAIN_PURPOSE, key_id=key_id)
        expected = gm_hmac_sm3(key, bytes.fromhex(previous.mac.partition(".")[2]) + audit_chain.content(row))
        assert expected.hex() == mac


def test_a_changed_record_is_named(app, chain_rows):
    with app.app_context():
        db.session.execute(update(EVENTS).where(EVENTS.c.seq == chain_rows[2]).values(summary="篡改"))
        db.session.commit()
    [finding] = findings(app)
    assert (finding.kind, finding.position) == ("changed", chain_rows[2])


def test_a_changed_json_value_is_named(app, chain_rows):
    with app.app_context():
        db.session.execute(update(EVENTS).where(EVENTS.c.seq == chain_rows[1]).values(after={"n": 99}))
        db.session.commit()
    assert findings(app)[0].position == chain_rows[1]


def test_a_deleted_record_is_named(app, chain_rows):
    with app.app_context():
        db.session.execute(delete(EVENTS).where(EVENTS.c.seq == chain_rows[3]))
        db.session.commit()
    first = findings(app)[0]
    assert (first.kind, first.position) == ("deleted", chain_rows[3])


def test_an_inserted_record_is_named(app, chain_rows):
    with app.app_context():
        forged = {"at": audit_chain.clock.now(), "actor_name": "某人", "dept_path": "/", "action": "login",
                  "object_type": "Officer", "summary": "伪造"}
        db.session.execute(insert(EVENTS).values(**forged))
        db.session.commit()
    first = findings(app)[0]
    assert first.kind == "inserted" and first.position == chain_rows[-1] + 1


def test_a_record_inserted_into_the_middle_is_named(app, chain_rows):
    """Renumber the tail to make room and insert a row with a made-up mac: the chain breaks there."""
    with app.app_context():
        for seq in reversed(chain_rows[2:]):
            db.session.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(seq=seq + 1))
        row = dict(db.session.execute(select(EVENTS).where(EVENTS.c.seq == chain_rows[1])).one()._mapping)
        row.pop("id")
        db.session.execute(insert(EVENTS).values(**{**row, "seq": chain_rows[2], "summary": "插入"}))
        db.session.commit()
    first = findings(app)[0]
    assert (first.kind, first.position) == ("changed", chain_rows[2])


def test_truncation_with_a_rewound_head_is_caught_by_the_signed_checkpoint(app, chain_rows):
    with app.app_context(), db.engine.begin() as connection:
        assert audit_chain.checkpoint_now(connection) == chain_rows[-1]
    with app.app_context():
        last = db.session.execute(select(EVENTS).where(EVENTS.c.seq == chain_rows[-2])).one()
        db.session.execute(delete(EVENTS).where(EVENTS.c.seq == chain_rows[-1]))
        db.session.execute(update(AuditChainHead.__table__).values(seq=last.seq, mac=last.mac))
        db.session.commit()
    first = findings(app)[0]
    assert (first.kind, first.position) == ("deleted", chain_rows[-1])
    with app.app_context():  # the checkpoint of this test is dropped with the rows it pinned
        db.session.execute(delete(AuditCheckpoint.__table__).where(AuditCheckpoint.seq == chain_rows[-1]))
        db.session.commit()


def test_a_forged_checkpoint_signature_is_named(app, chain_rows):
    with app.app_context(), db.engine.begin() as connection:
        audit_chain.checkpoint_now(connection)
        connection.execute(update(AuditCheckpoint.__table__).where(AuditCheckpoint.seq == chain_rows[-1])
                           .values(signature="30" + "00" * 10))
    assert [f.kind for f in findings(app)] == ["checkpoint"]
    with app.app_context():
        db.session.execute(delete(AuditCheckpoint.__table__).where(AuditCheckpoint.seq == chain_rows[-1]))
        db.session.commit()


def test_checkpoints_are_signed_periodically(app):
    with app.app_context():
        every = app.config["AUDIT_CHECKPOINT_EVERY"]
        app.config["AUDIT_CHECKPOINT_EVERY"] = 3
        try:
            seqs = write_events(app, 4, "检查点")
        finally:
            app.config["AUDIT_CHECKPOINT_EVERY"] = every
        pinned = set(db.session.scalars(select(AuditCheckpoint.seq)))
        assert pinned & set(seqs)
    assert findings(app) == []


def test_concurrent_writers_do_not_fork_the_chain(app):
    errors = []

    def writer(n: int) -> None:
        try:
            write_events(app, 8, f"并发{n}")
        except Exception as error:  # reported below: a failure in a thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert findings(app) == []


def test_verify_audit_command_names_the_first_bad_position(app, chain_rows):
    runner = app.test_cli_runner()
    from lowcode.security_cli import verify_audit_command

    assert runner.invoke(verify_audit_command).exit_code == 0
    with app.app_context():
        db.session.execute(update(EVENTS).where(EVENTS.c.seq == chain_rows[0]).values(actor_name="别人"))
        db.session.commit()
    result = runner.invoke(verify_audit_command)
    assert result.exit_code == 1
    assert f"第一个问题在第 {chain_rows[0]} 条" in result.output
