"""`lowcode validate-definitions [PATH]`: check a definition tree and say what is wrong."""
from __future__ import annotations

from pathlib import Path

from .errors import DefinitionError
from .loader import load_tree


def validate_path(path: str | Path) -> list[DefinitionError]:
    """Every problem of the packs under `path` (or of the pack `path` is), sorted by file."""
    return load_tree(path).errors


def validate_definitions_command(path: str | Path) -> int:
    """Print each problem as `file#pointer: reason` and a summary; 0 when clean, 1 otherwise."""
    tree = load_tree(path)
    for error in tree.errors:
        print(error)
    if tree.errors:
        files = len({error.file for error in tree.errors})
        print(f"定义校验未通过：{len(tree.errors)} 个错误，涉及 {files} 个文件。")
        return 1
    definitions = sum(1 for pack in tree.packs.values() for _ in pack.definitions())
    print(f"定义校验通过：{len(tree.packs)} 个定义包（{'、'.join(tree.packs)}），{definitions} 个定义，没有错误。")
    return 0
