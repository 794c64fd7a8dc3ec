"""The form engine: a JSON Schema 2020-12 subset plus a UI schema → a field tree, validation with
Chinese messages per field, conditions evaluated the same way here and in the browser, decoding
of HTML form posts, and HTML (web and read-only summary). It knows nothing of the application:
hosts pass in the schema registry, the data and what to show of stored attachments.
"""
from .attachments import accepts, label as content_type_label, sniff
from .compiler import SubsetError, SubsetProblem
from .conditions import evaluate
from .fields import Field, Option
from .form import Errors, Form, compile_form, subset_problems
from .formats import FORMATS, format_checker
from .rendering import AttachmentView, Attachments, Layout, label_of, render_attachment, render_summary, render_web

__all__ = [
    "AttachmentView", "Attachments", "Errors", "FORMATS", "Field", "Form", "Layout", "Option", "SubsetError",
    "SubsetProblem", "accepts", "compile_form", "content_type_label", "evaluate", "format_checker", "label_of",
    "render_attachment", "render_summary", "render_web", "sniff", "subset_problems",
]
