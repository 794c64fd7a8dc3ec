"""SM2 (GB/T 32918) key pairs and signatures, through GmSSL (`gmssl_pyx`).

Signatures are SM2 with SM3 over Z_A || message, where Z_A hashes the signer id and the public
key (GM/T 0009). The signer id is a required argument everywhere: a verifier must use the id the
signer used, and silently defaulting it is how interoperability bugs hide. Callers wanting the
GM/T 0009 default pass `DEFAULT_SIGNER_ID` explicitly.

Signatures are DER `SEQUENCE { r INTEGER, s INTEGER }` (what GmSSL and OpenSSL produce);
`signature_to_rs` / `signature_from_rs` convert to the raw 64-byte r || s some systems use.

Keys export as PEM (PKCS#8 "PRIVATE KEY", SubjectPublicKeyInfo "PUBLIC KEY"; both readable by
`openssl pkey` and GmSSL) or hex. PEM private keys here are unencrypted: store them encrypted
(e.g. with `fields.encrypt_field`) or in a 0600 file. Neither `cryptography` nor `gmssl_pyx`
handles SM2 PEM, so a minimal strict DER codec lives below.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Union

import gmssl_pyx

from lowcode.crypto.errors import CryptoError, InvalidKey, InvalidSignature

DEFAULT_SIGNER_ID = b"1234567812345678"  # GM/T 0009-2012 §10: pass it explicitly if you mean it
MAX_SIGNER_ID_BYTES = 8191  # Z_A encodes the id's length in bits in two bytes

# The recommended curve of GB/T 32918.5.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
_OID_SM2 = bytes.fromhex("2a811ccf5501822d")  # 1.2.156.10197.1.301
_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID = 0x30, 0x02, 0x03, 0x04, 0x06

Bytes = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True, repr=False)
class SM2PublicKey:
    """A point on the curve, as the 64 bytes x || y that GmSSL takes."""

    data: bytes

    def __post_init__(self):
        _check_point(self.data)

    def __repr__(self) -> str:
        return f"SM2PublicKey({public_key_to_hex(self)[:18]}...)"


@dataclass(frozen=True, eq=False, repr=False)
class SM2PrivateKey:
    """The 32-byte secret scalar d with its public key d·G. Build it with the functions below."""

    secret: bytes
    public_key: SM2PublicKey

    def __post_init__(self):
        if len(self.secret) != 32 or not 1 <= int.from_bytes(self.secret, "big") <= N - 2:
            raise InvalidKey("an SM2 private key is a 32-byte scalar in [1, n-2]")

    def __repr__(self) -> str:  # never show the secret
        return f"SM2PrivateKey(public_key={self.public_key!r})"


# --- curve arithmetic: only to compute d·G when a key is imported --------------------------------
# gmssl_pyx offers no way to get the public key of an imported private scalar. Python integers
# are not constant-time; this runs only at import of a key (never per signature), on the ladder
# below that at least performs the same operations for every bit.

def _double(point):
    x1, y1, z1 = point
    if z1 == 0 or y1 == 0:
        return (0, 1, 0)
    zz = z1 * z1 % P
    m = 3 * (x1 - zz) * (x1 + zz) % P  # a = -3
    yy = y1 * y1 % P
    s = 4 * x1 * yy % P
    x3 = (m * m - 2 * s) % P
    return (x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y1 * z1 % P)


def _add(p1, p2):
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p1) if s1 == s2 else (0, 1, 0)
    h, r = (u2 - u1) % P, (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    x3 = (r * r - hhh - 2 * u1 * hh) % P
    return (x3, (r * (u1 * hh - x3) - s1 * hhh) % P, h * z1 * z2 % P)


def _multiply_base(k: int) -> bytes:
    r0, r1 = (0, 1, 0), (GX, GY, 1)
    for bit in range(255, -1, -1):  # Montgomery ladder
        if (k >> bit) & 1:
            r0, r1 = _add(r0, r1), _double(r1)
        else:
            r0, r1 = _double(r0), _add(r0, r1)
    x, y, z = r0
    z_inv = pow(z, -1, P)
    zz_inv = z_inv * z_inv % P
    return (x * zz_inv % P).to_bytes(32, "big") + (y * zz_inv * z_inv % P).to_bytes(32, "big")


def _check_point(data: bytes) -> None:
    if not isinstance(data, bytes) or len(data) != 64:
        raise InvalidKey("an SM2 public key is 64 bytes x || y")
    x, y = int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big")
    if x >= P or y >= P or (y * y - (x * x * x + A * x + B)) % P:
        raise InvalidKey("the public key is not a point on the SM2 curve")


def _decode_point(encoded: bytes) -> SM2PublicKey:
    """Uncompressed 04 || x || y, raw x || y, or compressed 02/03 || x."""
    if len(encoded) == 65 and encoded[0] == 4:
        return SM2PublicKey(bytes(encoded[1:]))
    if len(encoded) == 64:
        return SM2PublicKey(bytes(encoded))
    if len(encoded) == 33 and encoded[0] in (2, 3):
        x = int.from_bytes(encoded[1:], "big")
        if x >= P:
            raise InvalidKey("the public key is not a point on the SM2 curve")
        y = pow((x * x * x + A * x + B) % P, (P + 1) // 4, P)  # p ≡ 3 (mod 4)
        if y & 1 != encoded[0] & 1:
            y = P - y
        return SM2PublicKey(x.to_bytes(32, "big") + y.to_bytes(32, "big"))
    raise InvalidKey("an SM2 public key is 04||x||y (65 bytes), x||y (64) or 02/03||x (33)")


def _private_from_scalar(secret: bytes) -> SM2PrivateKey:
    d = int.from_bytes(secret, "big")
    if len(secret) != 32 or not 1 <= d <= N - 2:
        raise InvalidKey("an SM2 private key is a 32-byte scalar in [1, n-2]")
    return SM2PrivateKey(bytes(secret), SM2PublicKey(_multiply_base(d)))


# --- keys and signatures ---------------------------------------------------------------------------

def generate_keypair() -> SM2PrivateKey:
    """A new key pair from GmSSL's random generator."""
    public, secret = gmssl_pyx.sm2_key_generate()
    return SM2PrivateKey(secret, SM2PublicKey(public))


def _signer_id(signer_id: Union[str, Bytes]) -> bytes:
    if isinstance(signer_id, str):
        signer_id = signer_id.encode("utf-8")
    if not isinstance(signer_id, (bytes, bytearray, memoryview)):
        raise TypeError("signer_id must be str or bytes")
    signer_id = bytes(signer_id)
    if not 1 <= len(signer_id) <= MAX_SIGNER_ID_BYTES:
        raise ValueError(f"signer_id must be 1-{MAX_SIGNER_ID_BYTES} bytes")
    return signer_id


def _message(message: Bytes) -> bytes:
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(f"message must be bytes, not {type(message).__name__}: encode it first")
    return bytes(message)


def sign(private_key: SM2PrivateKey, message: Bytes, *, signer_id: Union[str, Bytes]) -> bytes:
    """SM2 signature (DER) of `message` by `private_key` under `signer_id`."""
    try:
        return gmssl_pyx.sm2_sign(private_key.secret, private_key.public_key.data,
                                  _message(message), _signer_id(signer_id))
    except gmssl_pyx.GmsslInnerError as error:
        raise CryptoError(f"SM2 signing failed: {error}") from None


def verify(public_key: SM2PublicKey, message: Bytes, signature: Bytes, *,
           signer_id: Union[str, Bytes]) -> None:
    """Return if `signature` is `public_key`'s signature of `message` under `signer_id`.

    Raises InvalidSignature otherwise, including for input that is not a DER SM2 signature.
    """
    if not isinstance(public_key, SM2PublicKey):
        raise TypeError("public_key must be an SM2PublicKey (a private key's is .public_key)")
    signer_id, message = _signer_id(signer_id), _message(message)
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise InvalidSignature(f"malformed SM2 signature: bytes expected, not {type(signature).__name__}")
    signature = bytes(signature)
    _decode_signature(signature)  # our own strict check first: clear errors, no C-level noise
    try:
        valid = gmssl_pyx.sm2_verify(public_key.data, message, signature, signer_id)
    except gmssl_pyx.GmsslInnerError as error:
        raise InvalidSignature(f"malformed SM2 signature: {error}") from None
    if not valid:
        raise InvalidSignature("SM2 signature does not verify for this message, public key and signer id")


def signature_to_rs(signature: Bytes) -> bytes:
    """DER signature -> 64 bytes r || s."""
    r, s = _decode_signature(bytes(signature))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def signature_from_rs(raw: Bytes) -> bytes:
    """64 bytes r || s -> DER signature."""
    raw = bytes(raw)
    if len(raw) != 64:
        raise InvalidSignature("malformed SM2 signature: r || s is 64 bytes")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        raise InvalidSignature("malformed SM2 signature: r and s must be in [1, n-1]")
    return _tlv(_SEQUENCE, _der_integer(r) + _der_integer(s))


def _decode_signature(signature: bytes) -> tuple[int, int]:
    try:
        fields = _children(_only(signature, _SEQUENCE))
        if len(fields) != 2 or any(tag != _INTEGER for tag, _ in fields):
            raise ValueError("expected SEQUENCE { INTEGER, INTEGER }")
        r, s = (_integer(content) for _, content in fields)
    except ValueError as error:
        raise InvalidSignature(f"malformed SM2 signature: {error}") from None
    if not (1 <= r < N and 1 <= s < N):
        raise InvalidSignature("malformed SM2 signature: r and s must be in [1, n-1]")
    return r, s


# --- hex ------------------------------------------------------------------------------------------

def _unhex(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text.strip())
    except (ValueError, AttributeError):
        raise InvalidKey(f"{what} is not hex") from None


def private_key_to_hex(key: SM2PrivateKey) -> str:
    return key.secret.hex()


def private_key_from_hex(text: str) -> SM2PrivateKey:
    """64 hex digits of the scalar d; the public key is computed."""
    return _private_from_scalar(_unhex(text, "private key"))


def public_key_to_hex(key: SM2PublicKey) -> str:
    """Uncompressed: "04" + x + y (130 hex digits)."""
    return "04" + key.data.hex()


def public_key_from_hex(text: str) -> SM2PublicKey:
    """04 || x || y, x || y, or compressed 02/03 || x, as hex."""
    return _decode_point(_unhex(text, "public key"))


# --- PEM ------------------------------------------------------------------------------------------

def _pem_body(text: Union[str, bytes], label: str):
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    match = re.search(rf"-----BEGIN {label}-----\s*(.*?)\s*-----END {label}-----", text, re.S)
    if not match:
        return None
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(f"the {label} PEM block is not valid base64") from None


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


_ALGORITHM = bytes.fromhex("3013") + bytes([_OID, 7]) + _OID_EC_PUBLIC_KEY + bytes([_OID, 8]) + _OID_SM2


def private_key_to_pem(key: SM2PrivateKey) -> str:
    """Unencrypted PKCS#8 "PRIVATE KEY", the layout `openssl genpkey -algorithm SM2` writes."""
    ec_private_key = _tlv(_SEQUENCE, _der_integer(1) + _tlv(_OCTET_STRING, key.secret)
                          + _tlv(0xA1, _tlv(_BIT_STRING, b"\x00\x04" + key.public_key.data)))
    der = _tlv(_SEQUENCE, _der_integer(0) + _ALGORITHM + _tlv(_OCTET_STRING, ec_private_key))
    return _pem("PRIVATE KEY", der)


def private_key_from_pem(text: Union[str, bytes]) -> SM2PrivateKey:
    """PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" / "SM2 PRIVATE KEY" on the SM2 curve, unencrypted."""
    try:
        der = _pem_body(text, "PRIVATE KEY")
        if der is not None:
            version, algorithm, ec_key, *_ = _children(_only(der, _SEQUENCE))
            if version != (_INTEGER, b"\x00") and version != (_INTEGER, b"\x01"):
                raise ValueError("unsupported PKCS#8 version")
            _check_algorithm(algorithm)
            if ec_key[0] != _OCTET_STRING:
                raise ValueError("expected the private key OCTET STRING")
            return _from_ec_private_key(ec_key[1])
        for label in ("EC PRIVATE KEY", "SM2 PRIVATE KEY"):  # OpenSSL 3 writes SEC1 as the latter
            der = _pem_body(text, label)
            if der is not None:
                return _from_ec_private_key(der)
    except ValueError as error:
        raise InvalidKey(f"not an SM2 private key: {error}") from None
    if _pem_body(text, "ENCRYPTED PRIVATE KEY") is not None:
        raise InvalidKey("encrypted PEM is not supported: decrypt it first (openssl pkey -in ... )")
    raise InvalidKey("no PRIVATE KEY, EC PRIVATE KEY or SM2 PRIVATE KEY PEM block found")


def public_key_to_pem(key: SM2PublicKey) -> str:
    """SubjectPublicKeyInfo "PUBLIC KEY" (id-ecPublicKey, sm2p256v1, uncompressed point)."""
    return _pem("PUBLIC KEY", _tlv(_SEQUENCE, _ALGORITHM + _tlv(_BIT_STRING, b"\x00\x04" + key.data)))


def public_key_from_pem(text: Union[str, bytes]) -> SM2PublicKey:
    der = _pem_body(text, "PUBLIC KEY")
    if der is None:
        raise InvalidKey("no PUBLIC KEY PEM block found")
    try:
        fields = _children(_only(der, _SEQUENCE))
        if len(fields) != 2:
            raise ValueError("expected SEQUENCE { algorithm, subjectPublicKey }")
        _check_algorithm(fields[0])
        return _decode_point(_bit_string(fields[1]))
    except ValueError as error:
        raise InvalidKey(f"not an SM2 public key: {error}") from None


def _check_algorithm(field) -> None:
    tag, content = field
    parts = _children(content) if tag == _SEQUENCE else []
    if parts != [(_OID, _OID_EC_PUBLIC_KEY), (_OID, _OID_SM2)]:
        raise ValueError("the algorithm is not id-ecPublicKey on the SM2 curve")


def _from_ec_private_key(der: bytes) -> SM2PrivateKey:
    fields = _children(_only(der, _SEQUENCE))
    if len(fields) < 2 or fields[0] != (_INTEGER, b"\x01") or fields[1][0] != _OCTET_STRING:
        raise ValueError("expected ECPrivateKey { 1, privateKey, ... }")
    secret = fields[1][1]
    if len(secret) > 32:
        raise ValueError("the private scalar is longer than 32 bytes")
    stated_public = None
    for tag, content in fields[2:]:
        if tag == 0xA0 and _children(content) != [(_OID, _OID_SM2)]:
            raise ValueError("the curve is not SM2")
        if tag == 0xA1:
            (inner,) = _children(content)
            stated_public = _decode_point(_bit_string(inner))
    key = _private_from_scalar(secret.rjust(32, b"\x00"))
    if stated_public is not None and stated_public != key.public_key:
        raise ValueError("the public key in the file does not belong to the private key")
    return key


# --- a minimal strict DER codec ----------------------------------------------------------------

def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_integer(value: int) -> bytes:
    return _tlv(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos:pos + length], pos + length


def _only(data: bytes, tag: int) -> bytes:
    """The content of the single element `data` is, which must have `tag`."""
    found, content, end = _read(data, 0)
    if found != tag or end != len(data):
        raise ValueError("unexpected DER structure")
    return content


def _children(content: bytes) -> list[tuple[int, bytes]]:
    children, pos = [], 0
    while pos < len(content):
        tag, child, pos = _read(content, pos)
        children.append((tag, child))
    return children


def _integer(content: bytes) -> int:
    if not content or content[0] & 0x80:
        raise ValueError("not a positive INTEGER")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise ValueError("non-minimal INTEGER")
    return int.from_bytes(content, "big")


def _bit_string(field) -> bytes:
    tag, content = field
    if tag != _BIT_STRING or not content or content[0] != 0:
        raise ValueError("expected a BIT STRING without unused bits")
    return content[1:]

