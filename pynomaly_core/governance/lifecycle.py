"""The model lifecycle: stages, the transitions allowed between them, and the two-person rule.

``draft`` → ``pending_review`` (submit) → ``approved`` / ``rejected`` (approve / reject) → ``deployed`` (deploy) →
``retired`` (retire). A rejected version may be submitted again; an approved or deployed one may be retired.
Reject and retire need a reason. Approval needs ``required`` distinct approvers, none of them the version's author
or its submitter; the version becomes ``approved`` when the last one approves. Only approved or deployed versions
may carry an alias (``champion``, ``challenger``, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pynomaly_core.governance.errors import TransitionError

DRAFT, PENDING_REVIEW, APPROVED, REJECTED, DEPLOYED, RETIRED = (
    "draft", "pending_review", "approved", "rejected", "deployed", "retired")
STAGES = (DRAFT, PENDING_REVIEW, APPROVED, REJECTED, DEPLOYED, RETIRED)
#: action → (stages it may start from, stage it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((DRAFT, REJECTED), PENDING_REVIEW),
    "approve": ((PENDING_REVIEW,), APPROVED),
    "reject": ((PENDING_REVIEW,), REJECTED),
    "deploy": ((APPROVED,), DEPLOYED),
    "retire": ((APPROVED, DEPLOYED), RETIRED),
}
ACTIONS = tuple(TRANSITIONS)
NEEDS_REASON = ("reject", "retire")
#: Stages whose versions may carry an alias.
SERVABLE = (APPROVED, DEPLOYED)
DEFAULT_ALIASES = ("champion", "challenger")
_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Outcome:
    """What a permitted action does: the stage after it (``stage`` equals the old one while approvals are
    missing) and how many approvals the version now has."""

    stage: str
    approvals: int = 0


def check_alias(alias: str) -> str:
    """``alias`` or a one-line error: lower-case, starts with a letter, not a number or ``latest``."""
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or alias == "latest":
        raise TransitionError(f"alias {alias!r} is invalid: use a lower-case word such as 'champion' or "
                              "'challenger' (letters, digits, '_', '-'; not 'latest')")
    return alias


def decide(ref: str, action: str, stage: str, *, actor: str, author: str, submitter: str | None = None,
           approvers: tuple[str, ...] = (), required: int = 1, reason: str | None = None) -> Outcome:
    """The outcome of ``actor`` doing ``action`` on version ``ref`` now in ``stage``, or :class:`TransitionError`
    saying why not. ``approvers`` are the distinct actors who approved since the last submit."""
    if action not in TRANSITIONS:
        raise TransitionError(f"unknown lifecycle action {action!r}; choose one of {', '.join(ACTIONS)}")
    sources, target = TRANSITIONS[action]
    if stage not in sources:
        allowed = " or ".join(sources)
        raise TransitionError(f"cannot {action} {ref}: it is {stage}; {action} needs a version that is {allowed}"
                              + _hint(stage))
    if action in NEEDS_REASON and not (reason or "").strip():
        raise TransitionError(f"cannot {action} {ref}: a reason is required (--reason)")
    if action != "approve":
        return Outcome(target)
    if actor == author:
        raise TransitionError(f"cannot approve {ref}: {actor} is its author; the two-person rule needs another "
                              "reviewer")
    if submitter is not None and actor == submitter:
        raise TransitionError(f"cannot approve {ref}: {actor} submitted it; the two-person rule needs another "
                              "reviewer")
    if actor in approvers:
        raise TransitionError(f"cannot approve {ref}: {actor} has already approved it ({len(approvers)} of "
                              f"{required} approvals)")
    count = len(approvers) + 1
    return Outcome(target if count >= required else stage, count)


def _hint(stage: str) -> str:
    return {
        DRAFT: " (submit it for review first)",
        PENDING_REVIEW: " (it awaits approval or rejection)",
        REJECTED: " (submit it again after changes)",
        RETIRED: " (a retired version is final; register a new one)",
    }.get(stage, "")
