"""SM3, SM4, HMAC-SM3 and HKDF-SM3: GM/T standard vectors, and cross-checks against gmssl.

gmssl (pure Python) is used only here, as an implementation independent of OpenSSL and GmSSL.
"""
import os
import random

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm3 as gm_sm3_module
from gmssl import sm4 as gm_sm4_module

from lowcode.crypto import keys

SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3_module.sm3_hash(list(data)))


def gm_hmac_sm3(key: bytes, message: bytes) -> bytes:
    """RFC 2104 HMAC on gmssl's SM3 (block size 64)."""
    if len(key) > 64:
        key = gm_sm3(key)
    key = key.ljust(64, b"\x00")
    inner = gm_sm3(bytes(b ^ 0x36 for b in key) + message)
    return gm_sm3(bytes(b ^ 0x5C for b in key) + inner)


def gm_hkdf_sm3(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF on gmssl's SM3."""
    prk = gm_hmac_sm3(salt, ikm)
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = gm_hmac_sm3(prk, block + info + bytes([counter]))
        okm, counter = okm + block, counter + 1
    return okm[:length]


def gm_sm4_ecb(key: bytes, data: bytes) -> bytes:
    cipher = gm_sm4_module.CryptSM4()
    cipher.set_key(key, gm_sm4_module.SM4_ENCRYPT)
    return cipher.crypt_ecb(data)[:len(data)]  # drop the padding block gmssl always adds


def sm4_ecb(key: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def random_inputs(count=40, seed=20261105):
    rng = random.Random(seed)
    # Lengths around SM3's padding boundaries (55/56/64) plus random ones, content from os.urandom.
    lengths = [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 128] + [rng.randrange(0, 600) for _ in range(count)]
    return [os.urandom(n) for n in lengths]


# --- SM3 (GB/T 32905) ------------------------------------------------------------------------------

def test_sm3_standard_vector_abc():
    assert keys.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_standard_vector_512_bits():
    assert keys.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm3_agrees_with_gmssl_and_gmssl_pyx_on_random_inputs():
    for data in random_inputs():
        ours = keys.sm3(data)
        assert ours == gm_sm3(data), len(data)
        assert ours == gmssl_pyx.sm3_hash(data), len(data)


# --- SM4 (GB/T 32907) ------------------------------------------------------------------------------

def test_sm4_standard_vector_single_block():
    assert sm4_ecb(SM4_KEY, SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    decryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).decryptor()
    assert decryptor.update(bytes.fromhex("681edf34d206965e86b3e94f536e4246")) + decryptor.finalize() == SM4_KEY


def test_sm4_standard_vector_one_million_encryptions():
    encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
    block = SM4_KEY
    for _ in range(1_000_000):
        block = encryptor.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_vector_also_holds_in_gmssl():
    assert gm_sm4_ecb(SM4_KEY, SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_ecb_agrees_with_gmssl_on_random_inputs():
    for _ in range(30):
        key, blocks = os.urandom(16), os.urandom(16 * random.randrange(1, 8))
        assert sm4_ecb(key, blocks) == gm_sm4_ecb(key, blocks)


def test_sm4_cbc_pkcs7_agrees_with_gmssl_on_random_inputs():
    for data in random_inputs(count=20):
        key, iv = os.urandom(16), os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
        ours = encryptor.update(padded) + encryptor.finalize()
        theirs = gm_sm4_module.CryptSM4()
        theirs.set_key(key, gm_sm4_module.SM4_ENCRYPT)
        assert ours == theirs.crypt_cbc(iv, data), len(data)
        if data:  # gmssl_pyx refuses empty plaintext
            assert ours == gmssl_pyx.sm4_cbc_padding_encrypt(key, iv, data), len(data)


def test_sm4_gcm_agrees_with_gmssl_pyx_and_its_keystream_with_gmssl():
    for data in random_inputs(count=20):
        key, nonce, aad = os.urandom(16), os.urandom(12), os.urandom(20)
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        ciphertext = encryptor.update(data) + encryptor.finalize()
        if data:  # gmssl_pyx refuses empty plaintext
            assert (ciphertext, encryptor.tag) == gmssl_pyx.sm4_gcm_encrypt(key, nonce, aad, data)
        # GCM with a 96-bit nonce encrypts in CTR mode from counter block nonce || 00000002.
        counters = b"".join(nonce + (2 + i).to_bytes(4, "big") for i in range((len(data) + 15) // 16))
        keystream = gm_sm4_ecb(key, counters) if counters else b""
        assert ciphertext == bytes(a ^ b for a, b in zip(data, keystream))


# --- HMAC-SM3 and HKDF-SM3 -------------------------------------------------------------------------

def test_hmac_sm3_agrees_with_gmssl_and_gmssl_pyx():
    for data in random_inputs(count=20):
        for key in (os.urandom(16), os.urandom(32), os.urandom(100)):
            mac = hmac.HMAC(key, hashes.SM3())
            mac.update(data)
            ours = mac.finalize()
            assert ours == gm_hmac_sm3(key, data)
            assert ours == gmssl_pyx.sm3_hmac(key, data)


def test_hkdf_sm3_matches_rfc5869_built_on_gmssl():
    for _ in range(10):
        master = os.urandom(32)
        for purpose, length in [("field:sm4", 16), ("index:ab_user.mobile", 32), ("audit:chain", 32),
                                ("long", 100)]:
            expected = gm_hkdf_sm3(master, b"lowcode/hkdf-sm3/v1", b"lowcode:" + purpose.encode(), length)
            assert keys.derive_key(master, purpose, length) == expected


def test_hkdf_sm3_is_deterministic_and_separates_purposes():
    master = os.urandom(32)
    assert keys.derive_key(master, "field:sm4") == keys.derive_key(master, "field:sm4")
    derived = {keys.derive_key(master, p) for p in ["field:sm4", "index:ab_user.mobile", "index:ab_user.id_no",
                                                    "audit:chain"]}
    assert len(derived) == 4
    assert keys.derive_key(master, "field:sm4") != keys.derive_key(os.urandom(32), "field:sm4")
    assert len(keys.derive_key(master, "field:sm4", 16)) == 16
    with pytest.raises(ValueError):
        keys.derive_key(master, "")


def test_derived_keys_never_change_across_versions():
    # Stored data depends on these exact bytes: a change here makes existing ciphertexts unreadable.
    master = bytes(range(32))
    assert keys.derive_key(master, "field:sm4", 16).hex() == KNOWN_FIELD_KEY
    assert keys.key_fingerprint(master) == KNOWN_FINGERPRINT


KNOWN_FIELD_KEY = "9b26a99b2f11300e6b15ab022e4660f1"
KNOWN_FINGERPRINT = "f88e73fe"
