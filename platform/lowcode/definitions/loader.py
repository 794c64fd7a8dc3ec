"""Loading definitions: read every file a pack's manifest lists, validate each against its
meta-schema, then check the references between them. Problems are collected, never raised."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .consistency import consistency_errors
from .content import read_json
from .errors import DefinitionError, json_pointer
from .forms import load_forms
from .manifest import MANIFEST, claimed_files, relative
from .metaschemas import metaschema_errors
from .model import DefinitionTree, Pack, bpmn_definition, json_definition
from .references import reference_errors
from .shape import member, objects, text

# Collection files ({"<kind>": [items]}): the kind of one item and its name in messages.
COLLECTIONS = {
    "clue_levels": ("clue_level", "线索等级"),
    "clue_types": ("clue_type", "线索类型"),
    "task_levels": ("task_level", "任务等级"),
    "task_types": ("task_type", "任务类型"),
    "thresholds": ("threshold", "阈值"),
    "process_bindings": ("process_binding", "流程绑定"),
}


def load_pack(path: str | Path) -> Pack:
    """One pack (a directory holding pack.json); file paths in errors are relative to its parent."""
    directory = Path(path).resolve()
    return _load_pack(directory, directory.parent)


def load_tree(path: str | Path) -> DefinitionTree:
    """Every pack under `path` (a directory of packs), or the one pack `path` is."""
    target = Path(path).resolve()
    if not target.is_dir():
        return DefinitionTree(target, {}, [DefinitionError(str(path), "", "目录不存在")])
    if (target / MANIFEST).is_file():
        root, pack_dirs = target.parent, [target]
    else:
        root = target
        pack_dirs = sorted(d for d in target.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    errors = [DefinitionError(relative(d / MANIFEST, root), "", f"目录 {d.name} 不是定义包：缺少 pack.json")
              for d in pack_dirs if not (d / MANIFEST).is_file()]
    packs = {d.name: _load_pack(d, root) for d in pack_dirs if (d / MANIFEST).is_file()}
    errors += [error for pack in packs.values() for error in pack.errors]
    errors += _dependency_errors(packs, root) + _duplicate_warning_type_errors(packs)
    return DefinitionTree(root, packs, sorted(errors))


def _load_pack(directory: Path, tree_root: Path) -> Pack:
    pack = Pack(directory.name, directory, None)
    read = _read(pack, directory / MANIFEST, tree_root, "pack")
    if read is None:
        return pack
    file, manifest, errors = read
    pack.manifest = json_definition("manifest", pack.code, file, "", manifest, valid=not errors)
    code, contents = text(manifest, "code"), member(manifest, "contents")
    if code is not None and code != pack.code:
        pack.errors.append(DefinitionError(file, "/code", f"包代码 {code} 应与目录名 {pack.code} 一致"))
    if not isinstance(contents, dict):
        return pack   # without a file list nothing else can be loaded
    files, errors = claimed_files(directory, contents, tree_root)
    pack.errors += errors
    for kind, paths in files.items():
        if kind in _LOADERS:    # an unknown kind is reported by the meta-schema
            _LOADERS[kind](pack, paths, tree_root)
    pack.errors += reference_errors(pack)
    return pack


def _read(pack: Pack, path: Path, tree_root: Path, metaschema: str | None,
          ) -> tuple[str, Any, list[DefinitionError]] | None:
    """(file, document, its meta-schema errors), or None if it is not JSON; errors go to the pack."""
    file = relative(path, tree_root)
    document, errors = read_json(path, file)
    if document is None:
        pack.errors += errors
        return None
    errors = metaschema_errors(metaschema, document, file) if metaschema else []
    pack.errors += errors
    return file, document, errors


def _within(errors: list[DefinitionError], pointer: str) -> bool:
    return any(error.pointer == pointer or error.pointer.startswith(pointer + "/") for error in errors)


def _register(pack: Pack, table: dict, kind: str, name: str, file: str, pointer: str, content: Any, valid: bool,
              key: str = "code", what: str = "代码") -> None:
    code = content.get(key) if isinstance(content, dict) else None
    if not isinstance(code, str):
        return    # the meta-schema error already says why
    if code in table:
        first = table[code]
        where = f"{first.file}#{first.pointer}" if first.pointer else first.file
        pack.errors.append(DefinitionError(file, f"{pointer}/{key}", f"{name}{what} {code} 重复（已在 {where} 定义）"))
        return
    table[code] = json_definition(kind, code, file, pointer, content, valid)


def _file_loader(table: str, kind: str, name: str, key: str = "code", what: str = "代码",
                 ) -> Callable[[Pack, list[Path], Path], None]:
    """Kinds of one definition per file (a warning type, an entity, a dashboard), keyed by its
    `key` member."""
    def load(pack: Pack, paths: list[Path], tree_root: Path) -> None:
        for path in paths:
            read = _read(pack, path, tree_root, kind)
            if read:
                file, document, errors = read
                _register(pack, getattr(pack, table), kind, name, file, "", document, not errors, key, what)
    return load


def _collection_loader(key: str) -> Callable[[Pack, list[Path], Path], None]:
    kind, name = COLLECTIONS[key]

    def load(pack: Pack, paths: list[Path], tree_root: Path) -> None:
        for path in paths:
            read = _read(pack, path, tree_root, key)
            if read is None:
                continue
            file, document, errors = read
            pack.errors += consistency_errors(key, file, document)
            for index, item in objects(document, key):
                pointer = json_pointer(key, index)
                _register(pack, getattr(pack, key), kind, name, file, pointer, item, not _within(errors, pointer))
    return load


def _single_loader(kind: str) -> Callable[[Pack, list[Path], Path], None]:
    def load(pack: Pack, paths: list[Path], tree_root: Path) -> None:
        for path in paths[:1]:    # the meta-schema allows one file
            read = _read(pack, path, tree_root, kind)
            if read:
                file, document, errors = read
                pack.errors += consistency_errors(kind, file, document)
                setattr(pack, kind, json_definition(kind, kind, file, "", document, not errors))
    return load


def _load_bpmn(pack: Pack, paths: list[Path], tree_root: Path) -> None:
    for path in paths:
        rel = relative(path, pack.directory)
        pack.bpmn[rel] = bpmn_definition(rel, relative(path, tree_root), path.read_bytes())


_LOADERS = {
    "warning_types": _file_loader("warning_types", "warning_type", "预警类型"),
    "dashboards": _file_loader("dashboards", "dashboard", "统计大屏"),
    **{key: _collection_loader(key) for key in COLLECTIONS},
    "forms": load_forms,
    "bpmn": _load_bpmn,
    "entities": _file_loader("entities", "entity", "实体", key="name", what="名"),
    "organisation": _single_loader("organisation"),
    "roles": _single_loader("roles"),
}


def _dependency_errors(packs: dict[str, Pack], root: Path) -> list[DefinitionError]:
    errors = []
    for pack in packs.values():
        for index, dependency in enumerate(pack.depends):
            if dependency not in packs and not (root / dependency / MANIFEST).is_file():
                errors.append(DefinitionError(pack.manifest.file, json_pointer("depends", index),
                                              f"依赖的定义包 {dependency} 不存在"))
    for cycle in _dependency_cycles(packs):
        first = packs[cycle[0]]
        errors.append(DefinitionError(first.manifest.file, "/depends", f"定义包依赖形成循环：{' → '.join(cycle)}"))
    return errors


def _dependency_cycles(packs: dict[str, Pack]) -> list[list[str]]:
    cycles, done = [], set()

    def visit(code: str, trail: list[str]) -> None:
        if code in trail:
            cycle = trail[trail.index(code):]
            if min(cycle) == cycle[0]:    # report each cycle once, from its smallest member
                cycles.append(cycle + [code])
            return
        if code in done or code not in packs:
            return
        for dependency in packs[code].depends:
            visit(dependency, trail + [code])
        done.add(code)

    for code in sorted(packs):
        visit(code, [])
    return cycles


def _duplicate_warning_type_errors(packs: dict[str, Pack]) -> list[DefinitionError]:
    # Inbound warnings name their type by code alone, so codes are unique across packs.
    first_seen, errors = {}, []
    for pack in packs.values():
        for code, definition in pack.warning_types.items():
            if code in first_seen:
                errors.append(DefinitionError(definition.file, "/code", f"预警类型代码 {code} 与 {first_seen[code].file} 重复"))
            else:
                first_seen[code] = definition
    return errors
