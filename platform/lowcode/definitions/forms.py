"""Forms of a pack: X.schema.json + X.ui.json pairs and shared X.defs.json (+ optional X.ui.json),
registered so that relative $ref resolves between the pack's form files and nowhere else."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from forms import subset_problems

from .content import read_json
from .errors import DefinitionError
from .form_checks import form_ui_errors, fragment_ui_errors, ref_errors, undeclared_name_errors
from .form_schema import RefProblem, fields, follow
from .manifest import relative
from .metaschemas import metaschema_errors
from .model import Form, Pack, json_definition

SUFFIXES = {".schema.json": "form", ".defs.json": "form_defs", ".ui.json": "form_ui"}
# No retrieval is configured on the registry: a $ref outside the pack's forms is unresolvable.
FORMS_BASE_URI = "https://lowcode.invalid/packs/"
_SUBSET_ERRORS: dict[tuple, list[DefinitionError]] = {}


def form_validator(pack: Pack, key: str, format_checker=None) -> Draft202012Validator:
    """A validator for data entered in form `key`, its $ref resolved within the pack."""
    return Draft202012Validator({"$ref": pack.forms[key].uri}, registry=pack.form_registry,
                                format_checker=format_checker)


def form_ui(pack: Pack, key: str) -> dict:
    """The UI schema a renderer needs: UI hints of the shared definitions a field refers to
    (from their X.ui.json), overridden by the form's own X.ui.json."""
    form = pack.forms[key]
    return _merged_ui(form.schema.content, form.ui.content if form.ui else {}, form.uri, pack)


def load_forms(pack: Pack, paths: list[Path], tree_root: Path) -> None:
    """Read, validate, register and check the pack's form files; errors go to pack.errors."""
    known_errors = len(pack.errors)
    documents, valid = _read_form_files(pack, paths, tree_root)
    pack.form_registry = Registry().with_resources(
        (_uri(pack, rel), Resource.from_contents(document, default_specification=DRAFT202012))
        for rel, document in documents.items() if not rel.endswith(".ui.json") and isinstance(document, dict)
    )
    for rel in documents:
        if not rel.endswith(".ui.json"):
            _register(pack, rel, documents, valid, tree_root)
        elif not any(_stem(rel) + suffix in documents for suffix in (".schema.json", ".defs.json")):
            pack.errors.append(DefinitionError(relative(pack.directory / rel, tree_root), "",
                                               f"缺少对应的表单文件 {Path(_stem(rel)).name}.schema.json 或 .defs.json"))
    for form in (*pack.forms.values(), *pack.form_fragments.values()):
        pack.errors += _form_errors(pack, form)
    if len(pack.errors) == known_errors:
        # The form engine's own subset check comes last, so it never repeats a problem found above.
        pack.errors += _subset_errors(pack, tree_root)


def _read_form_files(pack: Pack, paths: list[Path], tree_root: Path) -> tuple[dict[str, Any], set[str]]:
    """Parsed documents by pack-relative path, and the paths that passed their meta-schema."""
    documents, valid = {}, set()
    for path in paths:
        rel, file = relative(path, pack.directory), relative(path, tree_root)
        suffix = next((suffix for suffix in SUFFIXES if rel.endswith(suffix)), None)
        if suffix is None:
            pack.errors.append(DefinitionError(file, "", "无法识别的表单文件：应命名为 X.schema.json、X.ui.json 或 X.defs.json"))
            continue
        document, errors = read_json(path, file)
        if document is None:
            pack.errors += errors
            continue
        errors = metaschema_errors(SUFFIXES[suffix], document, file)
        pack.errors += errors
        documents[rel] = document
        if not errors:
            valid.add(rel)
    return documents, valid


def _stem(rel: str) -> str:
    return next(rel.removesuffix(suffix) for suffix in SUFFIXES if rel.endswith(suffix))


def _uri(pack: Pack, rel: str) -> str:
    return f"{FORMS_BASE_URI}{pack.code}/{rel}"


def _register(pack: Pack, rel: str, documents: dict[str, Any], valid: set[str], tree_root: Path) -> None:
    key, is_form = _stem(rel), rel.endswith(".schema.json")
    file = relative(pack.directory / rel, tree_root)
    if is_form and key + ".defs.json" in documents:
        pack.errors.append(DefinitionError(file, "", f"{Path(key).name}.schema.json 与 {Path(key).name}.defs.json 不能同名：UI 文件会有歧义"))
        return
    ui_rel = key + ".ui.json"
    ui = None
    if ui_rel in documents:
        ui = json_definition("form_ui", key, relative(pack.directory / ui_rel, tree_root), "", documents[ui_rel], ui_rel in valid)
    elif is_form:
        pack.errors.append(DefinitionError(file, "", f"缺少对应的 UI schema 文件 {Path(key).name}.ui.json"))
    schema = json_definition("form_schema" if is_form else "form_fragment", key, file, "", documents[rel], rel in valid)
    (pack.forms if is_form else pack.form_fragments)[key] = Form(key, schema, ui, _uri(pack, rel))


def _form_errors(pack: Pack, form: Form) -> list[DefinitionError]:
    if not form.schema.valid:
        return []
    registry, document, file = pack.form_registry, form.schema.content, form.schema.file
    errors = ref_errors(document, file, form.uri, registry) + undeclared_name_errors(document, file)
    if form.ui is not None and form.ui.valid:
        check = form_ui_errors if form.schema.kind == "form_schema" else fragment_ui_errors
        errors += check(form.ui.content, document, form.ui.file, form.uri, registry)
    return errors


def _subset_errors(pack: Pack, tree_root: Path) -> list[DefinitionError]:
    """What the form engine would refuse to compile, at the file and pointer where it is written
    (a shared definition used by several forms is reported once)."""
    # A pure function of the pack's form files, as meta-schema validation is: checked once per content.
    key = (relative(pack.directory, tree_root), tuple(sorted(
        (form.key, form.schema.sha256, form.ui.sha256 if form.ui else "")
        for form in (*pack.forms.values(), *pack.form_fragments.values()))))
    if key not in _SUBSET_ERRORS:
        if len(_SUBSET_ERRORS) > 64:
            _SUBSET_ERRORS.clear()
        _SUBSET_ERRORS[key] = _engine_errors(pack, tree_root)
    return list(_SUBSET_ERRORS[key])


def _engine_errors(pack: Pack, tree_root: Path) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for key, form in sorted(pack.forms.items()):
        for problem in subset_problems(form.uri, pack.form_registry, form_ui(pack, key)):
            file = relative(pack.directory / problem.uri.removeprefix(_uri(pack, "")), tree_root)
            error = DefinitionError(file, problem.pointer, problem.reason)
            if error not in found:
                found.append(error)
    return found


def _merged_ui(schema: dict, own: dict, base: str, pack: Pack) -> dict:
    try:
        followed = follow(schema, base, pack.form_registry)
    except RefProblem:
        return own
    merged = dict(own)
    for name, field in fields(followed.node).items():
        ui = _field_ui(field, own.get(name, {}), followed.base, pack)
        if ui:
            merged[name] = ui
    return merged


def _field_ui(field: dict, own: dict, base: str, pack: Pack) -> dict:
    try:
        followed = follow(field, base, pack.form_registry)
    except RefProblem:
        return own
    ui: dict = {}
    for uri, name in reversed(followed.refs):    # innermost definition first, the form's own last
        shared = pack.form_fragments.get(_key_of(pack, uri))
        if shared is not None and shared.ui is not None:
            ui = _deep_merge(ui, shared.ui.content.get(name, {}))
    ui = _deep_merge(ui, own)
    node = followed.node
    if node.get("type") == "object":
        return _merged_ui(node, ui, followed.base, pack)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        items = _merged_ui(node["items"], ui.get("items", {}), followed.base, pack)
        return {**ui, "items": items} if items else ui
    return ui


def _key_of(pack: Pack, uri: str) -> str:
    return _stem(uri.removeprefix(_uri(pack, "")))


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged
