"""``/pki/<name>.crl``: the CRLs this installation publishes (the demo root's), for any validator to fetch."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from saraban.signatures.trust import local_trust_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.crl$")


@require_GET
def crl(request: HttpRequest, name: str) -> HttpResponse:
    """A CRL from ``SARABAN_HOME/trust/crls`` (public, like any CA's CRL distribution point)."""
    if not _NAME.match(name):
        raise Http404("no such CRL")
    path = local_trust_dir() / "crls" / name
    try:
        data = path.read_bytes()
    except OSError:
        raise Http404("no such CRL") from None
    response = HttpResponse(data, content_type="application/pkix-crl")
    response["Cache-Control"] = "public, max-age=3600"
    return response
