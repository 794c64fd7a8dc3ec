"""Personal data at rest: SM4-GCM columns with a blind index, shown masked unless revealed.

A model declares a personal attribute with `personal_attribute(column attr, index attr, kind)`:
the column holds a field token bound to (table, column, row id); the index column holds the
HMAC-SM3 blind index for exact search; the attribute itself reads as the *masked* value
(138****5678), so lists, pages, APIs and summaries show the mask without any effort. The full
value comes only from `reveal(obj, name)`, which callers guard by permission and audit.

The row id is only known after an insert, so a new row is written with the column empty and
encrypted right after (`after_insert`); updates are encrypted before they are written. The clear
value never reaches the database.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Optional

from sqlalchemy import event, update
from sqlalchemy.orm import attributes

from lowcode import keyring
from lowcode.crypto import fields

# kind -> (normalise for the index, mask for display)
KINDS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "mobile": (fields.normalise_mobile, fields.mask_mobile),
    "id_number": (fields.normalise_id_number, fields.mask_id_number),
    "name": (fields.normalise_text, fields.mask_name),
}


def mask(kind: str, value: Optional[str]) -> Optional[str]:
    return KINDS[kind][1](value) if value else value


def encrypt(table: str, column: str, row_id, value: str) -> str:
    return fields.encrypt_field(keyring.keyring(), value, fields.field_context(table, column, row_id))


def decrypt(table: str, column: str, row_id, token: str) -> str:
    return fields.decrypt_field(keyring.keyring(), token, fields.field_context(table, column, row_id))


def blind_index(table: str, column: str, kind: str, value: str) -> str:
    return fields.blind_index(keyring.keyring(), table, column, value, normalise=KINDS[kind][0])


def protect_many(table: str, column: str, kind: str, values: list[tuple[object, Optional[str]]]
                 ) -> list[tuple[Optional[str], Optional[str]]]:
    """(token, blind index) of each (row id, value) of one column, the key ring read once: for
    bulk writes, where reading it per value costs as much as the encryption."""
    ring, normalise = keyring.keyring(), KINDS[kind][0]
    return [(fields.encrypt_field(ring, value, fields.field_context(table, column, row_id)),
             fields.blind_index(ring, table, column, value, normalise=normalise)) if value else (None, None)
            for row_id, value in values]


def index_candidates(table: str, column: str, kind: str, value: str) -> list[str]:
    """The value's index under every key of the ring: search with `index IN (...)`."""
    return fields.blind_index_candidates(keyring.keyring(), table, column, value, normalise=KINDS[kind][0])


def _spec(model, name: str) -> tuple[str, str, str]:
    token_attr, index_attr, kind = model.__personal__[name]
    return token_attr, index_attr, kind


def _column(model, token_attr: str) -> str:
    return model.__mapper__.column_attrs[token_attr].columns[0].name


def reveal(obj, name: str) -> Optional[str]:
    """The full value: only for callers that checked the permission and audit the reveal."""
    pending = obj.__dict__.get("_personal_pending", {})
    if name in pending:
        return pending[name]
    token_attr, _, _ = _spec(type(obj), name)
    token = getattr(obj, token_attr)
    if not token:
        return None
    return decrypt(type(obj).__tablename__, _column(type(obj), token_attr), obj.id, token)


def display(obj, name: str) -> Optional[str]:
    return mask(_spec(type(obj), name)[2], reveal(obj, name))


def masked_token(model, token_attr: str, row_id, token: Optional[str]) -> Optional[str]:
    """The mask of a stored token (for the audit trail's before/after), or None."""
    for name, (attr, _, kind) in model.__personal__.items():
        if attr == token_attr and token and row_id is not None:
            return mask(kind, decrypt(model.__tablename__, _column(model, attr), row_id, token))
    return None


def personal_attribute(name: str):
    """The property `name` of a model with `__personal__[name] = (token attr, index attr, kind)`."""

    def getter(obj):
        return display(obj, name)

    def setter(obj, value):
        value = (value or "").strip() or None
        if value is not None and "*" in value and value == display(obj, name):
            return  # the masked value posted back unchanged by an edit form: no change
        token_attr, index_attr, kind = _spec(type(obj), name)
        obj.__dict__.setdefault("_personal_pending", {})[name] = value
        table, column = type(obj).__tablename__, _column(type(obj), token_attr)
        setattr(obj, index_attr, blind_index(table, column, kind, value) if value else None)
        attributes.flag_modified(obj, index_attr)

    return property(getter, setter)


def _pending(obj) -> dict:
    return obj.__dict__.get("_personal_pending") or {}


def _before_insert(_mapper, _connection, target) -> None:
    for name in _pending(target):
        setattr(target, _spec(type(target), name)[0], None)


def _after_insert(_mapper, connection, target) -> None:
    _write_pending(connection, target)


def _before_update(_mapper, _connection, target) -> None:
    model = type(target)
    for name, value in _pending(target).items():
        token_attr = _spec(model, name)[0]
        setattr(target, token_attr, value and encrypt(model.__tablename__, _column(model, token_attr), target.id, value))
    target.__dict__.pop("_personal_pending", None)


def _write_pending(connection, target) -> None:
    model, values = type(target), {}
    for name, value in _pending(target).items():
        token_attr = _spec(model, name)[0]
        token = value and encrypt(model.__tablename__, _column(model, token_attr), target.id, value)
        values[_column(model, token_attr)] = token
        attributes.set_committed_value(target, token_attr, token)
    if values:
        table = model.__table__
        connection.execute(update(table).where(table.c.id == target.id).values(**values))
    target.__dict__.pop("_personal_pending", None)


def install(model) -> None:
    """Attach the encrypting hooks to a model with `__personal__`; idempotent."""
    for name, hook in (("before_insert", _before_insert), ("after_insert", _after_insert),
                       ("before_update", _before_update)):
        if not event.contains(model, name, hook):
            event.listen(model, name, hook)


# --- personal fields of forms (x-personal): tokens inside the stored JSON ------------------------
# A value inside a JSON document is bound to its field (the path without row indices), not to
# its row: the readers of a document (summaries, clue pages) know the form, not where it is kept.

FORM_TABLE, FORM_COLUMN = "form_data", "personal"
_FORMAT_KINDS = {"mobile": "mobile", "id-card": "id_number"}


@lru_cache(maxsize=4096)  # a form has few field paths; bulk intake asks for the same ones per item
def _form_context(path: str) -> bytes:
    field_path = ".".join(part for part in path.split(".") if not part.isdigit())
    return fields.field_context(FORM_TABLE, FORM_COLUMN, field_path or "-")


_TOKEN_PREFIX = fields.VERSION + "."


def is_token(value: str) -> bool:
    if not value.startswith(_TOKEN_PREFIX):  # most clear values: no exception raised to tell
        return False
    try:
        fields.token_key_id(value)
    except fields.MalformedToken:
        return False
    return True


def _plain(path: str, value: str) -> str:
    if not is_token(value):  # stored before the field was marked personal: still clear
        return value
    return fields.decrypt_field(keyring.keyring(), value, _form_context(path))


def protect_form(form, data):
    """The data with every x-personal value encrypted (values already encrypted stay as they are)."""
    ring = keyring.keyring()
    return form.map_personal(data, lambda _field, path, value: value if is_token(value)
                             else fields.encrypt_field(ring, value, _form_context(path)))


def reveal_form(form, data):
    """The data with every x-personal value in clear: only for a permitted, audited reveal."""
    return form.map_personal(data, lambda _field, path, value: _plain(path, value))


def mask_form(form, data):
    """The data as shown by default: every x-personal value masked by its format."""
    return form.map_personal(data, lambda field, path, value: mask(_FORMAT_KINDS.get(field.format, "name"),
                                                                   _plain(path, value)))


def reencrypt_document(data, path: str = ""):
    """(data with every field token under the current key, whether anything changed).

    Needs no form: a token's associated data is its own path in the document.
    """
    if isinstance(data, dict):
        pairs = [(name, reencrypt_document(value, f"{path}.{name}" if path else name)) for name, value in data.items()]
        return {name: new for name, (new, _) in pairs}, any(changed for _, (_, changed) in pairs)
    if isinstance(data, list):
        items = [reencrypt_document(value, f"{path}.{i}" if path else str(i)) for i, value in enumerate(data)]
        return [new for new, _ in items], any(changed for _, changed in items)
    if isinstance(data, str) and is_token(data) and fields.needs_reencryption(keyring.keyring(), data):
        return fields.reencrypt_field(keyring.keyring(), data, _form_context(path)), True
    return data, False


# --- exact search in documents: blind indexes of their id-card and mobile values -----------------

SEARCHABLE = {"id-card": "id_number", "mobile": "mobile"}


IndexEntry = tuple[str, str, str]  # (field path, kind, blind index) of a searchable value


def _index_entry(ring, field, path: str, plain: str) -> IndexEntry | None:
    kind = SEARCHABLE.get(field.format)
    return (path, kind, fields.blind_index(ring, FORM_TABLE, kind, plain, normalise=KINDS[kind][0])) if kind else None


def index_rows(object_type: str, object_id: int, entries: list[IndexEntry]) -> list[dict]:
    """PersonalIndex rows of a document's index entries."""
    return [{"object_type": object_type, "object_id": object_id, "field": path, "kind": kind, "value_index": index}
            for path, kind, index in entries]


def document_index_rows(object_type: str, object_id: int, form, data) -> list[dict]:
    """PersonalIndex rows for the searchable personal values of a document (tokens or clear)."""
    ring, entries = keyring.keyring(), []

    def collect(field, path, value):
        entry = _index_entry(ring, field, path, _plain(path, value))
        if entry:
            entries.append(entry)
        return value

    form.map_personal(data, collect)
    return index_rows(object_type, object_id, entries)


def protect_and_index(form, data) -> tuple[Any, list[IndexEntry]]:
    """(the data as `protect_form` makes it, the index entries of its searchable values) in one
    walk, the indexes from the clear values: what a new document needs (bulk intake)."""
    ring, entries = keyring.keyring(), []

    def protect(field, path, value):
        token = is_token(value)
        entry = _index_entry(ring, field, path, _plain(path, value) if token else value)
        if entry:
            entries.append(entry)
        return value if token else fields.encrypt_field(ring, value, _form_context(path))

    return form.map_personal(data, protect), entries


def find_documents(object_type: str, kind: str, value: str):
    """A select of the ids of documents holding this value (any spelling) in a field of this kind."""
    from sqlalchemy import select

    from lowcode.models import PersonalIndex

    return select(PersonalIndex.object_id).where(
        PersonalIndex.object_type == object_type, PersonalIndex.kind == kind,
        PersonalIndex.value_index.in_(index_candidates(FORM_TABLE, kind, kind, value)))


def document_value(data, path: str):
    """The clear value at a data path of a document (for rebuilding its index)."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return _plain(path, data)


# --- a warning's subject when it is a person (warning type "subject_personal") -------------------

def subject_keys(subject_id: str) -> list[str]:
    """What `Clue.subject_key` may hold for a personal subject id: its blind index under every key."""
    return index_candidates(FORM_TABLE, "subject", "id_number", subject_id)


def protect_subject(subject: dict) -> tuple[dict, str, str]:
    """(the subject with id and name encrypted, its blind-index key, a masked label for titles)."""
    ring = keyring.keyring()
    stored = dict(subject)
    for name in ("id", "name"):
        if isinstance(subject.get(name), str) and subject[name]:
            stored[name] = fields.encrypt_field(ring, subject[name], _form_context(f"subject.{name}"))
    label = mask("name", subject["name"]) if subject.get("name") else mask("id_number", str(subject["id"]))
    return stored, blind_index(FORM_TABLE, "subject", "id_number", str(subject["id"])), label
