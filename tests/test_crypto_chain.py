"""The HMAC-SM3 hash chain: tampering is found at the right position; signed checkpoints."""
import datetime

import pytest
from cryptography.hazmat.primitives import hashes, hmac

from lowcode.crypto import chain, keys, sm2
from lowcode.crypto.errors import InvalidSignature

RING = keys.Keyring("k1", {"k1": bytes(range(32))})
KEY = RING.derive(chain.CHAIN_PURPOSE)
GENESIS = chain.genesis_mac(KEY, "audit_event")
SIGNER = "audit-checkpoint@lowcode"


def build(records, key=KEY, genesis=GENESIS):
    """(record, mac) rows as an audit writer would store them."""
    rows, previous = [], genesis
    for record in records:
        previous = chain.link(previous, chain.canonical_record(record), key)
        rows.append((record, previous))
    return rows


def events(count=10):
    return [{"id": i, "action": "update", "actor": "王五", "object": f"case/{i}", "at": f"2026-11-05T10:{i:02d}:00"}
            for i in range(count)]


@pytest.fixture(scope="module")
def signer():
    return sm2.generate_keypair()


def test_canonical_record_is_order_independent_utf8_json():
    assert chain.canonical_record({"b": 1, "a": "王"}) == '{"a":"王","b":1}'.encode("utf-8")
    assert chain.canonical_record({"a": "王", "b": 1}) == chain.canonical_record({"b": 1, "a": "王"})
    with pytest.raises(TypeError):
        chain.canonical_record({"at": datetime.datetime(2026, 11, 5)})
    with pytest.raises(ValueError):
        chain.canonical_record({"x": float("nan")})


def test_link_is_hmac_sm3_of_previous_and_record():
    mac = hmac.HMAC(KEY, hashes.SM3())
    mac.update(GENESIS + b"record")
    assert chain.link(GENESIS, b"record", KEY) == mac.finalize()
    with pytest.raises(ValueError):
        chain.link(b"short", b"record", KEY)


def test_an_intact_chain_verifies():
    rows = build(events())
    assert chain.verify_chain(rows, KEY, GENESIS) is None
    assert chain.verify_chain([], KEY, GENESIS) is None
    assert chain.verify_chain([(chain.canonical_record(r), m.hex()) for r, m in rows], KEY, GENESIS) is None


def test_a_changed_record_is_found():
    rows = build(events())
    record, mac = rows[3]
    rows[3] = ({**record, "actor": "李四"}, mac)
    assert chain.verify_chain(rows, KEY, GENESIS) == 3


def test_a_changed_mac_is_found():
    rows = build(events())
    rows[6] = (rows[6][0], bytes(32))
    assert chain.verify_chain(rows, KEY, GENESIS) == 6


def test_a_deleted_record_is_found():
    rows = build(events())
    del rows[4]
    assert chain.verify_chain(rows, KEY, GENESIS) == 4
    assert chain.verify_chain(build(events())[1:], KEY, GENESIS) == 0  # the first one deleted


def test_an_inserted_record_is_found():
    rows = build(events())
    forged_previous = rows[4][1]
    forged = {"id": 99, "action": "delete", "actor": "intruder", "object": "case/4", "at": "2026-11-05T10:04:30"}
    # Without the key, the forger can only guess; with another key, the mac is still wrong.
    rows.insert(5, (forged, chain.link(forged_previous, chain.canonical_record(forged), bytes(32))))
    assert chain.verify_chain(rows, KEY, GENESIS) == 5


def test_reordered_records_are_found():
    rows = build(events())
    rows[2], rows[3] = rows[3], rows[2]
    assert chain.verify_chain(rows, KEY, GENESIS) == 2


def test_another_key_or_genesis_fails_at_the_start():
    rows = build(events())
    assert chain.verify_chain(rows, RING.derive("audit:other"), GENESIS) == 0
    assert chain.verify_chain(rows, KEY, chain.genesis_mac(KEY, "another_log")) == 0


def test_truncation_is_found_only_against_a_checkpoint():
    rows = build(events())
    head = (9, rows[9][1])
    assert chain.verify_chain(rows, KEY, GENESIS, head=head) is None
    assert chain.verify_chain(rows[:7], KEY, GENESIS) is None  # a shorter chain is still a chain
    assert chain.verify_chain(rows[:7], KEY, GENESIS, head=head) == 7  # first missing position


def test_a_rewritten_chain_that_does_not_reach_the_checkpoint_is_found():
    rows = build(events())
    head = (5, rows[5][1])
    rewritten = build([{**e, "actor": "李四"} if e["id"] == 2 else e for e in events()])  # by a key holder
    assert chain.verify_chain(rewritten, KEY, GENESIS) is None
    assert chain.verify_chain(rewritten, KEY, GENESIS, head=head) == 5


def test_records_appended_after_a_checkpoint_verify():
    all_rows = build(events(15))
    head = (9, all_rows[9][1])
    assert chain.verify_chain(all_rows, KEY, GENESIS, head=head) is None


def test_checkpoint_signatures(signer):
    rows = build(events())
    position, mac = 9, rows[9][1]
    signature = chain.sign_checkpoint(position, mac, signer, SIGNER)
    chain.verify_checkpoint(position, mac, signature, signer.public_key, SIGNER)

    with pytest.raises(InvalidSignature):
        chain.verify_checkpoint(8, mac, signature, signer.public_key, SIGNER)  # another position
    with pytest.raises(InvalidSignature):
        chain.verify_checkpoint(position, rows[8][1], signature, signer.public_key, SIGNER)  # another mac
    with pytest.raises(InvalidSignature):
        chain.verify_checkpoint(position, mac, signature, signer.public_key, "someone-else")
    with pytest.raises(InvalidSignature):
        chain.verify_checkpoint(position, mac, signature, sm2.generate_keypair().public_key, SIGNER)
    flipped = bytearray(signature)
    flipped[10] ^= 0x40
    with pytest.raises(InvalidSignature):
        chain.verify_checkpoint(position, mac, bytes(flipped), signer.public_key, SIGNER)


def test_checkpoint_message_is_fixed():
    assert chain.checkpoint_message(7, bytes(32)) == b"lowcode/chain-checkpoint/v1|7|" + b"00" * 32
    for bad in [(-1, bytes(32)), (True, bytes(32)), (1, bytes(31))]:
        with pytest.raises(ValueError):
            chain.checkpoint_message(*bad)


def test_a_verified_checkpoint_pins_the_chain(signer):
    rows = build(events())
    head = (9, rows[9][1])  # stored elsewhere together with its signature
    signature = chain.sign_checkpoint(*head, signer, SIGNER)
    del rows[-2:]  # an intruder drops the two newest records
    chain.verify_checkpoint(*head, signature, signer.public_key, SIGNER)
    assert chain.verify_chain(rows, KEY, GENESIS, head=head) == 8
