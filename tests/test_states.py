"""The state-machine machinery (pingan.states) on a machine of its own, as a later module
(cases, disputes) would declare one: transitions, permissions, guards, the 409's wording."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.enum import LabelledEnum
from pingan.errors import Forbidden, InvalidTransition
from pingan.org.models import Role
from pingan.states import StateMachine, transition


class CaseStatus(LabelledEnum):
    OPEN = "open", "已立案", "open"
    SOLVED = "solved", "已破案", "solved"
    FILED = "filed", "已归档", "filed"


@dataclass
class Case:
    status: CaseStatus
    owner_id: int


def _owner_only(actor, case):
    if case.owner_id != actor.user_id:
        return Forbidden("只能处理本人承办的案件", "Only the officer in charge may do this")
    return None


MACHINE = StateMachine(noun=("案件", "case"), states=CaseStatus, transitions=[
    transition("solve", ("破案", "Solve"), {CaseStatus.OPEN}, CaseStatus.SOLVED,
               permissions=[Perm.INCIDENT_CLOSE], guard=_owner_only),
    transition("file", ("归档", "File"), {CaseStatus.OPEN, CaseStatus.SOLVED}, CaseStatus.FILED,
               permissions=[Perm.INCIDENT_CLOSE, Perm.AUDIT_READ], verb=("归档", "be filed")),
    transition("reopen", ("重新立案", "Reopen"), {CaseStatus.FILED}, CaseStatus.OPEN),  # internal
])


def actor(user_id: int = 1, *perms: Perm) -> Actor:
    return Actor(user_id=user_id, username=f"u{user_id}", display_name="x", role=Role.STATION_CHIEF,
                 org_unit_id=1, org_path="/1/", permissions=frozenset(perms))


def test_the_graph_is_read_from_the_transitions():
    assert MACHINE.transitions_from(CaseStatus.OPEN) == {CaseStatus.SOLVED, CaseStatus.FILED}
    assert MACHINE.transitions_from(CaseStatus.FILED) == {CaseStatus.OPEN}
    assert MACHINE.transition_to(CaseStatus.FILED).name == "file"
    assert MACHINE.transition_to(CaseStatus.OPEN) is None  # only an internal step leads there


def test_a_transition_from_a_state_it_does_not_start_from_is_a_409_in_the_enums_labels():
    chief = actor(1, Perm.INCIDENT_CLOSE)
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.check("solve", chief, Case(CaseStatus.FILED, owner_id=1))
    assert refused.value.status_code == 409
    assert (refused.value.zh, refused.value.en) == ("案件当前为「已归档」，不能变为「已破案」",
                                                   "A case that is filed cannot become solved")
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.check("file", chief, Case(CaseStatus.FILED, owner_id=1), field="status")
    assert (refused.value.zh, refused.value.en, refused.value.field) == (
        "案件当前为「已归档」，不能归档", "A case that is filed cannot be filed", "status")


def test_who_may_comes_before_whether_it_can_be_done_now():
    case = Case(CaseStatus.FILED, owner_id=1)
    with pytest.raises(Forbidden):  # no permission: 403 whatever the state
        MACHINE.check("solve", actor(1), case)
    with pytest.raises(Forbidden) as refused:  # the guard: not the officer in charge
        MACHINE.check("solve", actor(2, Perm.INCIDENT_CLOSE), case)
    assert refused.value.en == "Only the officer in charge may do this"
    assert MACHINE.check("solve", actor(1, Perm.INCIDENT_CLOSE), Case(CaseStatus.OPEN, 1)).target == CaseStatus.SOLVED
    # any one of the permissions will do
    assert MACHINE.can("file", actor(3, Perm.AUDIT_READ), Case(CaseStatus.SOLVED, 1))


def test_the_system_takes_internal_steps_without_permission_or_guard():
    assert MACHINE.check("reopen", None, Case(CaseStatus.FILED, 9)).target == CaseStatus.OPEN
    with pytest.raises(InvalidTransition):
        MACHINE.check("reopen", None, Case(CaseStatus.OPEN, 9))


def test_allowed_actions_are_the_buttons_in_declaration_order_never_an_internal_step():
    owner = actor(1, Perm.INCIDENT_CLOSE)
    assert list(MACHINE.allowed_actions(owner, Case(CaseStatus.OPEN, 1))) == ["solve", "file"]
    assert list(MACHINE.allowed_actions(actor(2, Perm.INCIDENT_CLOSE), Case(CaseStatus.OPEN, 1))) == ["file"]
    assert list(MACHINE.allowed_actions(owner, Case(CaseStatus.FILED, 1))) == []
    assert list(MACHINE.allowed_actions(actor(1), Case(CaseStatus.OPEN, 1))) == []


def test_a_machine_refuses_a_malformed_declaration():
    with pytest.raises(ValueError, match="twice"):
        StateMachine(noun=("案件", "case"), states=CaseStatus, transitions=[
            transition("a", ("甲", "A"), {CaseStatus.OPEN}, CaseStatus.FILED),
            transition("a", ("甲", "A"), {CaseStatus.SOLVED}, CaseStatus.FILED)])
    with pytest.raises(ValueError, match="not of CaseStatus"):
        StateMachine(noun=("案件", "case"), states=CaseStatus, transitions=[
            transition("a", ("甲", "A"), {"open"}, CaseStatus.FILED)])


def test_a_state_may_have_a_refusal_of_its_own():
    machine = StateMachine(noun=("案件", "case"), states=CaseStatus, transitions=[
        transition("solve", ("破案", "Solve"), {CaseStatus.OPEN}, CaseStatus.SOLVED,
                   refusals={CaseStatus.SOLVED: ("该案件已被他人破获", "already solved by someone else")})])
    with pytest.raises(InvalidTransition) as refused:
        machine.check("solve", None, Case(CaseStatus.SOLVED, 1))
    assert refused.value.zh == "该案件已被他人破获"
    with pytest.raises(InvalidTransition) as refused:
        machine.check("solve", None, Case(CaseStatus.FILED, 1))
    assert refused.value.zh == "案件当前为「已归档」，不能变为「已破案」"
