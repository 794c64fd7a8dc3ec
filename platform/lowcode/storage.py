"""Where attachment files live: a small interface keyed by attachment id, and its default, a local
folder (STORAGE_PATH). Another backend (an object store) implements the same three methods."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

KEY = re.compile(r"[0-9a-f]{32}")


class Storage(Protocol):
    def save(self, key: str, chunks: Iterable[bytes]) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under a root folder, fanned out by the first two characters of their key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if KEY.fullmatch(key) is None:   # keys are ids we made; anything else could walk the disk
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key[:2] / key

    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        """Write all chunks, then move the file into place: a failed upload leaves nothing behind."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(scratch, target)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage() -> Storage:
    """The application's storage, made once per app from its configuration."""
    extensions = current_app.extensions
    if "lowcode_storage" not in extensions:
        extensions["lowcode_storage"] = LocalStorage(current_app.config["STORAGE_PATH"])
    return extensions["lowcode_storage"]
