"""Valid answers for any form of a pack: the form engine's examples, checked before use. With a
user, required photos and signatures are uploaded as that user, as the browser would."""
from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

import forms.examples
from forms.examples import png
from lowcode import form_service
from lowcode.form_service import form_for


def sample(pack, form_key: str, user=None, **overrides) -> dict:
    form = form_for(pack, form_key)

    def attach(field, path: str) -> str:
        upload = FileStorage(io.BytesIO(png()), filename="现场照片.png")
        return form_service.store_attachment(pack, form_key, path, upload, user).id

    data = forms.examples.example(form, attach=attach if user is not None else None, **overrides)
    errors = form.errors(data)
    assert not errors, errors
    return data

