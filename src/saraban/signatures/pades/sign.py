"""PAdES signing (B-B, B-T, B-LT, B-LTA) with pyHanko as a library, as incremental updates.

``sign_pdf`` signs one PDF. ``PadesSigner`` keeps what a batch shares: the loaded key, one event loop
with the TSA's HTTP session (one keep-alive connection instead of a new session and TLS context per
timestamp), the validation context whose fetched OCSP responses and CRLs are reused, and the room
reserved for the CMS. A batch of letters is signed with one password or PIN entry, and much faster
than one call at a time. ``sign_many_parallel`` spreads a batch of a PKCS#12 key over the signing worker
processes (``signing_pool``: fresh interpreters started once and kept, never forked from this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
import uuid
import weakref
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from asn1crypto import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from saraban.core.errors import SarabanError
from saraban.core.workers import WorkerCrashed, WorkerJobFailed, WorkerPool, WorkerTimeout, shared_pool

from .appearance import SignatureAppearance
from .keys import CachedKeySigner, KeyMaterial, KeySource

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[str, ...] = get_args(Level)
FIELD_PREFIX = "Signature"
_T = TypeVar("_T")


class SigningFailed(SarabanError):
    """The PDF could not be signed (bad input, TSA or revocation service unreachable, …)."""


def _failed(en: str, th: str = "ลงนามเอกสารไม่สำเร็จ") -> SigningFailed:
    return SigningFailed(code="signing.failed", message_th=th, message_en=en)


@dataclass
class PadesSigner:
    """A signing session: one key, one level, one TSA; call ``sign`` for each PDF of a batch.

    Call ``close()`` (or use it as a context manager) when the batch is done: it closes the HTTP
    sessions and the session's event loop. The key itself belongs to the caller (``KeySource.close``).
    """

    key: KeySource
    level: Level = "B-B"
    tsa_url: str | None = None
    trust_roots: Sequence[x509.Certificate] = ()
    allow_fetching: bool = True
    tsa_timeout: int = 10
    # Refuse a signing certificate that is expired, revoked or of unknown status before the key is used
    # (``status.require_fit_to_sign``). Only tests that need such signatures turn this off.
    check_signer: bool = True
    known_crls: Sequence[bytes] = ()  # CRLs at hand for that check (``trust.local_crls``)
    _timestamper: timestamps.TimeStamper | None = field(default=None, init=False)
    _vc: ValidationContext | None = field(default=None, init=False)
    _reserve: int | None = field(default=None, init=False)
    _runner: _LoopRunner | None = field(default=None, init=False, repr=False)
    _token: str = field(default_factory=lambda: uuid.uuid4().hex, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise _failed(f"Unknown PAdES level {self.level!r}; use one of {', '.join(LEVELS)}",
                          f"ไม่รู้จักระดับลายมือชื่อ {self.level}")
        if self.check_signer:
            self._check_signer()
        runner = _LoopRunner()
        if self.level != "B-B":
            if not self.tsa_url:
                raise _failed(f"PAdES {self.level} needs a time-stamping authority (--tsa URL)",
                              f"ระดับ {self.level} ต้องระบุหน่วยประทับรับรองเวลา (TSA)")
            # One lazily opened aiohttp session for the whole batch: pyHanko's default opens (and
            # builds a TLS context for) a new session on every timestamp request.
            tsa_session = LazySession()
            runner.closers.append(tsa_session.close)
            self._timestamper = timestamps.HTTPTimeStamper(
                self.tsa_url, timeout=self.tsa_timeout, session=tsa_session
            )
        if self.level in ("B-LT", "B-LTA"):
            self._vc = ValidationContext(
                trust_roots=list(self.trust_roots), allow_fetching=self.allow_fetching,
                other_certs=list(_chain_of(self.key.signer())),
            )
            runner.closers.append(self._vc.aclose)
        runner.token = self._token
        self._runner = runner
        # Close the loop and sessions even when the caller forgets to (e.g. an exception mid-batch).
        weakref.finalize(self, runner.close)

    def _check_signer(self) -> None:
        from .status import SignerRefused, require_fit_to_sign

        try:
            signer = self.key.signer()
            cert = signer.signing_cert
            assert cert is not None
            require_fit_to_sign(cert, _chain_of(signer)[1:], trust_roots=self.trust_roots,
                                allow_fetching=self.allow_fetching, crls=self.known_crls)
        except SignerRefused as exc:
            raise SigningFailed(code=exc.code, message_th=exc.message_th, message_en=exc.message_en) from None

    def close(self) -> None:
        """End the session: close its HTTP sessions and event loop; the signing workers forget the key."""
        if self._runner is not None:
            self._runner.close()

    def __enter__(self) -> PadesSigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sign(
        self,
        pdf: bytes,
        *,
        field_name: str | None = None,
        visible: SignatureAppearance | None = None,
        certify: bool = False,
        reason: str | None = None,
        location: str | None = None,
    ) -> bytes:
        """Sign ``pdf`` as an incremental update and return the new PDF (``SigningFailed`` otherwise)."""
        return self._run(self.async_sign(
            pdf, field_name=field_name, visible=visible, certify=certify, reason=reason, location=location
        ))

    async def async_sign(
        self,
        pdf: bytes,
        *,
        field_name: str | None = None,
        visible: SignatureAppearance | None = None,
        certify: bool = False,
        reason: str | None = None,
        location: str | None = None,
    ) -> bytes:
        """``sign`` inside a running event loop.

        The TSA session and the validation context's fetchers are bound to the loop they were first
        used in: use ``sign``/``sign_many`` (the session's own loop) unless this session only ever
        runs inside one caller-owned loop.
        """
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except Exception as exc:
            raise _failed(f"The input is not a readable PDF: {exc}", "ไฟล์ที่นำมาลงนามไม่ใช่ PDF ที่อ่านได้") from None
        if writer.prev.encrypted:
            raise _failed("Encrypted PDFs cannot be signed here", "ไม่สามารถลงนามไฟล์ PDF ที่เข้ารหัสไว้")
        name = field_name or next_field_name(writer.prev)
        meta = signers.PdfSignatureMetadata(
            field_name=name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            certify=certify,
            embed_validation_info=self.level in ("B-LT", "B-LTA"),
            use_pades_lta=self.level == "B-LTA",
            validation_context=self._vc,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            self.key.signer(),
            timestamper=self._timestamper,
            stamp_style=visible.stamp_style() if visible else None,
            new_field_spec=visible.field_spec(name) if visible else None,
        )
        params: dict[str, Any] = {"appearance_text_params": visible.text_params()} if visible else {}
        reserve = self._bytes_reserved()
        try:
            try:
                out = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserve, **params)
            except SigningError as exc:  # too little room reserved: let pyHanko estimate
                if "reserved" not in str(exc).lower() and "too small" not in str(exc).lower():
                    raise
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
                out = await pdf_signer.async_sign_pdf(writer, **params)
        except SarabanError:
            raise
        except Exception as exc:
            raise _failed(f"pyHanko could not sign: {type(exc).__name__}: {exc}") from None
        assert isinstance(out, io.BytesIO)
        return out.getvalue()

    def sign_many(self, pdfs: Iterable[bytes], **kwargs: Any) -> list[bytes]:
        """Sign each PDF of a batch in one event loop (one authorisation, shared HTTP sessions)."""

        async def run() -> list[bytes]:
            return [await self.async_sign(pdf, **kwargs) for pdf in pdfs]

        return self._run(run())

    def sign_many_parallel(self, pdfs: Iterable[bytes], *, processes: int | None = None,
                           per_letter: Sequence[Mapping[str, Any]] | None = None, **kwargs: Any) -> list[bytes]:
        """``sign_many`` spread over ``processes`` signing workers (default: one per core), in order.

        The workers are long-lived fresh interpreters (``signing_pool``, ``saraban.core.workers``), never forked
        from this process. The key travels to them over their pipes as plain key material, never
        through a file, and each worker keeps its own session (event loop, TSA connection, validation
        context with its revocation data) for this signing session until ``close()``, when they forget
        it. Keys on a PKCS#11 token stay on the token: those batches, and batches of one letter, are
        signed in this process. ``kwargs`` are those of ``sign`` for every letter; ``per_letter`` (one
        mapping per PDF, e.g. ``{"visible": appearance}``) adds or overrides them letter by letter.
        """
        batch = list(pdfs)
        options = [dict(o) for o in per_letter] if per_letter is not None else [{} for _ in batch]
        if len(options) != len(batch):
            raise _failed("per_letter needs one entry per PDF", "ข้อมูลรายฉบับไม่ครบตามจำนวนเอกสาร")
        items = list(zip(batch, options, strict=True))
        workers = processes or os.cpu_count() or 1
        material = self._material()
        if workers <= 1 or len(batch) <= 1 or material is None:
            return self._run(_sign_items(self, items, kwargs))
        # A few chunks per worker keeps them all busy to the end without a round trip per letter.
        size = max(1, -(-len(items) // (workers * 4)))
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        settings = _WorkerSettings(self._token, self.level, self.tsa_url, tuple(c.dump() for c in self.trust_roots),
                                   self.allow_fetching, self.tsa_timeout)
        # Generously: two TSA requests per letter may each take up to ``tsa_timeout``.
        limit = 60 + len(batch) * (2 * self.tsa_timeout + 5)
        assert self._runner is not None
        self._runner.used_workers = True
        try:
            parts = signing_pool().map(_sign_chunk, [(settings, material, chunk, kwargs) for chunk in chunks],
                                       timeout=limit, workers=workers)
        except WorkerTimeout:
            raise _failed(f"The signing workers did not finish within {limit} s",
                          "กระบวนการลงนามไม่เสร็จภายในเวลาที่กำหนด") from None
        except (WorkerCrashed, WorkerJobFailed) as exc:
            raise _failed(f"A signing worker failed: {exc}") from None
        signed: list[bytes] = []
        for part in parts:
            if isinstance(part, _WorkerFailure):
                raise SigningFailed(code=part.code, message_th=part.message_th, message_en=part.message_en)
            signed.extend(part)
        return signed

    def _material(self) -> KeyMaterial | None:
        """The key as data for a signing worker, or None when it must stay here (a token's key)."""
        try:
            signer = self.key.signer()
        except SarabanError:
            return None
        return KeyMaterial.of(signer) if isinstance(signer, CachedKeySigner) else None

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        if self._runner is None:  # only when __post_init__ failed half-way
            raise _failed("The signing session was not set up", "ยังไม่ได้เปิดการลงนาม")
        return self._runner.run(coro)

    def _bytes_reserved(self) -> int:
        """Room for the CMS: the certificates, the signature and (when stamped) a timestamp token."""
        if self._reserve is None:
            signer = self.key.signer()
            certs = sum(len(c.dump()) for c in _chain_of(signer))
            room = 4096 + 2 * certs
            if self._timestamper is not None:
                room += 8192
            self._reserve = room
        return self._reserve


class _LoopRunner:
    """One event loop for a signing session, run from whichever thread calls (one call at a time).

    ``asyncio.run`` per letter would create and tear down a loop each time, and the TSA and fetcher
    HTTP sessions are bound to the loop that opened them, so they could not be reused.
    """

    def __init__(self) -> None:
        self.closers: list[Any] = []  # async callables that release what the session opened
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.used_workers = False  # whether the signing workers hold this session's key
        self.token = ""

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(coro)

    def close(self) -> None:
        if self.used_workers:
            self.used_workers = False
            with contextlib.suppress(Exception):  # a worker that cannot be reached is killed anyway
                signing_pool().run_on_each(_forget_session, self.token)
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is None or loop.is_closed():
                return
            try:
                for closer in self.closers:
                    # closing is best effort: the loop is closed below in any case
                    with contextlib.suppress(Exception):
                        loop.run_until_complete(closer())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()


@dataclass(frozen=True)
class _WorkerFailure:
    """A ``SarabanError`` raised in a worker, carried back as plain data."""

    code: str
    message_th: str
    message_en: str


@dataclass(frozen=True)
class _WorkerSettings:
    """A signing session's settings, as a signing worker rebuilds the session from them."""

    token: str  # which signing session: a worker keeps one session at a time
    level: Level
    tsa_url: str | None
    trust_roots_der: tuple[bytes, ...]
    allow_fetching: bool
    tsa_timeout: int


_WORKER_SESSION: tuple[str, PadesSigner] | None = None  # in a signing worker: the current session


def signing_pool() -> WorkerPool:
    """This process's signing workers (``SARABAN_SIGNING_WORKERS``, default: one per core)."""
    return shared_pool("sign", size_setting="SARABAN_SIGNING_WORKERS", warm=f"{__name__}:warm_up", max_jobs=2000)


def warm_up() -> None:
    """A signing worker's start: the imports and the stamp font, which do not depend on any key."""
    from . import appearance

    appearance.warm_up()


def _forget_session(token: str) -> None:
    global _WORKER_SESSION
    if _WORKER_SESSION is not None and (not token or _WORKER_SESSION[0] == token):
        _token, session = _WORKER_SESSION
        _WORKER_SESSION = None
        session.close()
        session.key.close()


def _worker_session(settings: _WorkerSettings, material: KeyMaterial) -> PadesSigner:
    global _WORKER_SESSION
    if _WORKER_SESSION is None or _WORKER_SESSION[0] != settings.token:
        _forget_session("")
        roots = [x509.Certificate.load(der) for der in settings.trust_roots_der]
        session = PadesSigner(material.open(), level=settings.level, tsa_url=settings.tsa_url, trust_roots=roots,
                              allow_fetching=settings.allow_fetching, tsa_timeout=settings.tsa_timeout,
                              check_signer=False)  # checked by the session that handed the key over
        _WORKER_SESSION = (settings.token, session)
    return _WORKER_SESSION[1]


async def _sign_items(session: PadesSigner, items: list[tuple[bytes, dict[str, Any]]],
                      kwargs: dict[str, Any]) -> list[bytes]:
    return [await session.async_sign(pdf, **{**kwargs, **options}) for pdf, options in items]


def _sign_chunk(settings: _WorkerSettings, material: KeyMaterial, items: list[tuple[bytes, dict[str, Any]]],
                kwargs: dict[str, Any]) -> list[bytes] | _WorkerFailure:
    """In a signing worker: sign one chunk of a batch with the session's key."""
    try:
        session = _worker_session(settings, material)
        return session._run(_sign_items(session, items, kwargs))
    except SarabanError as exc:
        return _WorkerFailure(exc.code, exc.message_th, exc.message_en)
    except Exception as exc:
        return _WorkerFailure("signing.failed", "ลงนามเอกสารไม่สำเร็จ", f"{type(exc).__name__}: {exc}")


def _chain_of(signer: signers.Signer) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    if signer.signing_cert is not None:
        certs.append(signer.signing_cert)
    registry: Any = signer.cert_registry
    certs.extend(registry)
    return certs


def next_field_name(reader: PdfFileReader) -> str:
    """The first ``SignatureN`` field name not yet used in the document."""
    try:
        used = {name for name, _value, _ref in fields.enumerate_sig_fields(reader)}
    except Exception:
        used = set()
    n = 1
    while f"{FIELD_PREFIX}{n}" in used:
        n += 1
    return f"{FIELD_PREFIX}{n}"


def sign_pdf(
    pdf: bytes,
    key: KeySource,
    *,
    level: Level = "B-B",
    tsa_url: str | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    field_name: str | None = None,
    visible: SignatureAppearance | None = None,
    certify: bool = False,
    reason: str | None = None,
    allow_fetching: bool = True,
    check_signer: bool = True,
    known_crls: Sequence[bytes] = (),
) -> bytes:
    """Sign ``pdf`` with ``key`` at PAdES ``level`` and return the signed PDF (an incremental update).

    ``tsa_url`` is needed from B-T up; ``trust_roots`` (and fetching OCSP/CRL from the certificate's
    URLs) from B-LT up, to collect the revocation data embedded in the DSS. ``visible`` draws the stamp;
    ``certify`` makes this a certification (DocMDP, form filling allowed) signature. A certificate that
    is expired, revoked or whose status its OCSP responder and CRL cannot tell is refused first
    (``SigningFailed``), unless ``check_signer`` is off.
    """
    with PadesSigner(key, level=level, tsa_url=tsa_url, trust_roots=trust_roots,
                     allow_fetching=allow_fetching, check_signer=check_signer, known_crls=known_crls) as session:
        return session.sign(pdf, field_name=field_name, visible=visible, certify=certify, reason=reason)
