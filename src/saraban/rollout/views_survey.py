"""The programme office's survey page: edit the questions and their weights, import answers from a file."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.web.i18n import text
from saraban.web.views.errors import message_of

from . import selectors, services
from .imports import import_answers
from .models import Question
from .views import console

MAX_UPLOAD = 10 * 1024 * 1024


def _weights(question: Question, raw: str) -> list[dict[str, object]]:
    """The question's options with the weights typed as "value = weight" lines (others unchanged)."""
    typed: dict[str, float] = {}
    for line_no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        value, _, weight = line.partition("=")
        try:
            typed[value.strip()] = float(weight.strip())
        except ValueError:
            raise ValidationFailed([FieldProblem(
                f"weights.{line_no}", "not_a_number", f"บรรทัด {line_no}: น้ำหนักต้องเป็นตัวเลข (รูปแบบ ค่า = น้ำหนัก)",
                f"Line {line_no}: the weight must be a number (format: value = weight)",
            )]) from None
    unknown = set(typed) - {str(o["value"]) for o in question.options}
    if unknown:
        raise ValidationFailed([FieldProblem(
            "weights", "unknown_option", f"ไม่รู้จักตัวเลือก: {', '.join(sorted(unknown))}",
            f"Unknown options: {', '.join(sorted(unknown))}",
        )])
    return [{**o, "weight": typed.get(str(o["value"]), o.get("weight", 0))} for o in question.options]


@console
@require_http_methods(["GET", "POST"])
def survey_editor(request: HttpRequest) -> HttpResponse:
    """แบบสำรวจ: the questions with their weights (editable by the office) and the answers import."""
    survey = selectors.current_survey()
    problems: list[object] = []
    if request.method == "POST" and survey is not None:
        try:
            if request.POST.get("action") == "question":
                question = get_object_or_404(Question, pk=request.POST.get("question"), survey=survey)
                fields: dict[str, object] = {
                    "text_th": request.POST.get("text_th", "").strip(),
                    "text_en": request.POST.get("text_en", "").strip(),
                }
                if question.options:
                    fields["options"] = _weights(question, request.POST.get("weights", ""))
                else:
                    fields["weight"] = float(request.POST.get("weight", "") or 0)
                services.update_question(question, actor=request.user, **fields)  # type: ignore[arg-type]
                messages.success(request, text(request, f"บันทึกคำถาม {question.code} แล้ว", f"Saved {question.code}"))
                return HttpResponseRedirect(request.path)
            upload = request.FILES.get("answers")
            if upload is None or upload.size is None or upload.size > MAX_UPLOAD:
                raise ValidationFailed([FieldProblem(
                    "answers", "file", "เลือกไฟล์ CSV หรือ XLSX ไม่เกิน 10 MB", "Choose a CSV or XLSX file of at most 10 MB",
                )])
            fmt = "xlsx" if (upload.name or "").lower().endswith(".xlsx") else "csv"
            result = import_answers(survey, upload.read(), actor=request.user, fmt=fmt)  # type: ignore[arg-type]
            if result.problems:
                problems = list(result.problems)
                messages.error(request, text(
                    request, "ไฟล์มีข้อผิดพลาด ไม่ได้นำเข้าข้อมูลใด ๆ", "The file has errors; nothing was imported"))
            else:
                messages.success(request, text(request, "นำเข้าคำตอบแล้ว", "Answers imported"))
                return HttpResponseRedirect(request.path)
        except ValueError:
            messages.error(request, text(request, "คะแนนต้องเป็นตัวเลข", "The weight must be a number"))
        except SarabanError as error:
            details = "; ".join(message_of(request, p) for p in error.problems)
            messages.error(request, f"{message_of(request, error)} {details}".strip())
    questions = list(survey.questions.all()) if survey else []
    rows = [{
        "q": q, "weights": "\n".join(f"{o['value']} = {o.get('weight', 0)}" for o in q.options),
    } for q in questions]
    return render(request, "rollout/survey_editor.html", {
        "section": "survey", "survey": survey, "rows": rows, "problems": problems,
        "role": request.programme_role,  # type: ignore[attr-defined]
    }, status=400 if problems else 200)
