"""Exceptions of the crypto package: one base class, so callers can catch everything at once."""
from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error raised on purpose by `lowcode.crypto`."""


class KeyringError(CryptoError):
    """Master keys are missing, malformed, unreadable or inconsistent."""


class UnknownKeyId(KeyringError, LookupError):
    """A token or index names a key id the keyring does not hold (retired or never loaded)."""


class MalformedToken(CryptoError, ValueError):
    """The text is not a field token of a known version and shape."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong associated data (table/column/row), wrong key, or tampering."""


class InvalidKey(CryptoError, ValueError):
    """SM2 key material that cannot be used: bad length, encoding, or not a point on the curve."""


class InvalidSignature(CryptoError):
    """A signature that does not verify, or that is not a well-formed SM2 signature at all."""
