"""Reading definition files and fixing the bytes whose hash identifies a definition version."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import DefinitionError


def canonical_json(document: Any) -> bytes:
    # Key order and whitespace must not change a definition's hash; only its meaning may.
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_json(path: Path, file: str) -> tuple[Any, list[DefinitionError]]:
    """The parsed document, or None and the reason it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [DefinitionError(file, "", "文件不是 UTF-8 编码")]
    except OSError as error:
        return None, [DefinitionError(file, "", f"无法读取文件：{error.strerror}")]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        return None, [DefinitionError(file, "", f"JSON 格式错误：第 {error.lineno} 行第 {error.colno} 列，{error.msg}")]
