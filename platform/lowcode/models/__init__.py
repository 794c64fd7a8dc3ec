"""Every table of the application; importing this package registers them on Model.metadata."""
from lowcode.models.audit import AuditEvent
from lowcode.models.definitions import DefinitionFile, DefinitionRelease
from lowcode.models.department import Department
from lowcode.models.officer import Officer

__all__ = ["AuditEvent", "DefinitionFile", "DefinitionRelease", "Department", "Officer"]
