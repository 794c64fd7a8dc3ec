"""Personal-data fields: SM4-GCM tokens, rotation, blind indexes and masking."""
import base64

import gmssl_pyx
import pytest

from lowcode.crypto import fields, keys
from lowcode.crypto.errors import DecryptionError, MalformedToken, UnknownKeyId

OLD = keys.Keyring("k1", {"k1": bytes(range(32))})
BOTH = keys.Keyring("k2", {"k1": bytes(range(32)), "k2": bytes(range(100, 132))})
NEW_ONLY = keys.Keyring("k2", {"k2": bytes(range(100, 132))})
HERE = fields.field_context("ab_user", "mobile", 42)


def raw(token):
    data = token.split(".")[2]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def test_field_context_binds_table_column_and_row():
    assert HERE == b"ab_user|mobile|42"
    for bad in [("ab|user", "mobile", 1), ("ab_user", "mo.bile", 1), ("", "mobile", 1), ("t", "c", None),
                ("t", "c", "")]:
        with pytest.raises(ValueError):
            fields.field_context(*bad)


def test_round_trip_and_token_shape():
    for value in ["13812345678", "", "王小明", "310101199001011234", "x" * 500]:
        token = fields.encrypt_field(OLD, value, HERE)
        assert token.startswith("v1.k1.")
        assert len(token) == fields.token_length(len(value.encode()), key_id_length=2)
        assert fields.decrypt_field(OLD, token, HERE) == value
    phone = fields.encrypt_field(OLD, "13812345678", HERE)
    assert len(phone) == 3 + 3 + 52  # "v1." "k1." + base64url of 12 + 11 + 16 bytes
    assert "13812345678" not in phone


def test_each_encryption_uses_a_fresh_nonce():
    tokens = {fields.encrypt_field(OLD, "13812345678", HERE) for _ in range(200)}
    assert len(tokens) == 200
    assert len({raw(t)[:12] for t in tokens}) == 200


def test_token_decrypts_with_gmssl_pyx_as_plain_sm4_gcm():
    # An independent implementation (GmSSL) reads the token: it is standard SM4-GCM, nothing more.
    token = fields.encrypt_field(OLD, "13812345678", HERE)
    data = raw(token)
    key = keys.derive_key(OLD.master_key("k1"), "field:sm4", 16)
    plaintext = gmssl_pyx.sm4_gcm_decrypt(key, data[:12], b"v1.k1." + HERE, data[12:-16], data[-16:])
    assert plaintext == b"13812345678"


@pytest.mark.parametrize("size", [1, 11, fields.SHORT_BYTES, fields.SHORT_BYTES + 1, 600])
def test_short_and_long_values_are_the_same_sm4_gcm_for_openssl_and_gmssl(size):
    # Short values are sealed by GmSSL and long ones by OpenSSL: each library opens the other's.
    value = ("号" * size)[: size // 3] + "x" * (size - 3 * (size // 3))
    assert len(value.encode()) == size
    data = raw(fields.encrypt_field(OLD, value, HERE))
    key = keys.derive_key(OLD.master_key("k1"), "field:sm4", 16)
    assert gmssl_pyx.sm4_gcm_decrypt(key, data[:12], b"v1.k1." + HERE, data[12:-16], data[-16:]) == value.encode()
    assert fields.decrypt_field(OLD, fields.encrypt_field(OLD, value, HERE), HERE) == value


@pytest.mark.parametrize("other", [
    b"ab_user|mobile|43",  # another row
    b"ab_user|id_no|42",  # another column
    b"other_table|mobile|42",  # another table
    b"",
])
def test_wrong_associated_data_fails(other):
    token = fields.encrypt_field(OLD, "13812345678", HERE)
    with pytest.raises(DecryptionError, match="failed authentication"):
        fields.decrypt_field(OLD, token, other)


def test_tampering_anywhere_fails():
    token = fields.encrypt_field(OLD, "13812345678", HERE)
    data = bytearray(raw(token))
    for position in range(len(data)):  # nonce, ciphertext and tag bytes alike
        changed = bytearray(data)
        changed[position] ^= 0x01
        forged = "v1.k1." + base64.urlsafe_b64encode(bytes(changed)).rstrip(b"=").decode()
        with pytest.raises(DecryptionError):
            fields.decrypt_field(OLD, forged, HERE)
    truncated = "v1.k1." + base64.urlsafe_b64encode(bytes(data[:-1])).rstrip(b"=").decode()
    with pytest.raises(DecryptionError):
        fields.decrypt_field(OLD, truncated, HERE)


def test_a_token_moved_to_another_key_id_fails():
    token = fields.encrypt_field(BOTH, "13812345678", HERE, key_id="k1")
    with pytest.raises(DecryptionError):
        fields.decrypt_field(BOTH, token.replace("v1.k1.", "v1.k2."), HERE)


@pytest.mark.parametrize("token", [
    "", "13812345678", "v2.k1.AAAA", "v1.k1", "v1.k1.a.b", "v1.bad id.AAAA", "v1.k1.!!!!", "v1.k1.AAAA",
    "v1.k1." + "A" * 37,  # not a valid base64 length
])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(MalformedToken):
        fields.decrypt_field(OLD, token, HERE)


def test_non_canonical_base64_is_refused():
    token = fields.encrypt_field(OLD, "1", HERE)  # 29 bytes: the last base64 character has spare bits
    data = token.split(".")[2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = data[:-1] + alphabet[alphabet.index(data[-1]) ^ 1]
    with pytest.raises(MalformedToken, match="canonical"):
        fields.decrypt_field(OLD, "v1.k1." + sibling, HERE)


def test_non_strings_are_refused():
    with pytest.raises(TypeError):
        fields.encrypt_field(OLD, 13812345678, HERE)
    with pytest.raises(MalformedToken):
        fields.decrypt_field(OLD, b"v1.k1.AAAA", HERE)
    with pytest.raises(TypeError, match="associated_data"):
        fields.encrypt_field(OLD, "13812345678", "ab_user|mobile|42")


def test_rotation_reencrypts_under_the_current_key():
    old_token = fields.encrypt_field(OLD, "13812345678", HERE)
    assert fields.needs_reencryption(BOTH, old_token)
    assert fields.decrypt_field(BOTH, old_token, HERE) == "13812345678"  # old key still in the ring

    new_token = fields.reencrypt_field(BOTH, old_token, HERE)
    assert fields.token_key_id(new_token) == "k2" and not fields.needs_reencryption(BOTH, new_token)
    assert fields.decrypt_field(NEW_ONLY, new_token, HERE) == "13812345678"
    assert fields.reencrypt_field(BOTH, new_token, HERE) == new_token  # already current: unchanged

    with pytest.raises(UnknownKeyId):  # once the old key is retired, its tokens are unreadable
        fields.decrypt_field(NEW_ONLY, old_token, HERE)
    with pytest.raises(DecryptionError):  # rotation refuses to launder a tampered token
        fields.reencrypt_field(BOTH, old_token, b"ab_user|mobile|99")


# --- blind indexes -----------------------------------------------------------------------------

def test_blind_index_is_deterministic_after_normalisation():
    index = fields.blind_index(OLD, "ab_user", "id_no", "31010119900101123X", normalise=fields.normalise_id_number)
    for spelling in ["31010119900101123x", " 310101 19900101 123x ", "３１０１０１１９９００１０１１２３ｘ",
                     "310101\u300019900101123X"]:
        assert fields.blind_index(OLD, "ab_user", "id_no", spelling, normalise=fields.normalise_id_number) == index
    assert index.startswith("k1.") and len(index) == 3 + 32
    int(index[3:], 16)
    assert fields.blind_index(OLD, "ab_user", "id_no", "310101199001011230",
                              normalise=fields.normalise_id_number) != index


def test_blind_index_mobile_normalisation():
    index = fields.blind_index(OLD, "ab_user", "mobile", "13812345678", normalise=fields.normalise_mobile)
    for spelling in ["138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", "008613812345678"]:
        assert fields.blind_index(OLD, "ab_user", "mobile", spelling, normalise=fields.normalise_mobile) == index


def test_blind_index_differs_per_column_table_and_key():
    value = "13812345678"
    base = fields.blind_index(OLD, "ab_user", "mobile", value)
    assert fields.blind_index(OLD, "ab_user", "phone", value) != base
    assert fields.blind_index(OLD, "driver", "mobile", value) != base
    assert fields.blind_index(BOTH, "ab_user", "mobile", value, key_id="k1") == base
    assert fields.blind_index(BOTH, "ab_user", "mobile", value).split(".")[1] != base.split(".")[1]


def test_blind_index_candidates_cover_a_rotation():
    stored_old = fields.blind_index(OLD, "ab_user", "mobile", "13812345678")
    candidates = fields.blind_index_candidates(BOTH, "ab_user", "mobile", "13812345678")
    assert candidates[0].startswith("k2.") and stored_old in candidates and len(candidates) == 2
    assert fields.index_matches(BOTH, stored_old, "ab_user", "mobile", "13812345678")
    assert not fields.index_matches(BOTH, stored_old, "ab_user", "mobile", "13812345679")
    assert not fields.index_matches(NEW_ONLY, stored_old, "ab_user", "mobile", "13812345678")


# --- masking -------------------------------------------------------------------------------------

def test_mask_id_number():
    assert fields.mask_id_number("310101199001011234") == "310***********1234"
    assert fields.mask_id_number("31010119900101123x") == "310***********123X"
    assert fields.mask_id_number("310101900101123") == "310********1123"  # 15-digit old format
    assert fields.mask_id_number("123456") == "******"
    assert fields.mask_id_number("") == ""


def test_mask_mobile():
    assert fields.mask_mobile("13812345678") == "138****5678"
    assert fields.mask_mobile("+86 138-1234-5678") == "138****5678"
    assert fields.mask_mobile("12345") == "*****"


def test_mask_name():
    assert fields.mask_name("王五") == "王*"
    assert fields.mask_name("王小明") == "王**"
    assert fields.mask_name("欧阳娜娜") == "欧***"
    assert fields.mask_name("王") == "*"
    assert fields.mask_name(" 王五 ") == "王*"
    assert fields.mask_name("") == ""
