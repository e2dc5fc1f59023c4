"""Verify every signature of a PDF and say the result in the ETSI EN 319 102-1 vocabulary.

``verify_pdf`` never raises and never hangs: a corrupt, truncated, encrypted or non-PDF file, or a
signature with a broken byte range, gives a ``Report`` (FORMAT_FAILURE and friends). Each file is
validated under a time limit (``timeout``) in a long-lived worker process (``saraban.core.workers``),
which is killed and replaced when the time is up; the command line validates in its own main thread
under an interval timer instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import io
import logging
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from asn1crypto import x509
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from saraban.core.workers import WorkerCrashed, WorkerPool, WorkerTimeout, shared_pool

from .diff_once import REVIEW_ONCE
from .plain_ecdsa import PLAIN_ECDSA_AWARE_VALIDATOR
from .report import Indication, Modifications, Report, SignatureResult
from .revisions import FileLayout, file_layout
from .shadow import FieldLooks

DEFAULT_TIMEOUT = 20.0

# pyHanko logs every failed path search with a traceback; the report already says what went wrong.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


class ValidationTimeout(BaseException):
    """The time limit for one file was reached.

    A ``BaseException``, so that no ``except Exception`` on the way (pyHanko's, or ``_safe``) swallows it
    and lets the rest of the file run with no limit."""


def verify_pdf(
    pdf: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    allow_fetching: bool = True,
    timeout: float | None = DEFAULT_TIMEOUT,
    in_process: bool = False,
    crls: Sequence[bytes] = (),
) -> Report:
    """Validate every signature and document timestamp in ``pdf`` against ``trust_roots``.

    The signer's revocation status must be learnt (ETSI EN 319 102-1): from the revocation data
    embedded in the PDF, from ``crls`` at hand (``trust.local_crls``), or, with ``allow_fetching``
    (the default; ``saraban verify --offline`` turns it off), from the OCSP responders and CRLs named in
    the certificates, each asked with a short time limit. A signature whose status could not be learnt
    is INDETERMINATE/TRY_LATER, never TOTAL_PASSED. The result is always a ``Report``.

    The work runs in a validation worker process (``validation_pool``), killed and replaced when it
    overruns ``timeout``. ``in_process`` validates in this process instead, under an interval timer
    in the main thread (the command line's way: no worker to start); elsewhere it has no time limit.
    """
    started = time.monotonic()
    digest = hashlib.sha256(pdf).hexdigest()
    roots = list(trust_roots)
    try:
        if in_process:
            if timeout is None or threading.current_thread() is not threading.main_thread():
                report = _verify(pdf, roots, allow_fetching=allow_fetching, crls=crls)
            else:
                report = run_with_alarm(lambda: _verify(pdf, roots, allow_fetching=allow_fetching, crls=crls),
                                        timeout)
        else:
            report = validation_pool().run(
                _verify_job, pdf, [c.dump() for c in roots], allow_fetching, list(crls),
                timeout=DEFAULT_TIMEOUT * 10 if timeout is None else timeout,
            )
    except (ValidationTimeout, WorkerTimeout):
        report = _file_problem("FORMAT_FAILURE", f"validation took longer than {timeout:g} s and was stopped")
    except WorkerCrashed as exc:
        report = _file_problem("FORMAT_FAILURE", f"the validation worker stopped: {exc}")
    except Exception as exc:  # the guarantee: never an exception out of here
        report = _file_problem("FORMAT_FAILURE", f"{type(exc).__name__}: {exc}")
    report.sha256 = digest
    report.seconds = round(time.monotonic() - started, 3)
    return report


def validation_pool() -> WorkerPool:
    """This process's validation workers (``SARABAN_VALIDATION_WORKERS``, default: one per core)."""
    return shared_pool("verify", size_setting="SARABAN_VALIDATION_WORKERS", warm=f"{__name__}:warm_up",
                       max_jobs=500)


def warm_up() -> None:
    """A validation worker's start: what every validation needs, before the first file arrives."""
    import pyhanko.sign.validation.pdf_embedded  # noqa: F401


def _verify_job(pdf: bytes, roots_der: list[bytes], allow_fetching: bool, crls: list[bytes]) -> Report:
    roots = [x509.Certificate.load(der) for der in roots_der]
    try:
        return _verify(pdf, roots, allow_fetching=allow_fetching, crls=crls)
    except Exception as exc:
        return _file_problem("FORMAT_FAILURE", f"{type(exc).__name__}: {exc}")


def run_with_alarm[T](fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn`` in the main thread under an interval timer; ``ValidationTimeout`` when it is reached.

    A timer already running (the test suite's per-test limit, say) is honoured: when it would expire
    first, its own handler runs at its time, and it is re-armed with what is left of it afterwards.
    """
    previous = signal.getsignal(signal.SIGALRM)
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    outer_first = 0 < outer_left < seconds
    fired_outer = False
    started = time.monotonic()

    def on_alarm(signum: int, frame: Any) -> None:
        nonlocal fired_outer
        if outer_first and callable(previous):
            fired_outer = True
            previous(signum, frame)
            return
        raise ValidationTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, outer_left if outer_first else seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0 and not fired_outer:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), outer_interval)


#: The report's ``problem`` for a file that is no PDF at all (the pages say "not a PDF", not "a failed signature").
NOT_A_PDF = "not a PDF file (no %PDF- header)"


def _file_problem(sub: str, problem: str) -> Report:
    indication = Indication.INDETERMINATE if sub == "SIGNED_DATA_NOT_FOUND" else Indication.TOTAL_FAILED
    return Report(indication=indication, sub_indication=sub, problem=problem)


def _verify(pdf: bytes, roots: list[x509.Certificate], *, allow_fetching: bool, crls: Sequence[bytes] = ()) -> Report:
    head = pdf[:1024]
    if b"%PDF-" not in head:
        return _file_problem("FORMAT_FAILURE", NOT_A_PDF)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.encrypted:
            try:
                result = reader.decrypt("")
            except Exception:
                result = None
            # decrypt() answers with an AuthResult (always truthy): only its status says it failed.
            if result is None or result.status is AuthStatus.FAILED:
                return _file_problem("FORMAT_FAILURE", "the PDF is encrypted with a password")
        signatures = list(reader.embedded_signatures)
    except Exception as exc:
        return _file_problem("FORMAT_FAILURE", f"the PDF cannot be read: {type(exc).__name__}: {exc}")
    if not signatures:
        return _file_problem("SIGNED_DATA_NOT_FOUND", "no signature in this PDF")
    dss, vc_kwargs = _dss_context(reader, roots, allow_fetching, crls)
    layout = _safe(lambda: file_layout(reader, pdf), None)
    looks = FieldLooks(reader)
    results = [_one(sig, dss, vc_kwargs, signatures, allow_fetching, layout, looks) for sig in signatures]
    return Report.overall(results)


_FETCH_CACHE_SECONDS = 300.0  # how long fetched OCSP responses and CRLs are reused in one process
_FETCH_TIMEOUT = 5  # seconds for each OCSP or CRL request


class _Fetching(threading.local):
    """Per thread: one event loop, and one set of OCSP/CRL fetchers whose answers are reused for a few
    minutes (a receiver validating a day's letters from one CA asks its responder once, not per letter)."""

    loop: asyncio.AbstractEventLoop | None = None
    backend: Any = None
    fetchers: Any = None
    since: float = 0.0


_FETCHING = _Fetching()
_BACKENDS: list[tuple[Any, asyncio.AbstractEventLoop]] = []  # to close at exit (no "unclosed session" noise)


@atexit.register
def _close_fetchers() -> None:
    for backend, loop in _BACKENDS:
        with contextlib.suppress(Exception):
            if not loop.is_closed():
                loop.run_until_complete(backend.close())
    _BACKENDS.clear()


def _loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, made when first needed."""
    if _FETCHING.loop is None or _FETCHING.loop.is_closed():
        _FETCHING.loop = asyncio.new_event_loop()
    return _FETCHING.loop


def _run[T](coro: Coroutine[Any, Any, T]) -> T:
    return _loop().run_until_complete(coro)


def _fetchers() -> Any:
    """This thread's fetchers, made anew when older than ``_FETCH_CACHE_SECONDS``."""
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    now = time.monotonic()
    if _FETCHING.fetchers is None or now - _FETCHING.since > _FETCH_CACHE_SECONDS:
        if _FETCHING.backend is not None:
            old = _FETCHING.backend
            with contextlib.suppress(Exception):
                _run(old.close())
            _BACKENDS[:] = [(b, loop) for b, loop in _BACKENDS if b is not old]
        _FETCHING.backend = AIOHttpFetcherBackend(per_request_timeout=_FETCH_TIMEOUT)
        _BACKENDS.append((_FETCHING.backend, _loop()))
        _FETCHING.fetchers = _FETCHING.backend.get_fetchers()
        _FETCHING.since = now
    return _FETCHING.fetchers


def _dss_context(
    reader: PdfFileReader, roots: list[x509.Certificate], allow_fetching: bool, crls: Sequence[bytes] = ()
) -> tuple[DocumentSecurityStore | None, dict[str, Any]]:
    kwargs: dict[str, Any] = {"trust_roots": roots, "allow_fetching": allow_fetching, "crls": list(crls),
                              "signature_validator": PLAIN_ECDSA_AWARE_VALIDATOR}
    if allow_fetching:
        kwargs["fetchers"] = _fetchers()
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:
        dss = None
    return dss, kwargs


def _policy(strict: bool) -> Any:
    """The signer's certificate needs a revocation answer (OCSP or CRL); other certificates (CAs, TSAs)
    are checked when they name a service, and not held against the signature when it does not answer."""
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

    return CertRevTrustPolicy(RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if strict
        else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
    ))


def _new_vc(dss: DocumentSecurityStore | None, kwargs: dict[str, Any], *, with_ocsp: bool = True,
            strict: bool = True) -> ValidationContext:
    kwargs = {**kwargs, "revinfo_policy": _policy(strict)}
    if dss is not None:
        try:
            if with_ocsp:
                return dss.as_validation_context(kwargs)
            # pyhanko-certvalidator rejects the chain when the DSS holds OCSP responses for *other*
            # certificates of the same issuer ("serial number does not match"), even in soft-fail mode;
            # the retry uses the DSS's certificates and CRLs only.
            return ValidationContext(other_certs=list(dss.load_certs()), **kwargs)
        except Exception:
            pass
    return ValidationContext(**kwargs)


async def _validate(sig: EmbeddedPdfSignature, vc: ValidationContext, ts_vc: ValidationContext, is_ts: bool) -> Any:
    if is_ts:
        return await async_validate_pdf_timestamp(sig, validation_context=ts_vc, diff_policy=REVIEW_ONCE)
    return await async_validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=ts_vc,
                                              diff_policy=REVIEW_ONCE)


_RETRY_WITHOUT_OCSP = {"CERTIFICATE_CHAIN_GENERAL_FAILURE", "TRY_LATER"}


def _one(
    sig: EmbeddedPdfSignature,
    dss: DocumentSecurityStore | None,
    vc_kwargs: dict[str, Any],
    all_sigs: list[EmbeddedPdfSignature],
    allow_fetching: bool,
    layout: FileLayout | None = None,
    looks: FieldLooks | None = None,
) -> SignatureResult:
    name = _safe(lambda: str(sig.field_name), "?")
    is_ts = _safe(lambda: sig.sig_object_type == "/DocTimeStamp", False)
    kind = "document_timestamp" if is_ts else "signature"
    result = SignatureResult(field_name=name, kind=kind, indication=Indication.INDETERMINATE)
    try:
        result.revision = sig.signed_revision + 1
        result.revisions_total = sig.reader.xrefs.total_revisions
    except Exception:
        pass
    status_unknown = False
    try:
        status: Any = _run(_validate(
            sig, _new_vc(dss, vc_kwargs), _new_vc(dss, vc_kwargs, strict=False), is_ts))
        problem = status.trust_problem_indic
        if dss is not None and dss.ocsps and problem is not None and problem.name in _RETRY_WITHOUT_OCSP:
            retry = _run(_validate(
                sig, _new_vc(dss, vc_kwargs, with_ocsp=False), _new_vc(dss, vc_kwargs, with_ocsp=False, strict=False),
                is_ts))
            if retry.trusted:
                status = retry
        problem = status.trust_problem_indic
        if (not is_ts and not status.trusted and status.revocation_details is None
                and (problem is None or problem.name != "NO_CERTIFICATE_CHAIN_FOUND")):
            # Did only the signer's revocation status fail? Then the chain is fine but the answer is
            # missing: INDETERMINATE/TRY_LATER (ETSI EN 319 102-1), not a chain failure. (No path to a
            # trusted root at all is no revocation question: soft checking cannot find one.)
            soft = _run(_validate(
                sig, _new_vc(dss, vc_kwargs, strict=False), _new_vc(dss, vc_kwargs, strict=False), is_ts))
            if soft.trusted:
                status, status_unknown = soft, True
    except Exception as exc:
        result.indication = Indication.TOTAL_FAILED
        result.sub_indication = "FORMAT_FAILURE"
        result.details.append(f"{type(exc).__name__}: {exc}")
        _describe_cert(result, _safe(lambda: sig.signer_cert, None))
        return result
    _fill(result, status, sig, dss, all_sigs, allow_fetching, layout, looks)
    if status_unknown:
        result.revocation_status = "unknown"
        if result.indication is Indication.TOTAL_PASSED:
            result.indication, result.sub_indication = Indication.INDETERMINATE, "TRY_LATER"
            result.details.append("the signer's revocation status could not be learnt (no OCSP or CRL answer)")
    return result


def _safe[T](fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception:
        return default


def _describe_cert(result: SignatureResult, cert: x509.Certificate | None) -> None:
    if cert is None:
        return
    result.signer = _safe(lambda: _common_name(cert), None)
    result.signer_certificate = _safe(lambda: {
        "subject": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "not_before": cert["tbs_certificate"]["validity"]["not_before"].native.isoformat(),
        "not_after": cert["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
        "sha256": cert.sha256.hex(),
    }, {})


def _common_name(cert: x509.Certificate) -> str:
    native = cert.subject.native
    return str(native.get("common_name") or cert.subject.human_friendly)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _fill(
    result: SignatureResult,
    status: Any,
    sig: EmbeddedPdfSignature,
    dss: DocumentSecurityStore | None,
    all_sigs: list[EmbeddedPdfSignature],
    allow_fetching: bool,
    layout: FileLayout | None = None,
    looks: FieldLooks | None = None,
) -> None:
    _describe_cert(result, status.signing_cert)
    if result.kind == "signature" and _safe(lambda: sig.docmdp_level is not None, False):
        result.kind = "certification"
    path = status.validation_path
    if path is not None:
        result.chain = _safe(lambda: [_common_name(c) for c in path.iter_certs(include_root=True)][::-1], [])
        result.trust_anchor = _safe(lambda: path.trust_anchor.authority.name.human_friendly, None)
    ts_status = getattr(status, "timestamp_validity", None)
    if result.kind == "document_timestamp":
        result.timestamp = _iso(getattr(status, "timestamp", None))
        result.timestamp_trusted = bool(status.trusted)
    else:
        result.signing_time = _iso(getattr(status, "signer_reported_dt", None))
        if ts_status is not None:
            result.timestamp = _iso(ts_status.timestamp)
            result.timestamp_trusted = bool(ts_status.intact and ts_status.valid and ts_status.trusted)
    coverage = status.coverage
    result.covers = {
        SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
        SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    }.get(coverage, "partial" if coverage is not None else "unknown")
    if layout is not None:
        signed_end = _safe(lambda: int(sig.byte_range[2]) + int(sig.byte_range[3]), None)
        if signed_end is not None:
            result.not_covered = [part.to_json() for part in layout.after(signed_end, sig.signed_revision)]
    level = status.modification_level
    result.modifications = Modifications[level.name] if level is not None else None
    if result.modifications is Modifications.LTA_UPDATES and any(
            part["changes"] == ["metadata"] for part in result.not_covered):
        # pyHanko counts an update of the /Info or XMP metadata alone among the long-term validation
        # updates; say what it is. (Writers refresh /Info beside the validation data: that stays LTA.)
        result.modifications = Modifications.METADATA
    if result.modifications not in (None, Modifications.NONE, Modifications.OTHER) and (
            replaced := _safe(lambda: (looks or FieldLooks(sig.reader)).replaced_since(sig.signed_revision),
                              list[str]())):
        result.modifications = Modifications.OTHER
        result.replaced_fields = replaced
    embedded = _has_embedded_revinfo(dss, sig)
    if status.revocation_details is not None:
        result.revocation_status = "revoked"
    elif status.trusted and result.kind != "document_timestamp":
        result.revocation_status = "good"  # the signer's status had to be learnt for it to be trusted
    elif status.trusted:
        result.revocation_status = "good" if embedded or allow_fetching else "not_checked"
    result.revocation_source = "embedded" if embedded else ("fetched" if allow_fetching else "none")
    result.level = _level(result, sig, dss, all_sigs)
    result.indication, result.sub_indication = _indication(status, ts_status, result)


def _has_embedded_revinfo(dss: DocumentSecurityStore | None, sig: EmbeddedPdfSignature) -> bool:
    if dss is not None and (dss.ocsps or dss.crls):
        return True
    try:
        attrs = sig.signer_info["signed_attrs"]
        return any(a["type"].native == "adobe_revocation_info_archival" for a in attrs)
    except Exception:
        return False


def _level(
    result: SignatureResult, sig: EmbeddedPdfSignature, dss: DocumentSecurityStore | None,
    all_sigs: list[EmbeddedPdfSignature],
) -> str | None:
    if result.kind == "document_timestamp":
        return None
    subfilter = _safe(lambda: str(sig.sig_object.get("/SubFilter")), "")
    if subfilter != "/ETSI.CAdES.detached":
        return f"CMS ({subfilter.lstrip('/')})" if subfilter else None
    level = "B-B"
    if result.timestamp is not None:
        level = "B-T"
        if dss is not None and (dss.ocsps or dss.crls):
            level = "B-LT"
            later = [s for s in all_sigs if _is_later_doc_ts(s, sig)]
            if later:
                level = "B-LTA"
    return level


def _is_later_doc_ts(candidate: EmbeddedPdfSignature, sig: EmbeddedPdfSignature) -> bool:
    try:
        return bool(candidate.sig_object_type == "/DocTimeStamp" and candidate.signed_revision > sig.signed_revision)
    except Exception:
        return False


def _indication(status: Any, ts_status: Any, result: SignatureResult) -> tuple[Indication, str | None]:
    if not status.intact:
        return Indication.TOTAL_FAILED, "HASH_FAILURE"
    if not status.valid:
        return Indication.TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    if result.covers not in ("entire_file", "entire_revision"):
        return Indication.TOTAL_FAILED, "FORMAT_FAILURE"
    if trailing := [part for part in result.not_covered if part["what"] == "trailing_data"]:
        # Bytes after the last %%EOF belong to no revision: a lenient reader may show them, no signature
        # vouches for them, and pyHanko's difference analysis never sees them.
        result.details.append(f"{trailing[0]['bytes']} bytes after the end of the file's last revision are "
                              "covered by no signature")
        return Indication.TOTAL_FAILED, "FORMAT_FAILURE"
    if getattr(status, "docmdp_ok", None) is False or result.modifications is Modifications.OTHER:
        return Indication.TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE"
    if ts_status is not None and not (ts_status.intact and ts_status.valid):
        result.details.append("the signature timestamp is invalid")
        return Indication.TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    problem = status.trust_problem_indic
    if status.revocation_details is not None:
        return (Indication.TOTAL_FAILED, "REVOKED") if problem is None or problem.name == "REVOKED" else (
            Indication.INDETERMINATE, problem.name)
    if problem is not None:
        return Indication.INDETERMINATE, problem.name
    if not status.trusted:
        return Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"
    if ts_status is not None and not ts_status.trusted:
        result.details.append("the timestamp authority is not trusted")
        ts_problem = ts_status.trust_problem_indic
        return Indication.INDETERMINATE, ts_problem.name if ts_problem else "NO_CERTIFICATE_CHAIN_FOUND"
    return Indication.TOTAL_PASSED, None
