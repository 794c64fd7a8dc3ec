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


def bundle_for(instance: ProcessInstance) -> engine.SpecBundle:
    bpmn_file = db.session.get(DefinitionFile, instance.bpmn_file_id)
    return engine.load_spec([bpmn_file.content], instance.process_id)


def restore(instance: ProcessInstance) -> engine.Workflow:
    return engine.restore_state(instance.state, bundle_for(instance), script_engine())
