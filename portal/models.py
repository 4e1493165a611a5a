"""Imports every model module so metadata (and Alembic) sees all tables."""
from portal.accounts.models import ApiToken, Department, User  # noqa: F401
from portal.audit.models import Audit, AuditChecklistItem, Clause, CorrectiveAction, Finding  # noqa: F401
from portal.documents.models import ControlledCopy, Document, PeriodicReview, Revision, Signature  # noqa: F401
from portal.notifications.models import Notification  # noqa: F401
from portal.search.models import Evidence, SearchOutbox  # noqa: F401
from portal.trail.models import TrailEntry, TrailHead  # noqa: F401
from portal.numbering import NumberCounter  # noqa: F401
from portal.records.models import Attachment, Record, RecordCorrection  # noqa: F401
from portal.objectives.models import Objective  # noqa: F401
from portal.procedures.models import ProcedureRun, RunStep  # noqa: F401
from portal.workdays import CalendarDay  # noqa: F401
from portal.audit.models import AuditorQualification, AuditProgramme  # noqa: F401
from portal.change_requests.models import ChangeRequest  # noqa: F401
from portal.management_review.models import ManagementReview, ReviewOutput  # noqa: F401
