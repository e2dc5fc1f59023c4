"""Errors that carry a stable code and a message in Thai and in English."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of an input, named so a clerk can find it."""

    field: str
    code: str
    message_th: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message_th} / {self.message_en}"


@dataclass
class SarabanError(Exception):
    """A refusal the user can act on: a stable ``code`` and a Thai and English message."""

    code: str
    message_th: str
    message_en: str
    problems: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.message_th} / {self.message_en}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        """The error as JSON-ready data (for the API and the CLI's --json)."""
        return {
            "code": self.code,
            "message_th": self.message_th,
            "message_en": self.message_en,
            "problems": [p.__dict__ for p in self.problems],
        }


class ValidationFailed(SarabanError):
    """An input with missing or malformed fields."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            code="validation_failed",
            message_th="ข้อมูลไม่ครบถ้วนหรือไม่ถูกต้อง",
            message_en="Some fields are missing or malformed",
            problems=problems,
        )


class PermissionRefused(SarabanError):
    """The acting person may not do this."""


class StateRefused(SarabanError):
    """The object is not in a state that allows this action."""
