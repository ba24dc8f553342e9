"""State machines: what may happen to a record in each of its states, written once next to its
status enum and read by everyone — the service enforces it, pages render their buttons from it.

A :class:`Transition` is one named action (签收 accept, 派警 assign, 撤回 cancel …): the states it
may start from, the state it leads to (None when the record keeps its state, e.g. a callback),
the permissions of which the actor needs one (none: a step the service takes by itself, never a
button), and an optional guard for what the state alone does not say (e.g. "only your own
unit"). A :class:`StateMachine` holds a status enum's transitions:

- ``allowed_actions(actor, record)``: the transitions the actor may start on the record now —
  the buttons a page shows;
- ``check(name, actor, record)``: the same question asked by the service, answered with the
  error to raise — ``Forbidden`` (403) without the permission, ``InvalidTransition`` (409) from a
  state the transition does not start from, with its message built from the enum's labels
  (警情当前为「已结警」，不能签收 / An incident that is closed cannot be accepted);
- ``transitions_from(state)``: the states reachable in one step (the graph, for tests and docs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pingan.db.enum import Label
from pingan.errors import DomainError, Forbidden, InvalidTransition

if TYPE_CHECKING:  # the models declaring machines are imported by auth itself
    from pingan.auth.actor import Actor
    from pingan.auth.permissions import Perm

# A guard looks at the actor and the record and returns the error refusing the action, or None.
Guard = Callable[["Actor", Any], DomainError | None]


@dataclass(frozen=True)
class Transition:
    """One action on a record: ``name`` (the form's action, the button's id), ``label`` (the
    button's text, zh/en), ``sources`` → ``target``. ``verb`` (zh, en) is what the refusal says
    cannot be done, after 不能 / "cannot"; by default 变为「target」 / become target.
    ``refusals`` gives a state a message of its own where the generic one would say less."""

    name: str
    label: Label
    sources: frozenset
    target: Any = None
    permissions: tuple[Perm, ...] = ()
    guard: Guard | None = None
    verb: Label | None = None
    refusals: Mapping[Any, Label] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        """A step the service takes by itself (no permission of its own): never a button."""
        return not self.permissions

    def cannot(self) -> Label:
        if self.verb is not None:
            return self.verb
        return (f"变为「{self.target.zh}」", f"become {self.target.en}")


def transition(name: str, label: Label, sources: Iterable, target: Any = None, *,
               permissions: Iterable[Perm] = (), guard: Guard | None = None, verb: Label | None = None,
               refusals: Mapping[Any, Label] | None = None) -> Transition:
    return Transition(name=name, label=label, sources=frozenset(sources), target=target,
                      permissions=tuple(permissions), guard=guard, verb=verb, refusals=dict(refusals or {}))


class StateMachine:
    """The transitions of one status enum, for records whose state ``state_of(record)`` reads.

    ``noun`` (zh, en) names the record in messages (the model's ``__label__``)."""

    def __init__(self, *, noun: Label, states: type, transitions: Iterable[Transition],
                 state_of: Callable[[Any], Any] = lambda record: record.status):
        self.noun = noun
        self.states = states
        self.state_of = state_of
        self.transitions: dict[str, Transition] = {}
        for t in transitions:
            if t.name in self.transitions:
                raise ValueError(f"transition {t.name!r} declared twice")
            unknown = [s for s in (*t.sources, t.target) if s is not None and not isinstance(s, states)]
            if unknown:
                raise ValueError(f"transition {t.name!r} names states not of {states.__name__}: {unknown}")
            self.transitions[t.name] = t

    def __getitem__(self, name: str) -> Transition:
        return self.transitions[name]

    def transitions_from(self, state) -> set:
        """The states one transition leads to from ``state``."""
        return {t.target for t in self.transitions.values() if state in t.sources and t.target is not None}

    def transition_to(self, target) -> Transition | None:
        """The action leading to ``target`` when exactly one does (a form that names the state
        it wants, such as an assignment's next step), else None."""
        found = [t for t in self.transitions.values() if t.target == target and not t.internal]
        return found[0] if len(found) == 1 else None

    def refusal(self, state, transition: Transition, *, field: str | None = None) -> InvalidTransition:
        """The 409 for ``transition`` tried from ``state``, in the labels of both."""
        if state in transition.refusals:
            return InvalidTransition(*transition.refusals[state], field=field)
        noun_zh, noun_en = self.noun
        verb_zh, verb_en = transition.cannot()
        article = "An" if noun_en[:1].lower() in "aeiou" else "A"
        return InvalidTransition(f"{noun_zh}当前为「{state.zh}」，不能{verb_zh}",
                                 f"{article} {noun_en} that is {state.en} cannot {verb_en}", field=field)

    def error(self, name: str, actor: Actor | None, record, *, field: str | None = None) -> DomainError | None:
        """Why ``actor`` may not take transition ``name`` on ``record`` now, or None if they may:
        who may (permission, then guard) before whether it can be done now (the state).
        ``actor`` None is the system (a job, a step of another transition)."""
        t = self.transitions[name]
        if actor is not None:
            if t.permissions and not any(actor.can(p) for p in t.permissions):
                needed = " / ".join(str(p) for p in t.permissions)
                return Forbidden(f"当前角色无权执行此操作（{needed}）", f"Your role may not do this ({needed})")
            if t.guard is not None and (refused := t.guard(actor, record)) is not None:
                return refused
        state = self.state_of(record)
        if state not in t.sources:
            return self.refusal(state, t, field=field)
        return None

    def check(self, name: str, actor: Actor | None, record, *, field: str | None = None) -> Transition:
        """Raise the refusal of transition ``name``, or return it when it may go ahead."""
        error = self.error(name, actor, record, field=field)
        if error is not None:
            raise error
        return self.transitions[name]

    def can(self, name: str, actor: Actor, record) -> bool:
        return self.error(name, actor, record) is None

    def allowed_actions(self, actor: Actor, record) -> dict[str, Transition]:
        """{name: transition} of the actions ``actor`` may start on ``record`` now, in declaration
        order: what a page offers as buttons."""
        return {name: t for name, t in self.transitions.items()
                if not t.internal and self.error(name, actor, record) is None}
