"""Definition packs: JSON and BPMN files under definitions/, loaded, validated against their
meta-schemas (metaschemas/) and cross-checked. Nothing here needs Flask or a database."""
from .command import validate_definitions_command, validate_path
from .errors import DefinitionError
from .forms import form_ui, form_validator
from .loader import load_pack, load_tree
from .model import Definition, DefinitionTree, Form, Pack
from .resolution import TimeLimits, checklist_form_key, resolve_form_key, time_limits, user_task_forms

__all__ = [
    "Definition", "DefinitionError", "DefinitionTree", "Form", "Pack", "TimeLimits",
    "checklist_form_key", "form_ui", "form_validator", "load_pack", "load_tree", "resolve_form_key",
    "time_limits", "user_task_forms", "validate_definitions_command", "validate_path",
]
