"""Published definition packs carry an SM2 signature over the SM3 of every file; in production a
changed file (in the database or on disk) is refused with an error naming it."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from lowcode import pack_signing, publishing
from lowcode.extensions import db
from lowcode.models import DefinitionFile

FILE = "warning_types/red_label_rider.json"


@pytest.fixture()
def production(app):
    app.config["LOWCODE_ENV"] = "production"
    publishing._TREES.clear()
    yield
    app.config["LOWCODE_ENV"] = "development"
    publishing._TREES.clear()


def test_every_release_is_signed_and_verifies(app):
    with app.app_context():
        for release in publishing.current_releases().values():
            assert release.signature and release.manifest
            pack_signing.verify(release, publishing.release_files(release))


def test_production_loads_an_untouched_tree(app, production):
    with app.app_context():
        assert "nmv" in publishing.current_tree().packs


def test_a_file_changed_on_disk_is_refused_naming_it(app, production):
    with app.app_context():
        publishing.current_tree()  # materialised and verified
        key = publishing.tree_key(publishing.current_releases())
        path = Path(app.config["INSTANCE_PATH"]) / "definitions" / key / "nmv" / FILE
        original = path.read_bytes()
        path.write_bytes(original.replace("红标".encode(), "绿标".encode()) + b" ")
        publishing._TREES.clear()
        try:
            with pytest.raises(pack_signing.PackSignatureError, match=f"nmv/{FILE}.*磁盘上"):
                publishing.current_tree()
        finally:
            path.write_bytes(original)


def test_a_file_changed_in_the_database_is_refused_naming_it(app, production):
    with app.app_context():
        release = publishing.current_releases()["nmv"]
        stored = next(f for f in release.files if f.path == FILE)
        db.session.execute(update(DefinitionFile).where(DefinitionFile.id == stored.id)
                           .values(content=stored.content + b"\n"))
        db.session.expire_all()
        try:
            with pytest.raises(pack_signing.PackSignatureError, match=f"nmv/{FILE}.*数据库中"):
                pack_signing.verify(publishing.current_releases()["nmv"],
                                    publishing.release_files(publishing.current_releases()["nmv"]))
        finally:
            db.session.rollback()


def test_a_forged_manifest_is_refused(app):
    with app.app_context():
        release = publishing.current_releases()["nmv"]
        files = publishing.release_files(release)
        release.manifest = pack_signing.manifest({**files, FILE: b"{}"})
        with pytest.raises(pack_signing.PackSignatureError, match="发布签名无效"):
            pack_signing.verify(release, files)
        db.session.rollback()


def test_an_unsigned_earlier_release_is_signed_by_loading_the_same_files_again(app):
    with app.app_context():
        release = publishing.current_releases()["nmv"]
        release.signature = release.manifest = None
        db.session.commit()
        assert publishing.publish_directory(Path(app.config["DEFINITIONS_PATH"])) == []
        db.session.expire_all()
        release = publishing.current_releases()["nmv"]
        assert release.signature
        pack_signing.verify(release, publishing.release_files(release))
