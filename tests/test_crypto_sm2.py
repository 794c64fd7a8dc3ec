"""SM2 signatures with an explicit signer id; key import/export; cross-checks with gmssl and OpenSSL."""
import secrets
import shutil
import subprocess

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3_module

from lowcode.crypto import sm2
from lowcode.crypto.errors import InvalidKey, InvalidSignature

# GM/T 0003.5-2012 Annex A (also in OpenSSL's test/sm2_internal_test.c): recommended curve.
VECTOR_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
VECTOR_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
VECTOR_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
VECTOR_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
VECTOR_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
MESSAGE = b"message digest"
ALICE = b"ALICE123@YAHOO.COM"


@pytest.fixture(scope="module")
def key():
    return sm2.generate_keypair()


# --- standard vector -------------------------------------------------------------------------------

def test_public_key_of_the_standard_private_key():
    key = sm2.private_key_from_hex(VECTOR_D)
    assert sm2.public_key_to_hex(key.public_key) == ("04" + VECTOR_X + VECTOR_Y).lower()


def test_standard_signature_verifies_with_the_default_id_only():
    public = sm2.public_key_from_hex(VECTOR_X + VECTOR_Y)
    signature = sm2.signature_from_rs(bytes.fromhex(VECTOR_R + VECTOR_S))
    sm2.verify(public, MESSAGE, signature, signer_id=sm2.DEFAULT_SIGNER_ID)
    sm2.verify(public, MESSAGE, signature, signer_id="1234567812345678")
    with pytest.raises(InvalidSignature):
        sm2.verify(public, MESSAGE, signature, signer_id=ALICE)
    with pytest.raises(InvalidSignature):
        sm2.verify(public, b"message digesT", signature, signer_id=sm2.DEFAULT_SIGNER_ID)
    assert sm2.signature_to_rs(signature).hex() == (VECTOR_R + VECTOR_S).lower()


def test_computed_public_keys_match_gmssl_pyx():
    for _ in range(10):
        public, secret = gmssl_pyx.sm2_key_generate()
        assert sm2.private_key_from_hex(secret.hex()).public_key.data == public


# --- sign and verify ---------------------------------------------------------------------------------

def test_round_trip_and_failures(key):
    signature = sm2.sign(key, b"record 42", signer_id=ALICE)
    sm2.verify(key.public_key, b"record 42", signature, signer_id=ALICE)
    with pytest.raises(InvalidSignature, match="does not verify"):
        sm2.verify(key.public_key, b"record 42", signature, signer_id=b"BOB@EXAMPLE")
    with pytest.raises(InvalidSignature, match="does not verify"):
        sm2.verify(key.public_key, b"record 43", signature, signer_id=ALICE)
    with pytest.raises(InvalidSignature, match="does not verify"):
        sm2.verify(sm2.generate_keypair().public_key, b"record 42", signature, signer_id=ALICE)
    assert sm2.sign(key, b"record 42", signer_id=ALICE) != signature  # randomised k


def test_signer_id_is_required(key):
    with pytest.raises(TypeError):
        sm2.sign(key, b"m")
    signature = sm2.sign(key, b"m", signer_id="中文标识")
    with pytest.raises(TypeError):
        sm2.verify(key.public_key, b"m", signature)
    for bad in (b"", "", b"x" * 8192):
        with pytest.raises(ValueError):
            sm2.sign(key, b"m", signer_id=bad)
    with pytest.raises(TypeError):
        sm2.sign(key, b"m", signer_id=None)
    with pytest.raises(TypeError):
        sm2.sign(key, "a str message", signer_id=ALICE)


@pytest.mark.parametrize("signature", [
    b"", b"garbage", bytes(72), b"\x30\x00",
    b"\x30\x06\x02\x01\x00\x02\x01\x01",  # r = 0
    b"\x30\x06\x02\x01\x01\x02\x01\xff",  # negative s
    b"\x30\x07\x02\x02\x00\x01\x02\x01\x01",  # non-minimal integer
    sm2.signature_from_rs((1).to_bytes(32, "big") * 2) + b"\x00",  # trailing data
])
def test_malformed_signatures_raise_a_clear_error(key, signature):
    with pytest.raises(InvalidSignature, match="malformed"):
        sm2.verify(key.public_key, b"m", signature, signer_id=ALICE)


def test_truncated_and_flipped_signatures_fail(key):
    signature = sm2.sign(key, b"m", signer_id=ALICE)
    with pytest.raises(InvalidSignature, match="malformed"):
        sm2.verify(key.public_key, b"m", signature[:-1], signer_id=ALICE)
    with pytest.raises(InvalidSignature):
        sm2.verify(key.public_key, b"m", "not bytes", signer_id=ALICE)
    with pytest.raises(InvalidSignature):
        flipped = bytearray(signature)
        flipped[-1] ^= 1
        sm2.verify(key.public_key, b"m", bytes(flipped), signer_id=ALICE)


# --- import and export ---------------------------------------------------------------------------------

def test_pem_round_trip(key):
    pem = sm2.private_key_to_pem(key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    again = sm2.private_key_from_pem(pem)
    assert again.secret == key.secret and again.public_key == key.public_key
    public_pem = sm2.public_key_to_pem(key.public_key)
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert sm2.public_key_from_pem(public_pem) == key.public_key
    assert sm2.public_key_from_pem(public_pem.encode()) == key.public_key


def test_hex_round_trip_and_compressed_points(key):
    assert sm2.private_key_from_hex(sm2.private_key_to_hex(key)).secret == key.secret
    text = sm2.public_key_to_hex(key.public_key)
    assert text.startswith("04") and len(text) == 130
    assert sm2.public_key_from_hex(text) == key.public_key
    assert sm2.public_key_from_hex(text[2:]) == key.public_key
    y = int.from_bytes(key.public_key.data[32:], "big")
    compressed = ("03" if y & 1 else "02") + key.public_key.data[:32].hex()
    assert sm2.public_key_from_hex(compressed) == key.public_key


@pytest.mark.parametrize("text", ["", "zz", "04" + "00" * 64, "04" + "11" * 64, "05" + "11" * 64, "02" + "ff" * 32])
def test_invalid_public_keys_are_refused(text):
    with pytest.raises(InvalidKey):
        sm2.public_key_from_hex(text)


@pytest.mark.parametrize("text", ["", "00" * 32, "ff" * 32, "11" * 31, "11" * 33,
                                  format(sm2.N - 1, "064x")])
def test_invalid_private_keys_are_refused(text):
    with pytest.raises(InvalidKey):
        sm2.private_key_from_hex(text)


def test_pem_with_a_public_key_of_another_private_key_is_refused(key):
    other = sm2.generate_keypair()
    forged = sm2.SM2PrivateKey(key.secret, other.public_key)
    with pytest.raises(InvalidKey, match="does not belong"):
        sm2.private_key_from_pem(sm2.private_key_to_pem(forged))


def test_other_pem_blocks_are_refused(key):
    with pytest.raises(InvalidKey, match="no PUBLIC KEY"):
        sm2.public_key_from_pem(sm2.private_key_to_pem(key))
    with pytest.raises(InvalidKey, match="encrypted PEM"):
        sm2.private_key_from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n")
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InvalidKey, match="SM2 curve"):  # a NIST P-256 key
        sm2.public_key_from_pem(p256)


def test_keys_never_show_the_secret(key):
    assert key.secret.hex() not in repr(key)
    assert repr(key).startswith("SM2PrivateKey(public_key=SM2PublicKey(04")


# --- cross-checks with gmssl (pure Python) -------------------------------------------------------------

def gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3_module.sm3_hash(list(data)))


def gmssl_safe_key():
    """A key pair gmssl can use: its constructor lstrip("04")s public keys starting with 04."""
    while True:
        key = sm2.generate_keypair()
        if not key.public_key.data.hex().startswith("04"):
            return key


def gmssl_for(key):
    return gm_sm2.CryptSM2(private_key=key.secret.hex(), public_key=key.public_key.data.hex(), asn1=True)


def gm_digest(key, signer_id: bytes, message: bytes) -> bytes:
    """e = SM3(Z_A || M), Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), on gmssl's SM3."""
    curve = gm_sm2.default_ecc_table
    entl = (len(signer_id) * 8).to_bytes(2, "big")
    z = gm_sm3(entl + signer_id + bytes.fromhex(curve["a"] + curve["b"] + curve["g"]) + key.public_key.data)
    return gm_sm3(z + message)


def test_cross_verify_with_gmssl_default_id():
    # gmssl's sign_with_sm3/verify_with_sm3 hard-code the id 1234567812345678: use it here only.
    key = gmssl_safe_key()
    theirs = gmssl_for(key)
    for message in [b"", b"abc", secrets.token_bytes(200)]:
        their_signature = bytes.fromhex(theirs.sign_with_sm3(message, secrets.token_hex(32)))
        sm2.verify(key.public_key, message, their_signature, signer_id=sm2.DEFAULT_SIGNER_ID)
        our_signature = sm2.sign(key, message, signer_id=sm2.DEFAULT_SIGNER_ID)
        assert theirs.verify_with_sm3(our_signature.hex(), message)
        assert not theirs.verify_with_sm3(sm2.sign(key, message, signer_id=ALICE).hex(), message)


def test_cross_verify_with_gmssl_explicit_id():
    # gmssl's raw sign/verify take the digest e: computing Z_A with another id on gmssl's own SM3
    # checks our explicit-id signatures against an independent SM2 and SM3.
    key = gmssl_safe_key()
    theirs = gmssl_for(key)
    for signer_id in [ALICE, "交警支队-签名服务".encode(), secrets.token_bytes(40)]:
        message = secrets.token_bytes(64)
        digest = gm_digest(key, signer_id, message)
        our_signature = sm2.sign(key, message, signer_id=signer_id)
        assert theirs.verify(our_signature.hex(), digest)
        their_signature = bytes.fromhex(theirs.sign(digest, secrets.token_hex(32)))
        sm2.verify(key.public_key, message, their_signature, signer_id=signer_id)
        with pytest.raises(InvalidSignature):
            sm2.verify(key.public_key, message, their_signature, signer_id=sm2.DEFAULT_SIGNER_ID)


def test_standard_digest_matches_gmssl():
    key = sm2.private_key_from_hex(VECTOR_D)
    assert gm_digest(key, sm2.DEFAULT_SIGNER_ID, MESSAGE).hex() == \
        "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"


# --- cross-checks with the OpenSSL command line, where it has SM2 -----------------------------------------

def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def openssl_sm2(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    folder = tmp_path_factory.mktemp("openssl")
    if openssl("genpkey", "-algorithm", "SM2", "-out", str(folder / "key.pem")).returncode != 0:
        pytest.skip("this openssl has no SM2")
    return folder


def test_openssl_reads_our_keys_and_we_read_its_keys(openssl_sm2):
    theirs = sm2.private_key_from_pem((openssl_sm2 / "key.pem").read_text())
    public = openssl("pkey", "-in", str(openssl_sm2 / "key.pem"), "-pubout")
    assert public.stdout.decode() == sm2.public_key_to_pem(theirs.public_key)
    sec1 = openssl("ec", "-in", str(openssl_sm2 / "key.pem"))
    assert sm2.private_key_from_pem(sec1.stdout).secret == theirs.secret

    ours = sm2.generate_keypair()
    (openssl_sm2 / "ours.pem").write_text(sm2.private_key_to_pem(ours))
    public = openssl("pkey", "-in", str(openssl_sm2 / "ours.pem"), "-pubout")
    assert public.returncode == 0 and public.stdout.decode() == sm2.public_key_to_pem(ours.public_key)


def test_signatures_cross_verify_with_openssl(openssl_sm2):
    key = sm2.private_key_from_pem((openssl_sm2 / "key.pem").read_text())
    (openssl_sm2 / "public.pem").write_text(sm2.public_key_to_pem(key.public_key))
    (openssl_sm2 / "message").write_bytes(b"checkpoint 1000")
    common = ["-rawin", "-in", str(openssl_sm2 / "message"), "-digest", "sm3", "-pkeyopt", "distid:audit@lowcode"]

    signed = openssl("pkeyutl", "-sign", "-inkey", str(openssl_sm2 / "key.pem"), *common)
    assert signed.returncode == 0, signed.stderr
    sm2.verify(key.public_key, b"checkpoint 1000", signed.stdout, signer_id="audit@lowcode")

    (openssl_sm2 / "ours.sig").write_bytes(sm2.sign(key, b"checkpoint 1000", signer_id="audit@lowcode"))
    verified = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(openssl_sm2 / "public.pem"), *common,
                       "-sigfile", str(openssl_sm2 / "ours.sig"))
    assert verified.returncode == 0 and b"Verified Successfully" in verified.stdout
