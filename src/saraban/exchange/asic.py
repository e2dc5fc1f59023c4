"""The ASiC-E container (ETSI EN 319 162-1) of an exchange message, without its signature's cryptography.

Layout of the ZIP (``docs/exchange.md``)::

    mimetype                      first, stored, "application/vnd.etsi.asic-e+zip"
    envelope.json, letter.pdf, …  the data objects
    META-INF/ASiCManifest.xml     one DataObjectReference (SHA-256, MimeType) per data object
    META-INF/signature001.p7s     detached CAdES over the manifest's bytes (``cades.py``)

``read_container`` runs the container checks of ``open_envelope`` in order (size, ZIP, names, bomb,
mimetype, manifest, digests) and raises an ``EnvelopeRefused`` for the first that fails; it never lets
another exception out for any input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from .refusals import refused

MIMETYPE = "application/vnd.etsi.asic-e+zip"
MANIFEST_NAME = "META-INF/ASiCManifest.xml"
SIGNATURE_NAME = "META-INF/signature001.p7s"
SIGNATURE_MEDIA_TYPE = "application/pkcs7-signature"
ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"

# A data object's name as Saraban writes it: ASCII segments joined by "/" (Thai titles go in envelope.json).
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
# Media types stored as they are: already compressed, deflating them again costs time and gains nothing.
_STORED_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/zip")
_MAX_MANIFEST_BYTES = 1024 * 1024
_BOMB_MIN_BYTES = 1024 * 1024  # the ratio check applies to entries larger than this


@dataclass(frozen=True)
class Part:
    """One data object of a message: its name in the container, its media type and its bytes."""

    name: str
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The SHA-256 of the bytes, in lowercase hex."""
        return hashlib.sha256(self.data).hexdigest()

    def __repr__(self) -> str:
        return f"Part({self.name!r}, {self.media_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Limits:
    """What a receiver accepts: the body's size, the ZIP entries (all counted), the expanded size and ratio."""

    max_bytes: int
    max_parts: int
    max_uncompressed: int
    max_ratio: int = 100


@dataclass(frozen=True)
class Container:
    """A container that passed the container checks: its data objects (manifest order) and signature."""

    parts: tuple[Part, ...]
    manifest: bytes
    signature: bytes | None  # None: the manifest names a signature file the ZIP does not hold


def is_valid_part_name(name: str) -> bool:
    """Whether Saraban may write a data object under ``name`` (``enclosures/01-order.pdf``)."""
    if len(name) > 200 or name == "mimetype" or name.startswith("META-INF/"):
        return False
    return all(_SEGMENT.fullmatch(segment) for segment in name.split("/"))


def enclosure_part_name(index: int, filename: str) -> str:
    """The part name of the ``index``-th enclosure (from 1): ``enclosures/01-<safe name>``.

    Only ASCII letters, digits, ``.``, ``_`` and ``-`` are kept (the title, in Thai, travels in
    envelope.json): ``(2, "คำสั่ง 12.pdf")`` gives ``enclosures/02-12.pdf``.
    """
    base = re.split(r"[/\\]", filename)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or not suffix.isalnum():
        stem, suffix = base, ""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", unicodedata.normalize("NFKD", stem)).strip("-._")[:60] or "enclosure"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix)[:10]
    return f"enclosures/{index:02d}-{safe}" + (f".{suffix.lower()}" if suffix else "")


def build_manifest(parts: Sequence[Part], signature_name: str = SIGNATURE_NAME) -> bytes:
    """The ASiCManifest.xml listing ``parts`` (SHA-256, base64) and referring to the signature."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<asic:ASiCManifest xmlns:asic="{ASIC_NS}" xmlns:ds="{DSIG_NS}">',
        f"  <asic:SigReference URI={quoteattr(signature_name)} MimeType={quoteattr(SIGNATURE_MEDIA_TYPE)}/>",
    ]
    for part in parts:
        digest = base64.b64encode(hashlib.sha256(part.data).digest()).decode("ascii")
        lines += [
            f"  <asic:DataObjectReference URI={quoteattr(part.name)} MimeType={quoteattr(part.media_type)}>",
            f'    <ds:DigestMethod Algorithm="{SHA256_URI}"/>',
            f"    <ds:DigestValue>{digest}</ds:DigestValue>",
            "  </asic:DataObjectReference>",
        ]
    lines.append("</asic:ASiCManifest>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def check_parts(parts: Sequence[Part]) -> None:
    """``ValueError`` for a part name Saraban must not write, a repeated name or a malformed media type."""
    names = [p.name for p in parts]
    for part in parts:
        if not is_valid_part_name(part.name):
            raise ValueError(f"not a valid part name: {part.name!r}")
        if not _MEDIA_TYPE.fullmatch(part.media_type):
            raise ValueError(f"not a valid media type: {part.media_type!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"repeated part names: {names}")


def write_container(parts: Sequence[Part], sign: Callable[[bytes], bytes], *, date_time: datetime) -> bytes:
    """The ZIP of ``parts`` with its manifest and the detached signature ``sign(manifest)``.

    ``ValueError`` for a name Saraban must not write, a repeated name or a malformed media type: these
    are programming errors of the sender, not refusals.
    """
    check_parts(parts)
    manifest = build_manifest(parts)
    signature = sign(manifest)
    stamp = max(date_time.utctimetuple()[:6], (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", stamp), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for part in parts:
            method = zipfile.ZIP_STORED if part.media_type in _STORED_TYPES else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(part.name, stamp), part.data, compress_type=method)
        archive.writestr(zipfile.ZipInfo(MANIFEST_NAME, stamp), manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo(SIGNATURE_NAME, stamp), signature, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def read_container(data: bytes, limits: Limits) -> Container:
    """Check ``data`` as an ASiC-E container and return its data objects (``EnvelopeRefused`` if not)."""
    if len(data) > limits.max_bytes:
        raise refused("exchange.too_large", f"{len(data)} bytes, at most {limits.max_bytes}",
                      f"{len(data)} ไบต์ รับได้ไม่เกิน {limits.max_bytes}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # zipfile raises many kinds of error on garbage
        raise refused("exchange.not_zip") from None
    if len(infos) > limits.max_parts:
        raise refused("exchange.too_many_parts", f"{len(infos)} entries, at most {limits.max_parts}",
                      f"{len(infos)} ไฟล์ รับได้ไม่เกิน {limits.max_parts}")
    files = _check_names(infos)
    _check_sizes(files, limits)
    contents = _read_all(archive, files)
    _check_mimetype(data, infos, contents)
    manifest = contents.get(MANIFEST_NAME)
    if manifest is None:
        raise refused("exchange.bad_manifest", f"{MANIFEST_NAME} is missing", f"ไม่พบ {MANIFEST_NAME}")
    signature_name, references = parse_manifest(manifest)
    parts = _check_data_objects(references, contents)
    return Container(parts=parts, manifest=manifest, signature=contents.get(signature_name))


def _name_problem(name: str) -> str | None:
    if not name or len(name) > 255:
        return "empty or too long"
    if "\\" in name or "\x00" in name or any(not c.isprintable() for c in name):
        return "a backslash or a control character"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    segments = name.removesuffix("/").split("/")
    if any(s in ("", ".", "..") for s in segments):
        return "an empty, '.' or '..' path segment"
    return None


def _check_names(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The file entries (directory entries dropped), every name safe and none repeated."""
    seen: set[str] = set()
    files = []
    for info in infos:
        problem = _name_problem(info.filename)
        if problem is not None:
            raise refused("exchange.bad_name", f"{info.filename!r}: {problem}")
        # Names equal once case and Unicode form are ignored would overwrite each other when unpacked.
        key = unicodedata.normalize("NFC", info.filename.removesuffix("/")).casefold()
        if key in seen:
            raise refused("exchange.bad_name", f"{info.filename!r} appears twice", f"{info.filename!r} ซ้ำกัน")
        seen.add(key)
        if info.filename.endswith("/"):
            if info.file_size:
                raise refused("exchange.bad_name", f"{info.filename!r}: a folder entry with content")
            continue
        files.append(info)
    return files


def _check_sizes(files: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = 0
    for info in files:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _BOMB_MIN_BYTES and ratio > limits.max_ratio:
            raise refused("exchange.zip_bomb", f"{info.filename!r} expands {ratio:.0f} times")
    if total > limits.max_uncompressed:
        raise refused("exchange.zip_bomb", f"{total} bytes uncompressed, at most {limits.max_uncompressed}",
                      f"ขยายแล้ว {total} ไบต์ รับได้ไม่เกิน {limits.max_uncompressed}")


def _read_all(archive: zipfile.ZipFile, files: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Every file's bytes, read no further than its declared size (a lying header is a broken ZIP)."""
    contents: dict[str, bytes] = {}
    for info in files:
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refused("exchange.not_zip", f"{info.filename!r}: encrypted or an unsupported compression")
        try:
            with archive.open(info) as entry:
                content = entry.read(info.file_size + 1)
        except Exception:  # a bad CRC, a truncated or corrupt stream
            raise refused("exchange.not_zip", f"{info.filename!r} cannot be read") from None
        if len(content) != info.file_size:
            raise refused("exchange.not_zip", f"{info.filename!r} is not its declared size")
        contents[info.filename] = content
    return contents


def _check_mimetype(data: bytes, infos: list[zipfile.ZipInfo], contents: dict[str, bytes]) -> None:
    """``mimetype`` is the first entry, stored, right, and at the very start of the file (so that the
    media type can be read at byte 38, as ETSI EN 319 162-1 intends)."""
    first = infos[0] if infos else None
    if (first is None or first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED
            or contents.get("mimetype") != MIMETYPE.encode("ascii")
            or data[:4] != b"PK\x03\x04" or data[30:38] != b"mimetype"):
        raise refused("exchange.not_asic")


def parse_manifest(manifest: bytes) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The signature's name and the (name, media type, SHA-256) of each data object the manifest lists."""
    if len(manifest) > _MAX_MANIFEST_BYTES:
        raise refused("exchange.bad_manifest", "larger than 1 MB")
    try:
        text = manifest.decode("utf-8")
    except UnicodeDecodeError:
        raise refused("exchange.bad_manifest", "not UTF-8") from None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # no DTD, so no entity expansion
        raise refused("exchange.bad_manifest", "a DTD is not allowed")
    try:
        root = ElementTree.fromstring(manifest)
    except Exception:  # ParseError and its relatives
        raise refused("exchange.bad_manifest", "not well-formed XML") from None
    if root.tag != f"{{{ASIC_NS}}}ASiCManifest":
        raise refused("exchange.bad_manifest", f"the root element must be ASiCManifest in {ASIC_NS}")
    sig_refs = root.findall(f"{{{ASIC_NS}}}SigReference")
    if len(sig_refs) != 1 or not sig_refs[0].get("URI"):
        raise refused("exchange.bad_manifest", "exactly one SigReference with a URI is required")
    signature_name = unquote(sig_refs[0].get("URI", ""))
    if not (signature_name.startswith("META-INF/") and signature_name.endswith(".p7s")):
        raise refused("exchange.bad_manifest", "the SigReference must name a META-INF/*.p7s file")
    references = [_reference(element) for element in root.findall(f"{{{ASIC_NS}}}DataObjectReference")]
    names = [name for name, _, _ in references]
    if len(set(names)) != len(names):
        raise refused("exchange.bad_manifest", "a data object is listed twice")
    return signature_name, references


def _reference(element: ElementTree.Element) -> tuple[str, str, bytes]:
    name = unquote(element.get("URI", ""))
    if not name or name == "mimetype" or name.startswith("META-INF/") or _name_problem(name):
        raise refused("exchange.bad_manifest", f"DataObjectReference URI {name!r} is not a data object")
    method = element.find(f"{{{DSIG_NS}}}DigestMethod")
    value = element.find(f"{{{DSIG_NS}}}DigestValue")
    if method is None or method.get("Algorithm") != SHA256_URI or value is None:
        raise refused("exchange.bad_manifest", f"{name!r}: a SHA-256 DigestMethod and a DigestValue are required")
    try:
        digest = base64.b64decode((value.text or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise refused("exchange.bad_manifest", f"{name!r}: the DigestValue is not a base64 SHA-256")
    media_type = element.get("MimeType") or "application/octet-stream"
    return name, media_type, digest


def _check_data_objects(references: list[tuple[str, str, bytes]], contents: dict[str, bytes]) -> tuple[Part, ...]:
    parts = []
    for name, media_type, digest in references:
        data = contents.get(name)
        if data is None:
            raise refused("exchange.missing_part", repr(name))
        if hashlib.sha256(data).digest() != digest:
            raise refused("exchange.digest_mismatch", repr(name))
        parts.append(Part(name, media_type, data))
    listed = {name for name, _, _ in references}
    for name in contents:
        if name != "mimetype" and not name.startswith("META-INF/") and name not in listed:
            raise refused("exchange.unlisted_part", repr(name))
    return tuple(parts)
