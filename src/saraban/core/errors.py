"""Errors that carry a stable code and a message in Thai and in English.

Each kind of error knows its HTTP status (``http_status``): the API and the pages answer with it.
The refusals of the access rules are ``Refusal`` constants (``saraban.access.refusals``), one per code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar


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
    # 400 by default: the request cannot be served as it is (the subclasses say more precisely).
    http_status: ClassVar[int] = 400

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

    http_status = 400

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            code="validation_failed",
            message_th="ข้อมูลไม่ครบถ้วนหรือไม่ถูกต้อง",
            message_en="Some fields are missing or malformed",
            problems=problems,
        )


class RuleViolated(ValidationFailed):
    """Well-formed input that a rule of the domain refuses where no schema can say so (a due date
    already past): 422, apart from the 400 of input that breaks its published shape."""

    http_status = 422


class PermissionRefused(SarabanError):
    """The acting person may not do this."""

    http_status = 403


class StateRefused(SarabanError):
    """The object is not in a state that allows this action."""

    http_status = 409


class NotFound(PermissionRefused):
    """The object does not exist, or the caller may not know that it does (same answer for both).

    A refusal of permission that says nothing about the object: 404, as for one that does not exist.
    """

    http_status = 404

    def __init__(self) -> None:
        super().__init__(code="not_found", message_th="ไม่พบรายการที่ขอ", message_en="Not found")


class ReferenceNotFound(SarabanError):
    """A field names an object that does not exist, or one the caller may not know of: 404, as the
    object itself would answer, with the field in ``problems`` (its existence is never revealed)."""

    http_status = 404

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            code="reference_not_found",
            message_th="ไม่พบรายการที่อ้างถึงในคำขอ",
            message_en="An object the request refers to was not found",
            problems=problems,
        )


@dataclass(frozen=True)
class Refusal:
    """Why a rule says no: a stable ``code``, the Thai and English message, and the kind of error.

    Messages may hold ``{name}`` fields, filled by ``format`` with (Thai, English) pairs. ``error()``
    is the exception a service raises; its class carries the HTTP status (403, 409, 404).
    """

    code: str
    message_th: str
    message_en: str
    kind: type[PermissionRefused] | type[StateRefused] = PermissionRefused

    @property
    def http_status(self) -> int:
        """The HTTP status the API and the pages answer this refusal with."""
        return self.kind.http_status

    def format(self, **values: tuple[str, str]) -> Refusal:
        """The refusal with its ``{name}`` fields filled: each value is a (Thai, English) pair."""
        th: Mapping[str, str] = {k: v[0] for k, v in values.items()}
        en: Mapping[str, str] = {k: v[1] for k, v in values.items()}
        return replace(self, message_th=self.message_th.format_map(th), message_en=self.message_en.format_map(en))

    def error(self) -> SarabanError:
        """The exception for this refusal."""
        if self.kind is NotFound:
            return NotFound()
        return self.kind(code=self.code, message_th=self.message_th, message_en=self.message_en)

    def __eq__(self, other: object) -> bool:
        # Refusals are the same refusal when their code is (a formatted one equals its constant).
        return isinstance(other, Refusal) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)


def enforce(refusal: Refusal | None) -> None:
    """Raise the refusal's error, if a rule refused (services call their rule, then this)."""
    if refusal is not None:
        raise refusal.error()
