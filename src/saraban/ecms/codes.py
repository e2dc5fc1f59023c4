"""The e-CMS code lists: ``SecretCode`` (ชั้นความลับ) and ``SpeedCode`` (ชั้นความเร็ว), three digits each.

The codes the DGA nodes use are not confirmed anywhere in writing, so they come from the settings:
``SARABAN_ECMS["secret_codes"]`` and ``SARABAN_ECMS["speed_codes"]``, each a dict from our level (a value
of ``Secrecy`` or ``Urgency``) to its code. A level the settings leave out keeps its default code:

- secrecy: normal "001", confidential (ลับ) "002", secret (ลับมาก) "003", top_secret (ลับที่สุด) "004";
- urgency: normal "001", urgent (ด่วน) "002", very_urgent (ด่วนมาก) "003", most_urgent (ด่วนที่สุด) "004".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings

from saraban.regulation.kinds import Secrecy, Urgency

DEFAULT_SECRET_CODES: Mapping[str, str] = {
    Secrecy.NORMAL: "001", Secrecy.CONFIDENTIAL: "002", Secrecy.SECRET: "003", Secrecy.TOP_SECRET: "004",
}
DEFAULT_SPEED_CODES: Mapping[str, str] = {
    Urgency.NORMAL: "001", Urgency.URGENT: "002", Urgency.VERY_URGENT: "003", Urgency.MOST_URGENT: "004",
}


class UnknownCode(ValueError):
    """A code (or a level) that the code list does not have; ``message_th`` / ``message_en`` say which."""

    code: ClassVar[str] = "ecms.unknown_code"

    def __init__(self, message_th: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_th = message_th
        self.message_en = message_en


def secret_codes() -> dict[str, str]:
    """Our secrecy level → its SecretCode, the settings over the defaults."""
    return _code_list("secret_codes", DEFAULT_SECRET_CODES, Secrecy)


def speed_codes() -> dict[str, str]:
    """Our urgency level → its SpeedCode, the settings over the defaults."""
    return _code_list("speed_codes", DEFAULT_SPEED_CODES, Urgency)


def secret_code(secrecy: str) -> str:
    """The SecretCode to send for our secrecy level (``UnknownCode`` for a level that is not ours)."""
    codes = secret_codes()
    try:
        return codes[Secrecy(secrecy).value]
    except ValueError:
        raise UnknownCode(f"ไม่รู้จักชั้นความลับ {secrecy!r}", f"unknown secrecy level {secrecy!r}") from None


def speed_code(urgency: str) -> str:
    """The SpeedCode to send for our urgency level (``UnknownCode`` for a level that is not ours)."""
    codes = speed_codes()
    try:
        return codes[Urgency(urgency).value]
    except ValueError:
        raise UnknownCode(f"ไม่รู้จักชั้นความเร็ว {urgency!r}", f"unknown urgency level {urgency!r}") from None


def secrecy_of(code: str) -> str:
    """Our secrecy level for a received SecretCode.

    ``UnknownCode`` for a code not in the list: a letter whose secrecy we cannot tell must be refused,
    never taken in as normal. Leading zeros may be missing ("2" is "002").
    """
    level = _level_of(code, secret_codes())
    if level is None:
        raise UnknownCode(f"ไม่รู้จักรหัสชั้นความลับ {code!r}", f"unknown SecretCode {code!r}")
    return level


def urgency_of(code: str) -> str:
    """Our urgency level for a received SpeedCode; "normal" for a code not in the list.

    An unknown speed only loses the letter its place in the queues, so it is taken in as normal.
    """
    return _level_of(code, speed_codes()) or Urgency.NORMAL.value


def _code_list(name: str, defaults: Mapping[str, str], levels: type[Secrecy] | type[Urgency]) -> dict[str, str]:
    configured = getattr(settings, "SARABAN_ECMS", None) or {}
    overrides = configured.get(name) or {}
    codes = {str(level): code for level, code in defaults.items()}
    for level, code in overrides.items():
        codes[levels(level).value] = str(code).strip()  # ValueError for a level that is not ours: a settings typo
    return codes


def _level_of(code: str, codes: Mapping[str, str]) -> str | None:
    wanted = _normal(code)
    for level, known in codes.items():
        if _normal(known) == wanted:
            return level
    return None


def _normal(code: str) -> str:
    code = code.strip()
    return code.zfill(3) if code.isdigit() else code
