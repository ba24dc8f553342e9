"""Every table, imported in one place so Alembic and create_all see them all."""

from pingan.audit.models import AuditAction, AuditLog  # noqa: F401
from pingan.auth.models import AuthSession, LoginAttempt, LoginLock  # noqa: F401
from pingan.db.base import Base  # noqa: F401
from pingan.geo.models import Address, Division, Grid, ZoneClass  # noqa: F401
from pingan.incident.models import (  # noqa: F401
    Assignment,
    Call,
    Callback,
    Incident,
    IncidentCategory,
    StageEvent,
)
from pingan.org.models import DutyUnit, Officer, OrgUnit, User  # noqa: F401
from pingan.stats.models import StatsReport  # noqa: F401
