"""Commercial cryptography (GM/T) for the platform: SM3, SM4, SM2 and the keys behind them.

- `keys`: master keys (a keyring with ids, for rotation) and per-purpose keys via HKDF-SM3.
- `fields`: SM4-GCM encryption of personal-data columns, blind indexes, masking.
- `sm2`: SM2 key pairs, signatures with an explicit signer id, PEM/hex import and export.
- `chain`: an HMAC-SM3 hash chain for append-only logs, with SM2-signed checkpoints.

Nothing here imports Flask; the application builds a keyring from its configuration and passes
it in. This package imports no submodule on purpose, so `import lowcode.crypto` costs nothing.
"""
