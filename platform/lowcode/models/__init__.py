"""Every table of the application; importing this package registers them on Model.metadata."""
from lowcode.models.audit import AuditEvent
from lowcode.models.department import Department
from lowcode.models.officer import Officer

__all__ = ["AuditEvent", "Department", "Officer"]
