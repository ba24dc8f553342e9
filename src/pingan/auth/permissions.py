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
    PERSON_READ = "person.read"  # the shared person record (人员), masked
    PERSON_WRITE = "person.write"  # register and correct a person
    PERSON_REVEAL = "person.reveal"  # a person's name, id and phones unmasked (each read audited)
    PERSON_MERGE = "person.merge"  # merge a duplicate into the record that survives
    CLOCK_READ = "clock.read"  # deadlines (期限) of records in one's jurisdiction, with their explanation
    CLOCK_MANAGE = "clock.manage"  # pause, resume, extend a deadline
    CALENDAR_MANAGE = "calendar.manage"  # the official holiday table (节假日表), bureau-wide


# People (人员): every operational role registers and reads people in its jurisdiction; those who
# may see callers unmasked may reveal a person; a station chief merges duplicates; the auditor reads
# the log, not people. Deadlines (期限): read by those who follow records, managed by a station chief;
# the holiday table by the admin only (who holds every permission).
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm) - {Perm.ASSIGNMENT_OWN},
    Role.DISPATCHER: frozenset(
        {
            Perm.INCIDENT_READ, Perm.INCIDENT_CREATE, Perm.INCIDENT_DISPATCH, Perm.INCIDENT_CLOSE,
            Perm.INCIDENT_CALLBACK, Perm.PERSONAL_READ, Perm.UNIT_READ, Perm.GEO_READ, Perm.ORG_READ,
            Perm.STATS_READ, Perm.PERSON_READ, Perm.PERSON_WRITE, Perm.PERSON_REVEAL, Perm.CLOCK_READ,
        }
    ),
    Role.STATION_CHIEF: frozenset(
        {
            Perm.INCIDENT_READ, Perm.INCIDENT_DISPATCH, Perm.INCIDENT_CLOSE, Perm.INCIDENT_CALLBACK,
            Perm.PERSONAL_READ, Perm.UNIT_READ, Perm.UNIT_MANAGE, Perm.GEO_READ, Perm.ORG_READ,
            Perm.STATS_READ, Perm.STATS_REPORT, Perm.PERSON_READ, Perm.PERSON_WRITE, Perm.PERSON_REVEAL,
            Perm.PERSON_MERGE, Perm.CLOCK_READ, Perm.CLOCK_MANAGE,
        }
    ),
    Role.PATROL: frozenset({Perm.INCIDENT_READ, Perm.ASSIGNMENT_OWN, Perm.UNIT_READ, Perm.GEO_READ,
                            Perm.PERSON_READ, Perm.PERSON_WRITE}),
    Role.COMMUNITY: frozenset({Perm.INCIDENT_READ, Perm.UNIT_READ, Perm.GEO_READ, Perm.GEO_MANAGE,
                               Perm.PERSON_READ, Perm.PERSON_WRITE}),
    Role.AUDITOR: frozenset({Perm.AUDIT_READ, Perm.INCIDENT_READ, Perm.ORG_READ, Perm.GEO_READ, Perm.STATS_READ,
                             Perm.CLOCK_READ}),
}
