"""定义管理: packs, releases, file versions, differences, upload with validation, publish, rollback."""
from __future__ import annotations

import difflib
import io
import json
import secrets
import zipfile
from pathlib import Path, PurePosixPath

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from lowcode import bootstrap, publishing
from lowcode.extensions import db
from lowcode.models import DefinitionFile, DefinitionRelease

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ALLOWED_SUFFIXES = {".json", ".bpmn"}


def unified_rows(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) rows for the diff table."""
    rows = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, n=3, lineterm=""):
        kind = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        rows.append((kind, line))
    return rows


def readable(content: bytes) -> str:
    """JSON pretty-printed with sorted keys so a diff shows meaning, not formatting."""
    text = content.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        return text


def uploaded_files() -> tuple[publishing.PackFiles, list[str]]:
    """Files of the upload: a zip keeps its paths; single files go into the chosen folder."""
    folder = PurePosixPath(request.form.get("folder", "").strip().strip("/"))
    files: publishing.PackFiles = {}
    problems = []
    for storage in request.files.getlist("files"):
        if not storage.filename:
            continue
        content = storage.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            problems.append(f"{storage.filename}：文件超过 5 MB")
            continue
        if storage.filename.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                for name in archive.namelist():
                    if not name.endswith("/"):
                        files[name] = archive.read(name)
        else:
            files[str(folder / PurePosixPath(storage.filename).name) if str(folder) != "." else
                  PurePosixPath(storage.filename).name] = content
    for path in list(files):
        parts = PurePosixPath(path).parts
        if path.startswith("/") or ".." in parts or PurePosixPath(path).suffix not in ALLOWED_SUFFIXES:
            problems.append(f"{path}：只接受定义包内相对路径下的 .json 与 .bpmn 文件")
            del files[path]
    return files, problems


def _staging_dir() -> Path:
    path = Path(current_app.config["INSTANCE_PATH"]) / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage(pack_code: str, files: publishing.PackFiles) -> str:
    token = secrets.token_hex(8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    (_staging_dir() / f"{pack_code}.{token}.zip").write_bytes(buffer.getvalue())
    return token


def staged(pack_code: str, token: str) -> publishing.PackFiles:
    if not token.isalnum():
        abort(404)
    path = _staging_dir() / f"{pack_code}.{token}.zip"
    if not path.exists():
        abort(404)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


class DefinitionsView(BaseView):
    route_base = "/definitions"
    default_view = "index"
    class_permission_name = "Definition"
    method_permission_name = {
        "index": "read", "pack": "read", "file": "read", "diff": "read", "compare": "read",
        "upload": "write", "publish_staged": "write", "publish_directory": "write", "rollback": "write",
    }
    base_permissions = ["can_read", "can_write"]

    def render_template(self, template, **kwargs):
        kwargs["can_write"] = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
        return super().render_template(template, **kwargs)

    def _release_or_404(self, release_id: int) -> DefinitionRelease:
        return db.session.get(DefinitionRelease, release_id) or abort(404)

    @expose("/")
    @has_access
    def index(self):
        releases = publishing.current_releases()
        tree = publishing.current_tree()
        packs = []
        for code, release in sorted(releases.items()):
            manifest = tree.packs[code].manifest.content if code in tree.packs else {}
            packs.append({"code": code, "name": manifest.get("name", code), "release": release,
                          "files": len(release.files), "warning_types": len(tree.packs[code].warning_types)
                          if code in tree.packs else 0})
        return self.render_template("definitions/index.html", packs=packs)

    @expose("/pack/<code>")
    @has_access
    def pack(self, code: str):
        releases = db.session.scalars(select(DefinitionRelease).where(DefinitionRelease.pack_code == code)
                                      .order_by(DefinitionRelease.number.desc())).all()
        if not releases:
            abort(404)
        tree = publishing.current_tree()
        return self.render_template("definitions/pack.html", code=code, releases=releases, current=releases[0],
                                    pack=tree.packs.get(code), source_labels=publishing.SOURCE_LABELS)

    @expose("/file/<int:file_id>")
    @has_access
    def file(self, file_id: int):
        version = db.session.get(DefinitionFile, file_id) or abort(404)
        history = db.session.scalars(select(DefinitionFile).where(
            DefinitionFile.pack_code == version.pack_code, DefinitionFile.path == version.path)
            .order_by(DefinitionFile.version.desc())).all()
        return self.render_template("definitions/file.html", version=version, history=history,
                                    text=readable(version.content))

    @expose("/diff")
    @has_access
    def diff(self):
        a = db.session.get(DefinitionFile, request.args.get("a", type=int) or 0) or abort(404)
        b = db.session.get(DefinitionFile, request.args.get("b", type=int) or 0) or abort(404)
        if (a.pack_code, a.path) != (b.pack_code, b.path):
            abort(400)
        rows = unified_rows(readable(a.content), readable(b.content), f"第 {a.version} 版", f"第 {b.version} 版")
        return self.render_template("definitions/diff.html", a=a, b=b, sections=[(a.path, rows)])

    @expose("/compare/<int:old_id>/<int:new_id>")
    @has_access
    def compare(self, old_id: int, new_id: int):
        old, new = self._release_or_404(old_id), self._release_or_404(new_id)
        if old.pack_code != new.pack_code:
            abort(400)
        old_files, new_files = publishing.release_files(old), publishing.release_files(new)
        sections = [
            (path, unified_rows(readable(old_files.get(path, b"")), readable(new_files.get(path, b"")),
                                f"第 {old.number} 版", f"第 {new.number} 版"))
            for path in sorted(set(old_files) | set(new_files))
            if old_files.get(path) != new_files.get(path)
        ]
        return self.render_template("definitions/diff.html", a=old, b=new, sections=sections)

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        releases = publishing.current_releases()
        context = {"packs": sorted(releases), "errors": [], "problems": [], "summary": None}
        if request.method == "POST":
            code = request.form.get("pack", "")
            if code not in releases:
                abort(404)
            files, problems = uploaded_files()
            context.update(pack=code, problems=problems)
            if not files and not problems:
                context["problems"] = ["请选择要上传的文件。"]
            if files and not problems:
                current = publishing.release_files(releases[code])
                candidate = files if request.form.get("replace") else {**current, **files}
                tree = publishing.validate({code: candidate})
                context["errors"] = tree.errors
                if not tree.errors:
                    context["summary"] = publishing.changed_paths(current, candidate)
                    context["token"] = stage(code, candidate)
        return self.render_template("definitions/upload.html", **context)

    @expose("/upload/<code>/<token>/publish", methods=["POST"])
    @has_access
    def publish_staged(self, code: str, token: str):
        files = staged(code, token)
        return self._publish(lambda: [publishing.publish(code, files, source="upload",
                                                         note=request.form.get("note", "").strip())], code)

    @expose("/publish-directory", methods=["POST"])
    @has_access
    def publish_directory(self):
        root = Path(current_app.config["DEFINITIONS_PATH"])
        return self._publish(lambda: publishing.publish_directory(root, note=request.form.get("note", "").strip()),
                             None)

    @expose("/release/<int:release_id>/rollback", methods=["POST"])
    @has_access
    def rollback(self, release_id: int):
        target = self._release_or_404(release_id)
        return self._publish(lambda: [publishing.rollback(release_id, request.form.get("note", "").strip())],
                             target.pack_code)

    def _publish(self, action, code):
        try:
            releases = [r for r in action() if r is not None]
        except publishing.PublishRefused as refused:
            for error in refused.errors[:20]:
                flash(str(error), "danger")
            flash(f"{refused}，未发布任何内容。", "danger")
            return redirect(url_for("DefinitionsView.pack", code=code) if code else url_for("DefinitionsView.index"))
        if not releases:
            flash("内容与当前版本相同，无需发布。", "info")
        for release in releases:
            flash(f"已发布定义包 {release.pack_code} 第 {release.number} 版，立即生效。", "success")
        bootstrap.apply_published(releases)
        return redirect(url_for("DefinitionsView.pack", code=code) if code else url_for("DefinitionsView.index"))
