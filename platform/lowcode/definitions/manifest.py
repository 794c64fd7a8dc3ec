"""Which files belong to a pack, by kind, as its manifest (pack.json) lists them."""
from __future__ import annotations

from pathlib import Path

from .errors import DefinitionError, json_pointer
from .shape import texts

MANIFEST = "pack.json"
# Suffix of the files a directory entry stands for; every other kind is made of .json files.
DIRECTORY_SUFFIX = {"bpmn": ".bpmn"}
# Files the manifest must claim: anything else is a file the loader would silently ignore.
DEFINITION_SUFFIXES = (".json", ".bpmn")


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def claimed_files(pack_dir: Path, contents: dict, tree_root: Path) -> tuple[dict[str, list[Path]], list[DefinitionError]]:
    """Files per kind, and an error for each entry that names nothing and each unclaimed file.

    Entries the meta-schema rejects are skipped (it reports them), and so is any path that
    leaves the pack directory.
    """
    manifest_file = relative(pack_dir / MANIFEST, tree_root)
    files: dict[str, list[Path]] = {}
    errors = []
    for kind in contents:
        suffix = DIRECTORY_SUFFIX.get(kind, ".json")
        for index, entry in texts(contents, kind):
            path = pack_dir / entry
            if not path.resolve().is_relative_to(pack_dir):
                continue
            if entry.endswith("/") and path.is_dir():
                found = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
            elif not entry.endswith("/") and path.is_file():
                found = [path]
            else:
                what = "目录" if entry.endswith("/") else "文件"
                errors.append(DefinitionError(manifest_file, json_pointer("contents", kind, index),
                                              f"{what} {entry} 不存在"))
                continue
            files.setdefault(kind, []).extend(found)
    claimed = {path for paths in files.values() for path in paths} | {pack_dir / MANIFEST}
    for path in sorted(pack_dir.rglob("*")):
        if path.is_file() and path.suffix in DEFINITION_SUFFIXES and path not in claimed:
            errors.append(DefinitionError(relative(path, tree_root), "",
                                          "文件未在 pack.json 的 contents 中登记，不会被加载"))
    return files, errors
