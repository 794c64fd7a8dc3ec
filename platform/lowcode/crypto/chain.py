"""An HMAC-SM3 hash chain for append-only logs (audit trail, access-control changes).

Each record stores `mac_i = HMAC-SM3(key, mac_{i-1} || canonical(record_i))`, starting from a
genesis value. Changing, deleting, inserting or reordering a record breaks the chain at that
position, and without the key nobody can forge macs to repair it. The key is the keyring's
"audit:chain" key (`keyring.derive(CHAIN_PURPOSE)`); when the master key rotates, start a new
chain segment whose genesis is the last mac of the previous segment.

Truncation (dropping the newest records) leaves a valid shorter chain: periodic checkpoints,
(position, mac) signed with SM2, pin the head so truncation shows too (`verify_chain(head=...)`).
The signature also proves the log to someone who does not hold the HMAC key.
"""
from __future__ import annotations

import hmac as _hmac
import json
from typing import Any, Iterable, Mapping, Optional, Tuple, Union

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _sm3_hmac

from lowcode.crypto import sm2

CHAIN_PURPOSE = "audit:chain"
MAC_BYTES = 32
_CHECKPOINT_LABEL = b"lowcode/chain-checkpoint/v1"

Record = Union[bytes, Mapping[str, Any]]


def _mac(key: bytes, *parts: bytes) -> bytes:
    mac = _sm3_hmac.HMAC(key, hashes.SM3())
    for part in parts:
        mac.update(part)
    return mac.finalize()


def canonical_record(record: Mapping[str, Any]) -> bytes:
    """Sorted-keys compact JSON in UTF-8: one byte string per record, whatever the dict order.

    Only JSON types: convert datetimes, decimals and UUIDs to strings first (in one fixed format),
    since a lenient default would let two spellings of one value give two different macs.
    """
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def genesis_mac(key: bytes, chain_id: str) -> bytes:
    """A starting mac for the chain named `chain_id`, so chains under one key cannot be spliced."""
    return _mac(key, b"lowcode/chain-genesis/v1\x00", chain_id.encode("utf-8"))


def link(previous_mac: bytes, record_bytes: bytes, key: bytes) -> bytes:
    """The mac of a record following `previous_mac`: HMAC-SM3(key, previous_mac || record_bytes)."""
    if len(previous_mac) != MAC_BYTES:  # fixed length keeps previous || record unambiguous
        raise ValueError(f"previous_mac must be {MAC_BYTES} bytes")
    return _mac(key, bytes(previous_mac), bytes(record_bytes))


def _record_bytes(record: Record) -> bytes:
    return bytes(record) if isinstance(record, (bytes, bytearray, memoryview)) else canonical_record(record)


def _stored_mac(stored: Union[bytes, str]) -> Optional[bytes]:
    if isinstance(stored, str):
        try:
            return bytes.fromhex(stored)
        except ValueError:
            return None
    return bytes(stored) if stored is not None else None


def verify_chain(records: Iterable[Tuple[Record, Union[bytes, str]]], key: bytes, genesis: bytes, *,
                 head: Optional[Tuple[int, bytes]] = None) -> Optional[int]:
    """The index of the first bad record, or None if the whole chain verifies.

    `records` yields (record, stored mac) in chain order; a record is its bytes or a dict to
    canonicalise, a mac is bytes or hex. `head` = (position, mac) from a verified checkpoint:
    the chain must reach `position` with that mac, or the first missing index is returned.
    """
    previous, count = genesis, 0
    for index, (record, stored) in enumerate(records):
        expected = link(previous, _record_bytes(record), key)
        stored = _stored_mac(stored)
        if stored is None or not _hmac.compare_digest(expected, stored):
            return index
        if head is not None and index == head[0] and not _hmac.compare_digest(expected, bytes(head[1])):
            return index  # a consistent chain, but not the one that was checkpointed
        previous, count = expected, index + 1
    if head is not None and count <= head[0]:
        return count  # truncated: records up to the checkpoint are missing
    return None


# --- signed checkpoints ----------------------------------------------------------------------------

def checkpoint_message(position: int, mac: bytes) -> bytes:
    """The bytes a checkpoint signature covers: a label, the position and the mac."""
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ValueError("position must be a non-negative int")
    if len(mac) != MAC_BYTES:
        raise ValueError(f"mac must be {MAC_BYTES} bytes")
    return b"%s|%d|%s" % (_CHECKPOINT_LABEL, position, bytes(mac).hex().encode("ascii"))


def sign_checkpoint(position: int, mac: bytes, sm2_private_key: sm2.SM2PrivateKey, signer_id) -> bytes:
    """SM2 signature (DER) over (position, mac): position is the index of the record whose mac it is."""
    return sm2.sign(sm2_private_key, checkpoint_message(position, mac), signer_id=signer_id)


def verify_checkpoint(position: int, mac: bytes, signature: bytes, sm2_public_key: sm2.SM2PublicKey,
                      signer_id) -> None:
    """Return if the checkpoint signature is valid; raise InvalidSignature otherwise."""
    sm2.verify(sm2_public_key, checkpoint_message(position, mac), signature, signer_id=signer_id)
