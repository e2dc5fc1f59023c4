"""Every refusal of the access rules, one constant per code (``Refusal``: code, Thai, English, kind).

The rules (``correspondence.permissions``, ``inbox.permissions``) return these; the services raise
them (``enforce``), and the pages and the API show them, so one refusal has one code everywhere. The
kind gives the HTTP status: ``PermissionRefused`` 403 (who), ``StateRefused`` 409 (the object's state),
``NotFound`` 404 (the object is not there for this person). ``{field}`` parts are filled with
(Thai, English) pairs by ``Refusal.format``.
"""

from __future__ import annotations

from saraban.core.errors import NotFound, Refusal, StateRefused

# Not visible to the person (another organisation's, or classified without a grant): as if absent.
NOT_FOUND = Refusal("not_found", "ไม่พบรายการที่ขอ", "Not found", NotFound)

# Outgoing letters (หนังสือออก): who.
LETTER_NOT_DRAFTER = Refusal(
    "letter.not_drafter", "ท่านไม่มีบทบาทที่จัดทำหนังสือของหน่วยงานนี้ได้",
    "You hold no role that lets you write letters for this organisation",
)
LETTER_NOT_AUTHOR = Refusal(
    "letter.not_author", "เฉพาะผู้จัดทำหนังสือหรือเจ้าหน้าที่สารบรรณของหน่วยงานทำรายการนี้ได้",
    "Only the letter's author or a registry clerk of its organisation can do this",
)
LETTER_NOT_AUTHOR_OR_CENTRAL_REGISTRY = Refusal(
    "letter.not_author_or_central_registry", "เฉพาะผู้จัดทำหนังสือหรือสารบรรณกลางปิดเรื่องได้",
    "Only the letter's author or the central registry can close it",
)
LETTER_NOT_REGISTRY = Refusal(
    "letter.not_registry", "เฉพาะเจ้าหน้าที่สารบรรณของหน่วยงานออกเลขและส่งหนังสือได้",
    "Only a registry clerk of the organisation can number and send its letters",
)
LETTER_NOT_SIGNER = Refusal(
    "letter.not_signer", "ท่านไม่ใช่ผู้ลงนามหนังสือฉบับนี้ หรือผู้รักษาราชการแทนผู้ลงนาม",
    "You do not sign this letter, nor act for its signer",
)
REVIEW_NOT_YOUR_TURN = Refusal(
    "review.not_your_turn", "ยังไม่ถึงลำดับการตรวจของท่าน", "It is not your turn to review",
)

# Outgoing letters: the letter's state.
LETTER_WRONG_STATE = Refusal(
    "letter.wrong_state", "{action}ไม่ได้ เพราะหนังสืออยู่ในสถานะ “{state}”",
    "Cannot {action}: the letter is “{state}”", StateRefused,
)
LETTER_NOT_EDITABLE = Refusal(
    "letter.not_editable", "หนังสือสถานะ “{state}” แก้ไขไม่ได้", "A letter in state “{state}” cannot be edited",
    StateRefused,
)
LETTER_FIXED_AFTER_NUMBERING = Refusal(
    "letter.fixed_after_numbering",
    "หนังสือออกเลขแล้ว แก้ไขเลขที่ วันที่ และเรื่องไม่ได้ ให้จัดทำหนังสือฉบับแก้ไขแทน",
    "The letter is numbered: its number, date and subject cannot change; write a correction", StateRefused,
)
LETTER_STAMPED_NOT_SIGNED = Refusal(
    "letter.stamped_not_signed", "หนังสือประทับตราไม่ต้องลงนาม ให้ออกเลขได้เลย",
    "A stamped letter is not signed; number it directly", StateRefused,
)
LETTER_NOT_NUMBERABLE = Refusal(
    "letter.not_numberable", "ออกเลขหนังสือสถานะ “{state}” ไม่ได้", "A letter in state “{state}” cannot be numbered",
    StateRefused,
)
LETTER_ALREADY_NUMBERED = Refusal(
    "letter.already_numbered", "หนังสือฉบับนี้ออกเลขแล้ว", "This letter is numbered already", StateRefused,
)
LETTER_TOP_SECRET_PAPER_ONLY = Refusal(
    "letter.top_secret_paper_only",
    "หนังสือชั้นลับที่สุดส่งทางระบบอิเล็กทรอนิกส์ไม่ได้ เว้นแต่ผู้ดูแลระบบอนุญาต",
    "A top-secret letter cannot be sent electronically unless the administrator allows it", StateRefused,
)
LETTER_NO_RECIPIENTS = Refusal(
    "letter.no_recipients", "ยังไม่ได้เลือกหน่วยงานผู้รับ", "The letter has no recipient organisations", StateRefused,
)
LETTER_NOT_CANCELLABLE = Refusal(
    "letter.not_cancellable", "ยกเลิกหนังสือสถานะ “{state}” ไม่ได้", "A letter in state “{state}” cannot be cancelled",
    StateRefused,
)
LETTER_NOT_CORRECTABLE = Refusal(
    "letter.not_correctable", "จัดทำฉบับแก้ไขได้เฉพาะหนังสือที่ออกเลขแล้วและยังไม่มีฉบับแก้ไข",
    "Only a numbered letter that has not been superseded can be corrected", StateRefused,
)
LETTER_SIGNING_IN_PROGRESS = Refusal(
    "letter.signing_in_progress", "หนังสือฉบับนี้กำลังลงนามอยู่ โปรดรอสักครู่",
    "This letter is being signed right now; wait a moment", StateRefused,
)
LETTER_NUMBER_RESERVATION_LOST = Refusal(
    "letter.number_reservation_lost",
    "เลขที่จองไว้ระหว่างลงนามถูกยกเลิกแล้ว (หนังสือถูกส่งกลับหรือยกเลิกระหว่างลงนาม)",
    "The number reserved while signing was cancelled (the letter was returned or cancelled)", StateRefused,
)
LETTER_CORRECTION_EXISTS = Refusal(
    "letter.correction_exists", "มีร่างฉบับแก้ไขของหนังสือนี้อยู่แล้ว", "A correction of this letter already exists",
    StateRefused,
)

# Incoming letters (หนังสือเข้า) and their assignments.
INCOMING_NOT_REGISTRY = Refusal(
    "incoming.not_registry", "เฉพาะเจ้าหน้าที่สารบรรณของหน่วยงานผู้รับทำรายการนี้ได้",
    "Only a registry clerk of the receiving organisation can do this",
)
INCOMING_NOT_REGISTRY_OR_EXECUTIVE = Refusal(
    "incoming.not_registry_or_executive", "เฉพาะเจ้าหน้าที่สารบรรณหรือผู้บริหารของหน่วยงานผู้รับปิดเรื่องได้",
    "Only a registry clerk or an executive of the receiving organisation can close it",
)
INCOMING_NOT_EXECUTIVE = Refusal(
    "incoming.not_executive", "เฉพาะผู้บริหาร (ผู้ลงนาม) หรือผู้รักษาราชการแทนเกษียนสั่งการได้",
    "Only an executive (signer) or an acting official can endorse",
)
INCOMING_WRONG_STATE = Refusal(
    "incoming.wrong_state", "{action}ไม่ได้ เพราะหนังสืออยู่ในสถานะ “{state}”",
    "Cannot {action}: the letter is “{state}”", StateRefused,
)
INCOMING_OPEN_ASSIGNMENTS = Refusal(
    "incoming.open_assignments", "ยังมีงานที่มอบหมายค้างอยู่", "Some assignments are still open", StateRefused,
)
ASSIGNMENT_NOT_YOURS = Refusal(
    "assignment.not_yours", "งานนี้ไม่ได้มอบให้ท่านหรือหน่วยงานของท่าน", "This was not assigned to you or your unit",
)
ASSIGNMENT_DONE = Refusal(
    "assignment.done", "รายการนี้ดำเนินการแล้ว", "This assignment is already done", StateRefused,
)


def all_refusals() -> list[Refusal]:
    """Every refusal constant of this module, in the order they are written."""
    return [value for value in globals().values() if isinstance(value, Refusal)]
