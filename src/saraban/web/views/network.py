"""เครือข่าย: the exchange as people see it: the outbox queue for the registry, the peers for administrators.

- ``/network/queue/``: the registry's messages to other deployments: waiting, retrying (with the
  last error), given up, refused; "ส่งอีกครั้ง" (send again) and "ยกเลิก" (cancel). Below them
  "ส่งทาง e-CMS": the e-CMS outbox (letters and notifiers) and the polled items that went wrong,
  with "ถอนและส่งใหม่" and "แจ้งเลขรับไม่ถูกต้อง" (``views.ecms``); then "ส่งทางอีเมล": the e-mails
  sent (letters and receipts), "ส่งอีกครั้ง", and the messages the central mailboxes quarantined
  (``views.mail``).
- ``/network/peers/``: the pinned peers; a system administrator adds one (the fingerprint is shown
  to confirm before it is pinned), refreshes its directory, suspends or resumes it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from saraban.access.policy import organisations_with_role
from saraban.core.errors import SarabanError
from saraban.correspondence.permissions import REGISTRY
from saraban.directory.models import Person
from saraban.ecms.models import EcmsConnection, EcmsOrganisation, OutboundKind
from saraban.ecms.selectors import inbound_problems, outbound_of
from saraban.exchange.directory_document import format_fingerprint
from saraban.exchange.identity import deployment_identity
from saraban.exchange.models import MessageStatus, OutgoingMessage, Peer, RemoteOrganisation
from saraban.exchange.peering import add_peer, fetch_directory, refresh_peer, set_peer_active
from saraban.exchange.selectors import outbox_of, peers
from saraban.exchange.services import cancel, send_again
from saraban.web.i18n import text
from saraban.web.views.directory import is_sys_admin
from saraban.web.views.ecms import words_in
from saraban.web.views.mail import mail_queue

QUEUE_ROWS = 50
# The filters of the queue page: waiting covers first attempts and retries alike.
QUEUE_FILTERS = {
    "waiting": [MessageStatus.PENDING], "problems": [MessageStatus.GIVEN_UP, MessageStatus.REFUSED],
    "delivered": [MessageStatus.DELIVERED], "cancelled": [MessageStatus.CANCELLED],
}


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _forbidden(request: HttpRequest, th: str, en: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {
        "reason": text(request, th, en), "back": "/", "back_label": text(request, "กลับหน้าแรก", "Back home"),
    }, status=403)


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """คิวส่งหนังสือ: the outbox of the organisations where the person works in the registry."""
    person = _person(request)
    organisations = organisations_with_role(person, *REGISTRY)
    if not organisations:
        return _forbidden(request, "เฉพาะงานสารบรรณเห็นคิวส่งหนังสือ", "Only the registry sees the sending queue")
    chosen = request.GET.get("show", "waiting")
    if chosen not in QUEUE_FILTERS:
        chosen = "waiting"
    counts = dict(OutgoingMessage.objects.filter(organisation_id__in=organisations).values("status")
                  .annotate(n=Count("pk")).values_list("status", "n"))
    rows = list(outbox_of(organisations, statuses=QUEUE_FILTERS[chosen]).select_related(
        "dispatch__letter", "dispatch__recipient")[:QUEUE_ROWS])
    return render(request, "web/network/queue.html", {
        "rows": rows, "show": chosen,
        "counts": {key: sum(counts.get(s, 0) for s in statuses) for key, statuses in QUEUE_FILTERS.items()},
        "limit": QUEUE_ROWS, **_ecms_queue(request, organisations), **mail_queue(request, organisations),
    })


# What each e-CMS notifier says, for the queue page (the node's names are English CamelCase).
NOTIFIER_WORDS = {
    "ReceiveLetterNotifier": ("แจ้งว่าได้รับหนังสือแล้ว", "Letter received"),
    "AcceptLetterNotifier": ("แจ้งเลขรับ", "Receipt number"),
    "RejectLetterNotifier": ("แจ้งส่งคืนหนังสือ", "Letter returned"),
    "InvalidLetterNotifier": ("แจ้งว่าหนังสือไม่สมบูรณ์", "Letter defective"),
    "InvalidAcceptIDNotifier": ("แจ้งว่าเลขรับไม่ถูกต้อง", "Receipt number wrong"),
}


def _ecms_queue(request: HttpRequest, organisations: set[int]) -> dict[str, object]:
    """ส่งทาง e-CMS: the latest rows of the organisations' e-CMS outbox, and polled items that went wrong."""
    rows = list(outbound_of(organisations).select_related("inbound")[:QUEUE_ROWS])
    problems = list(inbound_problems(organisations)[:QUEUE_ROWS])
    departments = {r.receiver_department for r in rows} | {r.inbound.sender_department for r in rows if r.inbound}
    departments |= {p.sender_department for p in problems}
    names = dict(EcmsOrganisation.objects.filter(organization_id__in=departments - {""})
                 .values_list("organization_id", "th_name"))
    latest: set[int] = set()  # the newest letter row of each dispatch: the one its buttons act on
    seen: set[int] = set()
    for row in rows:
        if row.kind == OutboundKind.LETTER and row.dispatch_id and row.dispatch_id not in seen:
            seen.add(row.dispatch_id)
            latest.add(row.pk)
    ecms_rows = []
    for row in rows:
        to = row.inbound.sender_department if row.inbound else row.receiver_department
        ecms_rows.append({
            "row": row, "to_id": to, "to_name": names.get(to, ""),
            "notifier": NOTIFIER_WORDS.get(row.notifier_kind, (row.notifier_kind, row.notifier_kind)),
            "actions": row.pk in latest, "error": words_in(request, row.last_error),
        })
    return {
        "ecms_shown": bool(rows or problems)
        or EcmsConnection.objects.filter(organisation_id__in=organisations).exists(),
        "ecms_rows": ecms_rows,
        "ecms_problems": [{"item": p, "from_name": names.get(p.sender_department, ""),
                           "notifier": NOTIFIER_WORDS.get(p.kind, (p.kind, p.kind)),
                           "detail": words_in(request, p.detail)} for p in problems],
    }


def _queue_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    message = get_object_or_404(OutgoingMessage, pk=pk, organisation_id__in=organisations_with_role(
        _person(request), *REGISTRY))
    try:
        if action == "send_again":
            send_again(message, actor=_person(request))
            messages.success(request, text(request, "นำกลับเข้าคิวแล้ว จะส่งทันที", "Back in the queue: sending now"))
        else:
            cancel(message, actor=_person(request))
            messages.success(request, text(request, "ยกเลิกการส่งแล้ว", "Sending cancelled"))
    except SarabanError as exc:
        messages.error(request, text(request, exc.message_th, exc.message_en))
    back = request.POST.get("show", "waiting")
    return HttpResponseRedirect(f"/network/queue/?show={back if back in QUEUE_FILTERS else 'waiting'}")


@require_POST
@login_required
def queue_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    """ส่งอีกครั้ง."""
    return _queue_action(request, pk, "send_again")


@require_POST
@login_required
def queue_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """ยกเลิกการส่ง."""
    return _queue_action(request, pk, "cancel")


@login_required
def peer_list(request: HttpRequest) -> HttpResponse:
    """ระบบปลายทาง: the peers, this deployment's fingerprint, and adding a peer (confirm, then pin)."""
    person = _person(request)
    if not is_sys_admin(person):
        return _forbidden(request, "เฉพาะผู้ดูแลระบบจัดการระบบปลายทางได้", "Only system administrators manage peers")
    preview = None
    url = (request.POST.get("url") or "").strip()[:500]
    if request.method == "POST" and url:
        try:
            directory = fetch_directory(url)
            confirmed = request.POST.get("fingerprint", "")
            if confirmed:
                peer = add_peer(directory, confirmed_fingerprint=confirmed, actor=person)
                messages.success(request, text(request, f"บันทึก {peer.name} แล้ว", f"{peer.name} pinned"))
                return HttpResponseRedirect("/network/peers/")
            preview = {"directory": directory, "fingerprint": format_fingerprint(directory.fingerprint),
                       "organisations": len(directory.organisations)}
        except SarabanError as exc:
            messages.error(request, text(request, exc.message_th, exc.message_en))
    counts = dict(RemoteOrganisation.objects.values("peer").annotate(n=Count("pk")).values_list("peer", "n"))
    rows = [(peer, counts.get(peer.pk, 0), format_fingerprint(peer.fingerprint)) for peer in peers()]
    identity = deployment_identity()
    return render(request, "web/network/peers.html", {
        "rows": rows, "preview": preview, "url": url, "identity": identity,
        "own_fingerprint": format_fingerprint(identity.fingerprint),
    }, status=200)


@require_POST
@login_required
def peer_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Refresh, suspend or resume a peer."""
    person = _person(request)
    if not is_sys_admin(person):
        return _forbidden(request, "เฉพาะผู้ดูแลระบบจัดการระบบปลายทางได้", "Only system administrators manage peers")
    peer = get_object_or_404(Peer, pk=pk)
    if action not in ("refresh", "suspend", "resume"):
        raise Http404
    try:
        if action == "refresh":
            refresh_peer(peer, actor=person)
            messages.success(request, text(request, "ปรับปรุงรายชื่อหน่วยงานแล้ว", "Directory refreshed"))
        else:
            set_peer_active(peer, action == "resume", actor=person)
    except SarabanError as exc:
        messages.error(request, text(request, exc.message_th, exc.message_en))
    return HttpResponseRedirect("/network/peers/")
