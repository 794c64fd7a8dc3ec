"""Master keys: from the environment, a key file, or the embedded instance directory; rotation."""
import os
import stat
import threading

import pytest

from lowcode.crypto import fields, keys
from lowcode.crypto.errors import KeyringError, UnknownKeyId

HEX_A = "11" * 32
HEX_B = "22" * 32


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_environment_key_with_and_without_id(tmp_path):
    ring = keys.load_keyring(tmp_path, {"LOWCODE_MASTER_KEY": HEX_A})
    assert ring.current_id == keys.key_fingerprint(bytes.fromhex(HEX_A))
    assert ring.master_key() == bytes.fromhex(HEX_A)

    ring = keys.load_keyring(tmp_path, {"LOWCODE_MASTER_KEY": f"k2026:{HEX_B}, k2025:{HEX_A}"})
    assert ring.current_id == "k2026"
    assert ring.key_ids == ("k2026", "k2025")
    assert ring.master_key("k2025") == bytes.fromhex(HEX_A)
    assert not (tmp_path / "keys").exists()  # an environment key never touches the instance folder


def test_key_file_first_line_is_current(tmp_path):
    key_file = tmp_path / "ring.txt"
    key_file.write_text(f"# rotated 2026-11\nnew:{HEX_B}\n\nold:{HEX_A}  # kept for reading\n")
    ring = keys.load_keyring(tmp_path / "instance", {"LOWCODE_MASTER_KEY_FILE": str(key_file)})
    assert ring.current_id == "new" and set(ring.key_ids) == {"new", "old"}


def test_environment_wins_over_key_file(tmp_path):
    key_file = tmp_path / "ring.txt"
    key_file.write_text(f"file:{HEX_B}\n")
    ring = keys.load_keyring(tmp_path, {"LOWCODE_MASTER_KEY": f"env:{HEX_A}",
                                        "LOWCODE_MASTER_KEY_FILE": str(key_file)})
    assert ring.key_ids == ("env",)


@pytest.mark.parametrize("value", ["zz" * 32, "11" * 8, "11" * 65, "bad.id:" + HEX_A, f"a:{HEX_A},a:{HEX_B}", ","])
def test_malformed_keys_are_refused(tmp_path, value):
    with pytest.raises(KeyringError):
        keys.load_keyring(tmp_path, {"LOWCODE_MASTER_KEY": value})


def test_missing_key_file_is_a_clear_error(tmp_path):
    with pytest.raises(KeyringError, match="cannot read key file"):
        keys.load_keyring(tmp_path, {"LOWCODE_MASTER_KEY_FILE": str(tmp_path / "nope")})


def test_embedded_key_is_generated_once_and_private(tmp_path):
    first = keys.load_keyring(tmp_path, {})
    key_file = tmp_path / "keys" / "master.key"
    assert mode(key_file) == 0o600
    assert mode(tmp_path / "keys") & 0o077 == 0
    assert len(first.master_key()) == 32
    second = keys.load_keyring(tmp_path, {})
    assert (second.current_id, second.master_key()) == (first.current_id, first.master_key())
    assert key_file.read_text().strip() == f"{first.current_id}:{first.master_key().hex()}"


def test_embedded_key_is_not_created_when_creation_is_off(tmp_path):
    with pytest.raises(KeyringError, match="no master key"):
        keys.load_keyring(tmp_path, {}, create=False)
    assert not (tmp_path / "keys" / "master.key").exists()


def test_concurrent_first_loads_agree_on_one_key(tmp_path):
    results, barrier = [], threading.Barrier(8)

    def load():
        barrier.wait()
        results.append(keys.load_keyring(tmp_path, {}).master_key())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["master.key"]  # no temp files left


def test_a_loosened_key_file_is_refused(tmp_path):
    keys.load_keyring(tmp_path, {})
    os.chmod(tmp_path / "keys" / "master.key", 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        keys.load_keyring(tmp_path, {})


def test_rotation_keeps_old_keys_readable(tmp_path):
    before = keys.load_keyring(tmp_path, {})
    context = fields.field_context("ab_user", "mobile", 42)
    old_token = fields.encrypt_field(before, "13812345678", context)

    new_id = keys.rotate_master_key(tmp_path)
    after = keys.load_keyring(tmp_path, {})
    assert after.current_id == new_id != before.current_id
    assert set(after.key_ids) == {before.current_id, new_id}
    assert after.master_key(before.current_id) == before.master_key()
    assert mode(tmp_path / "keys" / f"master-{new_id}.key") == 0o600
    assert mode(tmp_path / "keys" / f"master-{before.current_id}.key") == 0o600
    assert fields.decrypt_field(after, old_token, context) == "13812345678"
    assert fields.token_key_id(fields.encrypt_field(after, "x", context)) == new_id

    third = keys.rotate_master_key(tmp_path)
    assert set(keys.load_keyring(tmp_path, {}).key_ids) == {before.current_id, new_id, third}


def test_two_phase_rotation(tmp_path):
    first = keys.load_keyring(tmp_path, {}).current_id
    staged = keys.create_master_key(tmp_path, make_current=False, key_id="staged-2026")
    ring = keys.load_keyring(tmp_path, {})
    assert ring.current_id == first and "staged-2026" in ring
    keys.set_current_master_key(tmp_path, staged)
    ring = keys.load_keyring(tmp_path, {})
    assert ring.current_id == "staged-2026" and first in ring
    with pytest.raises(UnknownKeyId):
        keys.set_current_master_key(tmp_path, "never-made")
    with pytest.raises(KeyringError, match="already exists"):
        keys.create_master_key(tmp_path, key_id="staged-2026")


def test_an_archived_key_file_with_a_mismatched_name_is_refused(tmp_path):
    keys.load_keyring(tmp_path, {})
    path = tmp_path / "keys" / "master-other.key"
    path.write_text(f"someid:{HEX_A}\n")
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="must agree"):
        keys.load_keyring(tmp_path, {})


def test_keyring_never_shows_key_material():
    ring = keys.Keyring("a", {"a": bytes.fromhex(HEX_A), "b": bytes.fromhex(HEX_B)})
    assert HEX_A not in repr(ring) and "11111111" not in repr(ring)
    assert repr(ring) == "Keyring(current_id='a', key_ids=['a', 'b'])"
    with pytest.raises(UnknownKeyId):
        ring.master_key("c")
    with pytest.raises(KeyringError):
        keys.Keyring("c", {"a": bytes.fromhex(HEX_A)})


def test_derived_keys_depend_on_purpose_and_key_id():
    ring = keys.Keyring("a", {"a": bytes.fromhex(HEX_A), "b": bytes.fromhex(HEX_B)})
    assert ring.derive("field:sm4", length=16) == keys.derive_key(bytes.fromhex(HEX_A), "field:sm4", 16)
    assert ring.derive("field:sm4") != ring.derive("audit:chain")
    assert ring.derive("field:sm4") != ring.derive("field:sm4", key_id="b")
    assert ring.derive("index:t.c") is ring.derive("index:t.c")  # cached
