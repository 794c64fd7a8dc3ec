"""Personal-data fields: SM4-GCM encryption, blind indexes for exact search, and masking.

A field value is stored as a text token `v1.<key id>.<base64url(nonce | ciphertext | tag)>`:
SM4-GCM with a random 96-bit nonce, under the key derived for "field:sm4" from the master key
the token names. The associated data binds the value to its place (table, column, row id), so a
ciphertext copied into another row or column fails to decrypt instead of leaking there.

Bind to an id the row has *before* it is written (a UUID or natural key), or encrypt after the
flush that assigns an autoincrement id: the same associated data must be given to decrypt.

Encrypted columns cannot be searched; a *blind index* column next to one can: an HMAC-SM3 of
the normalised value under a per-column key, equal for equal values, meaningless without the
key. It carries its key id like a token does; `blind_index_candidates` gives the values to look
for while a rotation is under way.
"""
from __future__ import annotations

import base64
import binascii
import hmac as _hmac
import os
import re
import unicodedata
from typing import Callable, Optional

import gmssl_pyx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _sm3_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lowcode.crypto.errors import DecryptionError, MalformedToken
from lowcode.crypto.keys import KEY_ID_PATTERN, Keyring

VERSION = "v1"
FIELD_PURPOSE = "field:sm4"
# 96 bits, GCM's native size. Random nonces stay safe up to ~2^32 encryptions per key (NIST SP
# 800-38D): rotate the master key long before that many values have been written.
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_BYTES = 16  # 128 bits of HMAC-SM3: no accidental collisions, half the width of the full MAC
# Values up to this size (names, ID and phone numbers) are sealed by GmSSL (gmssl-pyx), whose
# SM4-GCM is the same algorithm (same bytes for the same nonce) with less set-up per call than
# OpenSSL's; longer ones, where OpenSSL's throughput wins, by `cryptography`.
SHORT_BYTES = 256
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_NAME_FORBIDDEN = re.compile(r"[|.:\s]")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.match(text):
        raise MalformedToken("token data is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken("token data is not base64url") from None
    if _b64encode(data) != text:  # one token, one spelling
        raise MalformedToken("token data is not canonical base64url")
    return data


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name or _NAME_FORBIDDEN.search(name):
        raise ValueError(f"invalid {kind} name {name!r}: non-empty, without | . : or spaces")
    return name


def field_context(table: str, column: str, row_id) -> bytes:
    """Associated data binding a value to its place, e.g. b"ab_user|mobile|42"."""
    row = str(row_id)
    if row_id is None or not row:
        raise ValueError("row_id is required: bind the value to its row")
    return f"{_check_name('table', table)}|{_check_name('column', column)}|{row}".encode("utf-8")


def _header(key_id: str) -> str:
    return f"{VERSION}.{key_id}."


def _aad(key_id: str, associated_data: bytes) -> bytes:
    # The header joins the associated data so the version and key id are authenticated too.
    if not isinstance(associated_data, (bytes, bytearray, memoryview)):
        raise TypeError("associated_data must be bytes, e.g. field_context(table, column, row_id)")
    return _header(key_id).encode("ascii") + bytes(associated_data)


def _parse(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise MalformedToken(f"a token is a str, not {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise MalformedToken(f"not a {VERSION} field token")
    if not KEY_ID_PATTERN.match(parts[1]):
        raise MalformedToken("invalid key id in token")
    data = _b64decode(parts[2])
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise MalformedToken("token too short")
    return parts[1], data


def token_key_id(token: str) -> str:
    """The id of the master key a token was encrypted under."""
    return _parse(token)[0]


def token_length(plaintext_bytes: int, key_id_length: int = 8) -> int:
    """Length of the token for a UTF-8 plaintext of this many bytes: for sizing columns."""
    data = NONCE_BYTES + plaintext_bytes + TAG_BYTES
    return len(VERSION) + 1 + key_id_length + 1 + (4 * data + 2) // 3


def encrypt_field(keyring: Keyring, plaintext: str, associated_data: bytes, *,
                  key_id: Optional[str] = None) -> str:
    """Encrypt `plaintext` under the current key (or `key_id`); returns a text token."""
    if not isinstance(plaintext, str):
        raise TypeError(f"plaintext must be str, not {type(plaintext).__name__}")
    key_id = keyring.current_id if key_id is None else key_id
    key = keyring.derive(FIELD_PURPOSE, key_id=key_id, length=16)
    nonce = os.urandom(NONCE_BYTES)  # the OS CSPRNG; never a counter shared across processes
    data, aad = plaintext.encode("utf-8"), _aad(key_id, associated_data)
    if 0 < len(data) <= SHORT_BYTES:  # GmSSL refuses an empty plaintext
        ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(key, nonce, aad, data)
        return _header(key_id) + _b64encode(nonce + ciphertext + tag)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(data) + encryptor.finalize()
    return _header(key_id) + _b64encode(nonce + ciphertext + encryptor.tag)


def decrypt_field(keyring: Keyring, token: str, associated_data: bytes) -> str:
    """Decrypt a token with the key it names, verifying its tag and the associated data.

    Raises MalformedToken, UnknownKeyId (key not in the ring) or DecryptionError.
    """
    key_id, data = _parse(token)
    key = keyring.derive(FIELD_PURPOSE, key_id=key_id, length=16)
    nonce, ciphertext, tag = data[:NONCE_BYTES], data[NONCE_BYTES:-TAG_BYTES], data[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(_aad(key_id, associated_data))
    try:
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError(
            "field token failed authentication: wrong table/column/row binding, or tampered"
        ) from None
    return plaintext.decode("utf-8")


def needs_reencryption(keyring: Keyring, token: str) -> bool:
    """True when the token is under a key other than the current one."""
    return token_key_id(token) != keyring.current_id


def reencrypt_field(keyring: Keyring, token: str, associated_data: bytes) -> str:
    """The token under the current key: decrypted with whatever key it names, then re-encrypted.

    A token already under the current key is verified and returned unchanged (no needless write).
    """
    plaintext = decrypt_field(keyring, token, associated_data)
    if token_key_id(token) == keyring.current_id:
        return token
    return encrypt_field(keyring, plaintext, associated_data)


# --- normalisation, for blind indexes and masking ----------------------------------------------

def normalise_text(value: str) -> str:
    """NFKC (full-width to half-width), trimmed, inner whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def normalise_id_number(value: str) -> str:
    """身份证号: NFKC, every space removed, the check character x upper-cased to X."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


_MOBILE_PUNCTUATION = re.compile(r"[\s\-()]")
_CHINA_PREFIX = re.compile(r"(?:\+86|0086|86)(1\d{10})\Z")


def normalise_mobile(value: str) -> str:
    """手机号: NFKC, spaces/dashes/brackets removed, a +86 / 0086 / 86 country prefix dropped."""
    digits = _MOBILE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", value))
    match = _CHINA_PREFIX.match(digits)
    return match.group(1) if match else digits


def blind_index(keyring: Keyring, table: str, column: str, value: str, *,
                normalise: Callable[[str], str] = normalise_text, key_id: Optional[str] = None) -> str:
    """`<key id>.<hex>`: HMAC-SM3 of the normalised value under the key for "index:<table>.<column>".

    Deterministic (that is the point: equal values, equal index) and different per column.
    """
    key_id = keyring.current_id if key_id is None else key_id
    purpose = f"index:{_check_name('table', table)}.{_check_name('column', column)}"
    mac = _sm3_hmac.HMAC(keyring.derive(purpose, key_id=key_id), hashes.SM3())
    mac.update(normalise(value).encode("utf-8"))
    return f"{key_id}.{mac.finalize()[:INDEX_BYTES].hex()}"


def blind_index_candidates(keyring: Keyring, table: str, column: str, value: str, *,
                           normalise: Callable[[str], str] = normalise_text) -> list[str]:
    """The value's index under every key of the ring, current first: search with `IN (...)`."""
    return [blind_index(keyring, table, column, value, normalise=normalise, key_id=key_id)
            for key_id in keyring.key_ids]


def index_matches(keyring: Keyring, stored: str, table: str, column: str, value: str, *,
                  normalise: Callable[[str], str] = normalise_text) -> bool:
    """Constant-time check of a stored index against a value, under the key the index names."""
    key_id = stored.partition(".")[0]
    if key_id not in keyring:
        return False
    expected = blind_index(keyring, table, column, value, normalise=normalise, key_id=key_id)
    return _hmac.compare_digest(expected.encode(), stored.encode())


# --- masking for display --------------------------------------------------------------------------

def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]


def mask_id_number(value: str) -> str:
    """身份证号: first 3 and last 4 kept, e.g. 310***********1234."""
    return _mask_middle(normalise_id_number(value), 3, 4) if value else value


def mask_mobile(value: str) -> str:
    """手机号: first 3 and last 4 kept, e.g. 138****5678."""
    return _mask_middle(normalise_mobile(value), 3, 4) if value else value


def mask_name(value: str) -> str:
    """姓名: the first character kept, one * per other character, e.g. 王* / 王**."""
    name = normalise_text(value) if value else value
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"
