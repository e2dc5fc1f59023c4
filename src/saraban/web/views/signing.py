"""ลงนามหลายฉบับ: choose letters awaiting my signature, authorise once, watch the batch progress."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saraban.core.errors import SarabanError
from saraban.correspondence.batch import MAX_LETTERS, resume_batch, start_batch
from saraban.correspondence.models import Letter
from saraban.correspondence.selectors import awaiting_my_signature
from saraban.directory.models import Person
from saraban.signatures.batch import batch_progress
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import SigningBatch
from saraban.signatures.selectors import usable_certificates
from saraban.web.context_processors import acting_organisation
from saraban.web.forms.letters import BatchSignForm, SignForm

from . import errors
from .letters_actions import PROOF_REFUSED


def _person(request: HttpRequest) -> Person:
    person = request.user
    assert isinstance(person, Person)
    return person


@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    """The letters awaiting my signature in the acting organisation, to sign together."""
    person = _person(request)
    organisation = acting_organisation(request)
    if organisation is None:
        raise Http404
    letters = list(
        awaiting_my_signature(person).filter(organisation=organisation)
        .order_by("-urgency_rank", "updated_at")[:MAX_LETTERS]
    )
    certificates = usable_certificates(person, organisation)
    data = request.POST if request.method == "POST" else None
    form = BatchSignForm(data, request=request, letters=letters, certificates=certificates)
    status = 200
    if data is not None:
        if form.is_valid():
            try:
                batch = start_batch(
                    signer=person, organisation=organisation, letter_ids=form.cleaned_data["letters"],
                    proof=SignerProof(form.cleaned_data["password"]), certificate=form.chosen_certificate(),
                )
            except SarabanError as exc:
                status = errors.status_of(exc)
                _refusal_on_form(request, form, exc)
            else:
                return HttpResponseRedirect(f"/work/sign/{batch.pk}/")
        else:
            status = 400
    recent = SigningBatch.objects.filter(signer=person).order_by("-created_at")[:5]
    return render(request, "web/work/sign_batch.html", {
        "form": form, "letters": letters, "organisation": organisation, "recent": recent,
        "chosen": set(request.POST.getlist("letters")),
    }, status=status)


def _refusal_on_form(request: HttpRequest, form: SignForm, exc: SarabanError) -> None:
    if exc.code in PROOF_REFUSED:
        form.add_error("password", errors.message_of(request, exc))
    elif exc.problems:
        errors.add_to_form(request, form, exc)
    else:
        form.add_error(None, errors.message_of(request, exc))


def _my_batch(request: HttpRequest, pk: int) -> SigningBatch:
    batch = SigningBatch.objects.filter(pk=pk, signer=_person(request)).select_related("certificate").first()
    if batch is None:
        raise Http404
    return batch


def _batch_context(batch: SigningBatch) -> dict[str, object]:
    progress = batch_progress(batch)  # first: the rows read after it are never older than the bar
    items = list(batch.items.order_by("position"))
    letters = Letter.objects.in_bulk([i.letter_id for i in items])
    return {
        "batch": batch, "progress": progress,
        "rows": [(item, letters.get(item.letter_id)) for item in items],
    }


@login_required
@require_GET
def batch_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch: the progress bar, each letter's state, and "sign the rest" when it was interrupted."""
    batch = _my_batch(request, pk)
    context = _batch_context(batch)
    context["form"] = SignForm(request=request, certificates=[batch.certificate] if batch.certificate else [])
    template = "web/work/_batch.html" if request.headers.get("HX-Request") else "web/work/batch.html"
    return render(request, template, context)


@login_required
@require_POST
def batch_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Authorise again and sign what is left of an interrupted batch."""
    batch = _my_batch(request, pk)
    form = SignForm(request.POST, request=request, certificates=[batch.certificate] if batch.certificate else [])
    status = 400
    if form.is_valid():
        try:
            resume_batch(batch, actor=_person(request), proof=SignerProof(form.cleaned_data["password"]))
        except SarabanError as exc:
            status = errors.status_of(exc)
            _refusal_on_form(request, form, exc)
        else:
            return HttpResponseRedirect(f"/work/sign/{batch.pk}/")
    context = _batch_context(batch)
    context["form"] = form
    return render(request, "web/work/batch.html", context, status=status)

