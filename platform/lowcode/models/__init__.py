"""Every table of the application; importing this package registers them on Model.metadata."""
from lowcode.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent
from lowcode.models.business import Clue, Dispatch, Supervision, Task, TaskVisibility
from lowcode.models.dashboard import DashboardRefresh, DashboardRollup
from lowcode.models.definitions import DefinitionFile, DefinitionRelease
from lowcode.models.department import Department
from lowcode.models.entity_batch import EntityBatch
from lowcode.models.forms import Attachment, FormDraft, FormSubmission
from lowcode.models.intake import ApiClient, InboundWarning, RequestNonce
from lowcode.models.notification import Notification
from lowcode.models.officer import Officer
from lowcode.models.outbox import OutboxMessage
from lowcode.models.personal_index import PersonalIndex
from lowcode.models.security_stamp import SecurityStamp
from lowcode.models.statistics import ClueStatRollup, TaskStatRollup
from lowcode.models.workflow import ProcessInstance, TimerRow, WorkItem

__all__ = ["Attachment", "FormDraft", "FormSubmission", "ApiClient", "InboundWarning", "RequestNonce", "Notification",
           "AuditEvent", "AuditChainHead", "AuditCheckpoint", "Clue", "DashboardRefresh", "DashboardRollup", "Dispatch", "Supervision", "Task", "TaskVisibility", "ProcessInstance",
           "TimerRow", "WorkItem", "DefinitionFile", "DefinitionRelease", "Department", "Officer", "OutboxMessage",
           "PersonalIndex", "EntityBatch", "SecurityStamp", "ClueStatRollup", "TaskStatRollup"]
