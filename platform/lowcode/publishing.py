"""Publishing definition packs.

A release is a numbered, hashed, attributed set of file versions of one pack. Publishing
validates the whole tree as it would be (the other packs' current releases plus the candidate
files) and stores nothing when anything is wrong; unchanged files reuse their stored version.
Rolling back publishes an earlier release's files again as a new release, so history only grows.
What the application runs on is `current_tree()`: the current releases, materialised once into
instance/definitions/ and loaded once per combination, so a publish is in effect at the next
request, without a restart, in every process.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from flask import current_app, g, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lowcode import audit, clock, pack_signing, request_state
from lowcode.definitions import DefinitionError, DefinitionTree, load_tree
from lowcode.extensions import db
from lowcode.models import DefinitionFile, DefinitionRelease

PackFiles = dict[str, bytes]  # path inside the pack → content


class PublishRefused(Exception):
    def __init__(self, errors: list[DefinitionError]):
        super().__init__(f"定义校验未通过：{len(errors)} 个错误")
        self.errors = errors


def read_pack_directory(directory: Path) -> PackFiles:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    }


def read_tree_directory(root: Path) -> dict[str, PackFiles]:
    return {d.name: read_pack_directory(d) for d in sorted(root.iterdir()) if (d / "pack.json").is_file()}


def _release_hash(files: PackFiles) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path}\0{hashlib.sha256(files[path]).hexdigest()}\n".encode())
    return digest.hexdigest()


RELEASE_VERSION = "release_version"

# The current releases as last read by this process, detached, under the release version they were
# read at: (version, {pack code: release}). Replaced whole, so a reader never sees half of it.
_process_releases: tuple = (None, {})


def release_version_column():
    """The release version, as a column of another statement (the officer's load): release ids and
    signatures only ever grow, so their sum moves with every publication, rollback and signing."""
    return select(func.coalesce(func.max(DefinitionRelease.id), 0) + func.count(DefinitionRelease.signature)
                  ).scalar_subquery()


def current_releases() -> dict[str, DefinitionRelease]:
    """The current release of every pack; asked once per request (publishing forgets it)."""
    if has_app_context() and "current_releases" in g:
        return g.current_releases
    version = _request_release_version()
    found = _read_current_releases() if version is request_state.MISSING else _kept_releases(version)
    if has_app_context():
        g.current_releases = found
    return found


def _request_release_version():
    """The release version read with the signed-in officer at the start of this request, else MISSING
    (no officer, or this request has published since: its own writes are not kept for others)."""
    user = g.get("user") if has_app_context() else None
    user_id = getattr(user, "id", None)
    return request_state.recall(RELEASE_VERSION, user_id) if user_id is not None else request_state.MISSING


def _read_current_releases(session: Session = db.session) -> dict[str, DefinitionRelease]:
    latest = select(DefinitionRelease.pack_code, func.max(DefinitionRelease.number).label("number")).group_by(
        DefinitionRelease.pack_code).subquery()
    releases = session.scalars(select(DefinitionRelease).join(
        latest, (DefinitionRelease.pack_code == latest.c.pack_code) & (DefinitionRelease.number == latest.c.number)))
    return {release.pack_code: release for release in releases}


def _kept_releases(version: int) -> dict[str, DefinitionRelease]:
    """The process's releases when kept under `version`, else read now and kept (read after the
    version: never older than what they are kept under), on the request's connection but in a session
    of their own, which leaves them detached. The request gets session copies, made without SQL, so
    that their files still load lazily."""
    global _process_releases
    kept_version, kept = _process_releases
    if kept_version != version:
        with Session(bind=db.session.connection()) as reader:
            kept = _read_current_releases(reader)
        _process_releases = (version, kept)
    return {code: db.session.merge(release, load=False) for code, release in kept.items()}


def _forget_current_releases() -> None:
    if has_app_context():
        g.pop("current_releases", None)
    request_state.forget(RELEASE_VERSION)


def release_files(release: DefinitionRelease) -> PackFiles:
    return {f.path: f.content for f in release.files}


def _write_tree(target: Path, packs: dict[str, PackFiles]) -> None:
    for pack, files in packs.items():
        for path, content in files.items():
            destination = target / pack / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content)


def validate(candidate: dict[str, PackFiles]) -> DefinitionTree:
    """Load the tree made of the current releases with `candidate` packs replacing theirs."""
    packs = {code: release_files(r) for code, r in current_releases().items()}
    packs.update(candidate)
    with tempfile.TemporaryDirectory(prefix="definitions-check-") as scratch:
        _write_tree(Path(scratch), packs)
        return load_tree(scratch)


def _file_version(pack_code: str, path: str, content: bytes, author: str) -> DefinitionFile:
    digest = hashlib.sha256(content).hexdigest()
    existing = db.session.scalar(
        select(DefinitionFile).where(DefinitionFile.pack_code == pack_code, DefinitionFile.path == path,
                                     DefinitionFile.sha256 == digest).order_by(DefinitionFile.version.desc()).limit(1))
    if existing is not None:
        return existing
    last = db.session.scalar(select(func.max(DefinitionFile.version)).where(
        DefinitionFile.pack_code == pack_code, DefinitionFile.path == path)) or 0
    version = DefinitionFile(pack_code=pack_code, path=path, version=last + 1, sha256=digest, content=content,
                             created_at=clock.now(), created_by=author)
    db.session.add(version)
    return version


def publish(pack_code: str, files: PackFiles, *, source: str, note: str = "",
            based_on: Optional[DefinitionRelease] = None) -> Optional[DefinitionRelease]:
    """Validate and publish; returns the new release, or None when nothing changed."""
    errors = validate({pack_code: files}).errors
    if errors:
        raise PublishRefused(errors)
    current = current_releases().get(pack_code)
    digest = _release_hash(files)
    if current is not None and current.sha256 == digest:
        if current.signature is None:  # published before releases were signed: sign the source's files
            pack_signing.sign(current, files)
            db.session.commit()
            _forget_current_releases()
        return None
    author = audit.actor_name()
    release = DefinitionRelease(
        pack_code=pack_code, number=(current.number + 1) if current else 1, sha256=digest, source=source,
        note=note, based_on_id=based_on.id if based_on else None, published_at=clock.now(), published_by=author,
        files=[_file_version(pack_code, path, content, author) for path, content in sorted(files.items())],
    )
    pack_signing.sign(release, files)
    db.session.add(release)
    db.session.flush()
    _forget_current_releases()
    changed = changed_paths(release_files(current) if current else {}, files)
    audit.record("publish", "DefinitionRelease", release.id,
                 f"发布定义包 {pack_code} 第 {release.number} 版（{SOURCE_LABELS.get(source, source)}）："
                 f"新增 {len(changed['added'])}、修改 {len(changed['changed'])}、删除 {len(changed['removed'])} 个文件",
                 before={"release": current.number if current else None},
                 after={"release": release.number, "sha256": digest, **changed})
    db.session.commit()
    return release


SOURCE_LABELS = {"directory": "从目录发布", "upload": "上传变更", "rollback": "回滚", "labels": "等级与类型管理"}


def changed_paths(old: PackFiles, new: PackFiles) -> dict[str, list[str]]:
    return {
        "added": sorted(set(new) - set(old)),
        "changed": sorted(p for p in set(new) & set(old) if new[p] != old[p]),
        "removed": sorted(set(old) - set(new)),
    }


def publish_directory(root: Path, packs: Optional[Iterable[str]] = None, only_unpublished: bool = False,
                      note: str = "") -> list[DefinitionRelease]:
    """Publish the packs found under `root` (all, or those named), dependencies first."""
    tree = read_tree_directory(root)
    errors = validate(tree).errors
    if errors:
        raise PublishRefused(errors)
    existing = current_releases()
    published = []
    for code in _dependency_order(tree):
        if packs is not None and code not in packs:
            continue
        if only_unpublished and code in existing:
            continue
        release = publish(code, tree[code], source="directory", note=note)
        if release is not None:
            published.append(release)
    return published


def _dependency_order(tree: dict[str, PackFiles]) -> list[str]:
    import json

    depends = {code: json.loads(files["pack.json"]).get("depends", []) for code, files in tree.items()}
    ordered: list[str] = []

    def visit(code: str) -> None:
        if code in ordered or code not in depends:
            return
        for dependency in depends[code]:
            visit(dependency)
        ordered.append(code)

    for code in sorted(depends):
        visit(code)
    return ordered


def rollback(release_id: int, note: str = "") -> Optional[DefinitionRelease]:
    """Publish the files of an earlier release again, as a new release."""
    target = db.session.get(DefinitionRelease, release_id)
    if target is None:
        raise LookupError(f"发布版本 {release_id} 不存在")
    return publish(target.pack_code, release_files(target), source="rollback",
                   note=note or f"回滚到第 {target.number} 版", based_on=target)


_TREES: dict[str, DefinitionTree] = {}


def current_tree() -> DefinitionTree:
    """The definitions in force: loaded once per combination of current releases."""
    return tree_for(current_releases())


def warning_packs() -> dict:
    """Each warning type code of the definitions in force → the pack that defines it."""
    return {code: pack for pack in current_tree().packs.values() for code in pack.warning_types}


def business_packs() -> list:
    """The packs in force that define warning types (their clues, tasks, levels and types)."""
    return [pack for _, pack in sorted(current_tree().packs.items()) if pack.warning_types]


def tree_key(releases: dict[str, DefinitionRelease]) -> str:
    """The name of a combination of releases (its folder under instance/definitions/)."""
    return hashlib.sha256("".join(f"{c}:{r.sha256};" for c, r in sorted(releases.items())).encode()).hexdigest()[:16]


def tree_for(releases: dict[str, DefinitionRelease]) -> DefinitionTree:
    """The tree made of these releases (a running process's pinned ones, or the current ones)."""
    key = tree_key(releases)
    if key not in _TREES:
        if len(_TREES) > 16:
            _TREES.clear()  # a handful of combinations are ever in use at once
        root = _materialise(key, releases)
        if pack_signing.production():  # verified once per process and combination, before first use
            for code, release in releases.items():
                pack_signing.verify(release, release_files(release), root / code)
        _TREES[key] = load_tree(root)
    return _TREES[key]


def pinned_tree(release: DefinitionRelease) -> DefinitionTree:
    """The tree a process started on: its pack's release as it was, the other packs as now."""
    return tree_for({**current_releases(), release.pack_code: release})


def _materialise(key: str, releases: dict[str, DefinitionRelease]) -> Path:
    base = Path(current_app.config["INSTANCE_PATH"]) / "definitions"
    target = base / key
    if not target.exists():
        base.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=base))
        _write_tree(scratch, {code: release_files(r) for code, r in releases.items()})
        try:
            os.rename(scratch, target)  # atomic: another process may have won the race
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
    return target
