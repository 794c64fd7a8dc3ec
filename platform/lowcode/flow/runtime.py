"""Engine wiring: the restricted script engine with the platform's services, specs loaded from
the BPMN file version an instance pinned, state restored and saved around each change."""
from __future__ import annotations

from bpmn import engine
from bpmn.script_engine import RestrictedScriptEngine
from bpmn.services import ServiceRegistry
from flask import current_app

from lowcode.extensions import db
from lowcode.models import DefinitionFile, ProcessInstance


def script_engine() -> RestrictedScriptEngine:
    """One per application: it holds no per-run state."""
    extension = current_app.extensions.setdefault("workflow", {})
    if "script_engine" not in extension:
        from lowcode.flow.platform_services import register_all

        registry = ServiceRegistry()
        register_all(registry)
        extension["script_engine"] = RestrictedScriptEngine(registry)
    return extension["script_engine"]


_BUNDLES: dict[tuple[int, str], engine.SpecBundle] = {}


def bundle_for(instance: ProcessInstance) -> engine.SpecBundle:
    """The parsed spec of the BPMN file version the instance pinned: stored versions never change."""
    key = (instance.bpmn_file_id, instance.process_id)
    if key not in _BUNDLES:
        bpmn_file = db.session.get(DefinitionFile, instance.bpmn_file_id)
        _BUNDLES[key] = engine.load_spec([bpmn_file.content], instance.process_id)
    return _BUNDLES[key]


def restore(instance: ProcessInstance) -> engine.Workflow:
    return engine.restore_state(instance.state, bundle_for(instance), script_engine())
