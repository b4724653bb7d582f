"""The decoder's one error type: every problem names the tag (path) and the rule broken."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmvIssue:
    """One broken rule. ``tag`` is a path such as ``"54"`` or ``"62.05"``; None for the
    payload as a whole. ``rule`` is a stable dotted name (``"amount.format"``)."""

    tag: str | None
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f"tag {self.tag}" if self.tag else "payload"
        return f"{where}: {self.detail} [{self.rule}]"

    def as_json(self) -> dict[str, str | None]:
        return {"tag": self.tag, "rule": self.rule, "message": self.detail}


class EmvError(ValueError):
    """A payload (or a field set to encode) that breaks a rule.

    A ValueError, so callers of the earlier ``devices.emv_mpm`` helpers keep working.
    ``issues`` holds every problem found; the message shows the first.
    """

    def __init__(self, issue: EmvIssue, *more: EmvIssue) -> None:
        self.issue = issue
        self.issues: tuple[EmvIssue, ...] = (issue, *more)
        extra = f" (and {len(more)} more)" if more else ""
        super().__init__(f"{issue}{extra}")

    @property
    def tag(self) -> str | None:
        return self.issue.tag

    @property
    def rule(self) -> str:
        return self.issue.rule


def fail(tag: str | None, rule: str, detail: str) -> EmvError:
    return EmvError(EmvIssue(tag, rule, detail))
