"""What each role may do. Jurisdiction (which records) is separate: every repository
query is filtered to the actor's org subtree; these permissions say which actions."""

from __future__ import annotations

from enum import StrEnum

from pingan.org.models import Role


class Perm(StrEnum):
    INCIDENT_READ = "incident.read"
    INCIDENT_CREATE = "incident.create"  # take calls
    INCIDENT_DISPATCH = "incident.dispatch"  # accept, assign units, merge
    INCIDENT_CLOSE = "incident.close"  # resolve / close with disposition
    INCIDENT_CALLBACK = "incident.callback"
    ASSIGNMENT_OWN = "assignment.own"  # move one's own unit's assignment through stages
    PERSONAL_READ = "personal.read"  # see caller names and phones unmasked (each read audited)
    UNIT_READ = "unit.read"
    UNIT_MANAGE = "unit.manage"
    GEO_READ = "geo.read"
    GEO_MANAGE = "geo.manage"
    ORG_READ = "org.read"
    ORG_MANAGE = "org.manage"
    USER_MANAGE = "user.manage"
    AUDIT_READ = "audit.read"
    STATS_READ = "stats.read"  # statistics: KPIs, rankings, the records behind a figure (统计分析)
    STATS_REPORT = "stats.report"  # issue (and so freeze) a work-summary document (签发工作综述)
    CLOCK_READ = "clock.read"  # deadlines (期限) of records in one's jurisdiction, with their explanation
    CLOCK_MANAGE = "clock.manage"  # pause, resume, extend a deadline
    CALENDAR_MANAGE = "calendar.manage"  # the official holiday table (节假日表), bureau-wide


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm) - {Perm.ASSIGNMENT_OWN},
    Role.DISPATCHER: frozenset(
        {
            Perm.INCIDENT_READ, Perm.INCIDENT_CREATE, Perm.INCIDENT_DISPATCH, Perm.INCIDENT_CLOSE,
            Perm.INCIDENT_CALLBACK, Perm.PERSONAL_READ, Perm.UNIT_READ, Perm.GEO_READ, Perm.ORG_READ,
            Perm.STATS_READ,
        }
    ),
    Role.STATION_CHIEF: frozenset(
        {
            Perm.INCIDENT_READ, Perm.INCIDENT_DISPATCH, Perm.INCIDENT_CLOSE, Perm.INCIDENT_CALLBACK,
            Perm.PERSONAL_READ, Perm.UNIT_READ, Perm.UNIT_MANAGE, Perm.GEO_READ, Perm.ORG_READ,
            Perm.STATS_READ, Perm.STATS_REPORT,
        }
    ),
    Role.PATROL: frozenset({Perm.INCIDENT_READ, Perm.ASSIGNMENT_OWN, Perm.UNIT_READ, Perm.GEO_READ}),
    Role.COMMUNITY: frozenset({Perm.INCIDENT_READ, Perm.UNIT_READ, Perm.GEO_READ, Perm.GEO_MANAGE}),
    Role.AUDITOR: frozenset({Perm.AUDIT_READ, Perm.INCIDENT_READ, Perm.ORG_READ, Perm.GEO_READ, Perm.STATS_READ}),
}
ROLE_PERMISSIONS[Role.DISPATCHER] = ROLE_PERMISSIONS[Role.DISPATCHER] | {Perm.CLOCK_READ}  # clocks (issue 15)
ROLE_PERMISSIONS[Role.STATION_CHIEF] = ROLE_PERMISSIONS[Role.STATION_CHIEF] | {Perm.CLOCK_READ, Perm.CLOCK_MANAGE}
ROLE_PERMISSIONS[Role.AUDITOR] = ROLE_PERMISSIONS[Role.AUDITOR] | {Perm.CLOCK_READ}
