"""Real mail servers on loopback for the e-mail channel's tests: Debian's dovecot (IMAP, IMAPS) and aiosmtpd (SMTP).

``mail_servers()`` starts both in a temporary folder and always stops both:

* dovecot runs in the foreground (``dovecot -F -c CONF``) in its own session, with a config of its own: a
  passwd-file per user, a static userdb, one Maildir per user under ``TMP/mail/<address>``, and listeners on
  127.0.0.1 only (IMAP, and IMAPS with a certificate from a throw-away CA);
* the SMTP server (aiosmtpd, in a thread) takes AUTH PLAIN/LOGIN without TLS (STARTTLS is offered too) and
  behaves like the organisation's MTA: it delivers into those Maildirs, refuses unknown recipients, sends DSN
  bounces, can fail temporarily, can be taken down and brought back on the same port, and keeps every message
  it accepted for assertions.

Addresses are compared without regard to case (IMAP logins too: dovecot lowercases them).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import email.utils
import grp
import hashlib
import ipaddress
import itertools
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AnyStr, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ..processes import group_members

#: The name the SMTP server gives itself (banner, Received headers, MAILER-DAEMON's domain).
MTA_HOSTNAME = "mail.saraban.test"
#: The default largest message the SMTP server takes (bytes of DATA); ``mail_servers(size_limit=…)`` changes it.
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024

TEMPORARY_FAILURE = "451 4.3.0 Try again later"
SIZE_EXCEEDED = "552 5.3.4 Message size exceeds fixed limit"

Stage = Literal["MAIL", "RCPT", "DATA"]

#: What an IMAP login may hold (dovecot's default, plus "+" and "=" of sub-addresses): never "/" nor ":", so a
#: login always names one file under users/ and one Maildir under mail/.
USERNAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@+="


class MailServerError(RuntimeError):
    """A test mail server could not be started (the message carries dovecot's log)."""


# -- helpers -----------------------------------------------------------------------------------------------------


def _key(address: str) -> str:
    """An address as the servers compare it (case-insensitive)."""
    return address.strip().strip("<>").lower()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ssha512(password: str) -> str:
    """Dovecot's ``{SSHA512}`` scheme: base64(sha512(password + salt) + salt)."""
    salt = os.urandom(16)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode()


def _make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate it signed for 127.0.0.1 / localhost: (ca.pem, cert.pem, key.pem).

    A separate CA (not one self-signed leaf) so that Python's strict X.509 checks accept the chain."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Saraban test mail CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.DNSName(MTA_HOSTNAME),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


def _header_block(raw: bytes) -> bytes:
    """The header section of a message (without the blank line that ends it)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[:match.start()] if match else raw.rstrip(b"\r\n")


def _crlf(text: str) -> bytes:
    """Text with CRLF line ends, as it goes over SMTP and IMAP."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


# -- the mail store: Maildirs that dovecot serves ----------------------------------------------------------------


class _Maildirs:
    """The users' Maildirs under ``root`` (INBOX only), owned by the uid that dovecot reads mail as."""

    _counter = itertools.count(1)

    def __init__(self, root: Path, uid: int, gid: int) -> None:
        self.root, self.uid, self.gid = root, uid, gid
        self._lock = threading.Lock()

    def path(self, address: str) -> Path:
        return self.root / _key(address)

    def exists(self, address: str) -> bool:
        return (self.path(address) / "new").is_dir()

    def _own(self, path: Path) -> None:
        if os.getuid() == 0 and self.uid != 0:
            os.chown(path, self.uid, self.gid)

    def create(self, address: str) -> None:
        """An empty INBOX (kept as it is when it exists)."""
        box = self.path(address)
        for sub in (box, box / "cur", box / "new", box / "tmp"):
            if not sub.is_dir():
                sub.mkdir(mode=0o700)
                self._own(sub)

    def deliver(self, address: str, raw: bytes) -> Path:
        """Write ``raw`` into ``tmp/`` and rename it into ``new/`` (so a reader never sees half a message)."""
        box = self.path(address)
        if not self.exists(address):
            raise KeyError(f"no mailbox for {address}")
        now = time.time()
        name = (f"{int(now)}.M{int(now % 1 * 1_000_000):06d}P{os.getpid()}Q{next(self._counter)}"
                f".{MTA_HOSTNAME},S={len(raw)}")
        with self._lock:
            temporary = box / "tmp" / name
            with open(temporary, "xb") as out:
                out.write(raw)
                out.flush()
            self._own(temporary)
            final = box / "new" / name
            os.rename(temporary, final)
        return final

    def messages(self, address: str) -> list[bytes]:
        """The messages in the INBOX (``new/`` and ``cur/``), oldest first by their Maildir names."""
        box = self.path(address)
        if not self.exists(address):
            raise KeyError(f"no mailbox for {address}")
        for _ in range(10):  # dovecot moves a file from new/ to cur/ (adding flags to its name) at any time
            found: dict[str, Path] = {}
            for sub in ("new", "cur"):
                for path in (box / sub).iterdir():
                    found.setdefault(path.name.split(":", 1)[0], path)
            try:
                return [found[base].read_bytes() for base in sorted(found, key=_maildir_order)]
            except FileNotFoundError:
                continue
        raise RuntimeError(f"the Maildir of {address} kept changing while it was read")


def _maildir_order(base: str) -> tuple[int, int, str]:
    """Sort key of a Maildir file name (without its flags): seconds, then microseconds (``1700000000.M123456P…``)."""
    match = re.match(r"(\d+)\.(?:M(\d+))?", base)
    if not match:
        return (0, 0, base)
    return (int(match.group(1)), int(match.group(2) or 0), base)


# -- dovecot -----------------------------------------------------------------------------------------------------


def _dovecot_binary() -> str:
    """Debian's dovecot (in /usr/sbin, which an ordinary user's PATH may not have)."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if found is None:
        raise MailServerError("dovecot is not installed: run `bash scripts/bootstrap.sh` (it installs dovecot-imapd)")
    return found


def _dovecot_version(binary: str) -> tuple[int, int]:
    """dovecot's (major, minor): 2.3 and 2.4 read different settings."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    major, minor = re.match(r"(\d+)\.(\d+)", out.strip()).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


class _Dovecot:
    """One dovecot instance of our own: config, passwd-file and Maildirs in ``folder``."""

    def __init__(self, folder: Path, *, tls: tuple[Path, Path] | None) -> None:
        self.folder = folder
        self.tls = tls
        self.binary = _dovecot_binary()
        self.version = _dovecot_version(self.binary)
        self.config = folder / "dovecot.conf"
        self.passwd = folder / "users"  # one passwd-file per user: users/<address>
        self.log = folder / "dovecot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tls_port: int | None = None
        self._stamp = 0
        self._lock = threading.Lock()
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            # dovecot never reads mail as root, and keeps its own processes as its own users
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            self.internal_user, self.login_user = "dovecot", "dovenull"
            self.internal_group = grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name
            self._chroot = ""  # dovecot's defaults: login processes chrooted
        else:  # dovecot run by an ordinary user: everything as that user, no chroot
            self.mail_uid, self.mail_gid = me.pw_uid, me.pw_gid
            self.internal_user = self.login_user = me.pw_name
            self.internal_group = grp.getgrgid(me.pw_gid).gr_name
            self._chroot = "  chroot =\n"
        self.maildirs = _Maildirs(folder / "mail", self.mail_uid, self.mail_gid)

    def set_user(self, address: str, password: str) -> None:
        """Add an IMAP user, or change its password: its own passwd-file ``users/<address>``.

        dovecot's auth process looks at a passwd-file it has read at most once a second (by its clock's whole
        seconds), and reads it again only when its mtime or size changed. A user's first file is always read
        (it is a new path); a changed password (same size) gets an mtime past the last one, and this returns
        only once the second of the change is over, so the next login sees it."""
        path = self.passwd / _key(address)
        with self._lock:
            changed = path.exists()
            temporary = self.passwd / f".{_key(address)}.new"
            temporary.write_text(f"{_key(address)}:{_ssha512(password)}\n")
            self._own_passwd(temporary)
            self._stamp = max(int(time.time()), self._stamp + 1)
            os.utime(temporary, (self._stamp, self._stamp))
            os.replace(temporary, path)
            written = time.time()
        if changed:
            time.sleep(int(written) + 1.02 - written)

    def _own_passwd(self, path: Path, *, directory: bool = False) -> None:
        """Readable by dovecot's auth process (its internal user's group), by no one else."""
        if os.getuid() == 0:
            os.chown(path, 0, pwd.getpwnam(self.internal_user).pw_gid)
        path.chmod(0o750 if directory else 0o640)

    def _config_text(self) -> str:
        if self.version >= (2, 4):
            return self._config_24()
        return self._config_23()

    def _config_23(self) -> str:
        """The config for dovecot 2.3 (Debian 12)."""
        root, mail = self.folder, self.maildirs.root
        ssl_lines = "ssl = no\n"
        if self.tls is not None:
            cert, key = self.tls
            ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
        # the imaps listener is one of dovecot's defaults (port 993): it is always named, port 0 turns it off
        return f"""\
# A dovecot of the test suite's own (tests/mail/servers.py): loopback only, IMAP only.
instance_name = saraban-test-{os.getpid()}-{root.name}
base_dir = {root}/run
state_dir = {root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
auth_username_chars = {USERNAME_CHARS}
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
default_login_user = {self.login_user}
first_valid_uid = {self.mail_uid}
last_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
last_valid_gid = {self.mail_gid}
mail_location = maildir:{mail}/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = {self.passwd}/%u
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={mail}/%u
}}
service imap-login {{
{self._chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port or 0}
    ssl = {"yes" if self.tls_port else "no"}
  }}
}}
service anvil {{
{self._chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def _config_24(self) -> str:
        """The config for dovecot 2.4 (Debian 13), whose settings were renamed (not tried here: no 2.4 on the
        Debian 12 machines; its log is in the error if it does not start)."""
        root, mail = self.folder, self.maildirs.root
        ssl_lines = "ssl = no\n"
        if self.tls is not None:
            cert, key = self.tls
            ssl_lines = f"ssl = yes\nssl_server_cert_file = {cert}\nssl_server_key_file = {key}\n"
        return f"""\
# A dovecot of the test suite's own (tests/mail/servers.py): loopback only, IMAP only.
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
instance_name = saraban-test-{os.getpid()}-{root.name}
base_dir = {root}/run
state_dir = {root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{ssl_lines}auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_username_format = %{{user | lower}}
auth_username_chars = {USERNAME_CHARS}
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
default_login_user = {self.login_user}
first_valid_uid = {self.mail_uid}
last_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
last_valid_gid = {self.mail_gid}
mail_driver = maildir
mail_path = {mail}/%{{user}}
mail_fsync = never
passdb passwd-file {{
  passwd_file_path = {self.passwd}/%{{user}}
}}
userdb static {{
  fields {{
    uid = {self.mail_uid}
    gid = {self.mail_gid}
    home = {mail}/%{{user}}
  }}
}}
service imap-login {{
{self._chroot}  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port or 0}
    ssl = {"yes" if self.tls_port else "no"}
  }}
}}
service anvil {{
{self._chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def start(self, timeout: float = 10.0) -> None:
        """Start dovecot on free ports (new ones if another process took them first) and wait for its banner."""
        self.folder.chmod(0o711)  # dovecot's own users pass through to the passwd-file and the Maildirs
        self.maildirs.root.mkdir(mode=0o711, exist_ok=True)
        (self.folder / "state").mkdir(mode=0o700, exist_ok=True)
        if not self.passwd.exists():
            self.passwd.mkdir()
            self._own_passwd(self.passwd, directory=True)
        for attempt in range(3):
            self.port = free_port()
            self.tls_port = free_port() if self.tls is not None else None
            self.config.write_text(self._config_text())
            self.log.write_bytes(b"")
            with open(self.folder / "stderr", "wb") as stderr:
                self.process = subprocess.Popen([self.binary, "-F", "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
            if self._wait_for_banner(timeout):
                return
            self.stop()
            if attempt < 2 and "in use" in self.log_text():
                continue
            break
        raise MailServerError(f"dovecot did not start:\n{self.log_text()}")

    def _wait_for_banner(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        ports = [self.port, *([self.tls_port] if self.tls_port else [])]
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                for port in ports:  # both listeners answer (the TLS one accepts a connection)
                    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                        if port == self.port and not sock.recv(200).startswith(b"* OK"):
                            raise OSError("no IMAP banner yet")
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def log_text(self) -> str:
        parts = []
        for path in (self.log, self.folder / "stderr"):
            with contextlib.suppress(OSError):
                parts.append(path.read_text(errors="replace"))
        return "\n".join(p for p in parts if p)

    def stop(self) -> None:
        """SIGTERM every process of dovecot's group, SIGKILL it after a short grace, and wait until none is left.

        (Nothing needs a clean shutdown: the mail is on disk. dovecot's master, sent SIGTERM, now and then sleeps
        for seconds before it exits.)"""
        process, self.process = self.process, None
        if process is None:
            return
        pgid = process.pid
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.3)
        with contextlib.suppress(OSError):  # whatever is left: the group is gone when killpg finds none
            os.killpg(pgid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 10
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)


# -- the SMTP server ---------------------------------------------------------------------------------------------


class _SMTP(SMTP):
    """aiosmtpd's server, answering the size limit with the enhanced status code a real MTA gives."""

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 Error:"):
            await super().push(SIZE_EXCEEDED)
        else:
            await super().push(status)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _SMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class _Transaction:
    """One SMTP transaction that was accepted: envelope and DATA as they came."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class _Handler:
    """The MTA's behaviour: who is a recipient, delivery into Maildirs, DSN bounces, temporary failures."""

    def __init__(self, maildirs: _Maildirs, *, require_auth: bool) -> None:
        self.maildirs = maildirs
        self.require_auth = require_auth
        self.lock = threading.Lock()
        self.mailboxes: set[str] = set()
        self.rejected: set[str] = set()
        self.bouncing: set[str] = set()
        self.smtp_users: dict[str, str] = {}
        self.transactions: list[_Transaction] = []
        self.bounces: list[bytes] = []
        self.failures_left = 0
        self.failure_stage: Stage = "MAIL"
        self._ids = itertools.count(1)

    # authentication (aiosmtpd's authenticator interface)
    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(errors="replace"), auth_data.password.decode(errors="replace")
        with self.lock:
            ok = self.smtp_users.get(login) == password
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self.lock:
            stage: Stage | None = self.failure_stage if self.failures_left > 0 else None
            if stage is not None:
                self.failures_left -= 1
        if stage == "MAIL":
            return TEMPORARY_FAILURE
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.saraban_failing_at = stage  # type: ignore[attr-defined]
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if getattr(envelope, "saraban_failing_at", None) == "RCPT":
            return TEMPORARY_FAILURE
        key = _key(address)
        with self.lock:
            known = key in self.mailboxes or key in self.bouncing
            refused = key in self.rejected or not known
        if refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if getattr(envelope, "saraban_failing_at", None) == "DATA":
            return TEMPORARY_FAILURE
        data = bytes(envelope.original_content or b"")
        mail_from = envelope.mail_from or ""
        queue_id = f"Q{next(self._ids):06d}"
        with self.lock:
            self.transactions.append(_Transaction(mail_from, list(envelope.rcpt_tos), data))
            bouncing = [r for r in envelope.rcpt_tos if _key(r) in self.bouncing]
            delivering = [r for r in envelope.rcpt_tos if _key(r) in self.mailboxes and r not in bouncing]
        for rcpt in delivering:
            received = self._received(server, session, queue_id, rcpt)
            self.maildirs.deliver(rcpt, f"Return-Path: <{mail_from}>\r\n".encode() + received + data)
        if bouncing:
            self._bounce(mail_from, bouncing, data, self._received(server, session, queue_id, None), queue_id)
        return f"250 2.0.0 Ok: queued as {queue_id}"

    @staticmethod
    def _received(server: SMTP, session: Session, queue_id: str, rcpt: str | None) -> bytes:
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        protocol = "ESMTP" if session.extended_smtp else "SMTP"
        if session.ssl is not None:
            protocol += "S"
        if session.authenticated:
            protocol += "A"
        for_part = f"\r\n\tfor <{rcpt}>" if rcpt else ""
        return (f"Received: from {session.host_name or 'unknown'} (localhost [{peer}])\r\n"
                f"\tby {MTA_HOSTNAME} (Saraban test MTA) with {protocol} id {queue_id}{for_part};\r\n"
                f"\t{email.utils.format_datetime(email.utils.localtime())}\r\n").encode()

    def _bounce(self, sender: str, recipients: list[str], data: bytes, received: bytes, queue_id: str) -> None:
        """An RFC 3464 delivery status notification to the envelope sender (dropped when it has no mailbox)."""
        if not sender:
            return  # never bounce a bounce
        boundary = f"saraban-dsn-{queue_id}-{os.urandom(6).hex()}"
        now = email.utils.format_datetime(email.utils.localtime())
        per_recipient = "".join(
            f"\nFinal-Recipient: rfc822; {r}\nOriginal-Recipient: rfc822; {r}\nAction: failed\nStatus: 5.1.1\n"
            f"Remote-MTA: dns; {MTA_HOSTNAME}\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"
            for r in recipients)
        listed = "\n".join(f"<{r}>: host {MTA_HOSTNAME} said: 550 5.1.1 user unknown" for r in recipients)
        text = f"""\
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@{MTA_HOSTNAME}>
To: <{sender}>
Subject: Undelivered Mail Returned to Sender
Date: {now}
Message-ID: <{queue_id}.{os.urandom(4).hex()}@{MTA_HOSTNAME}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {MTA_HOSTNAME}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

{listed}

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {MTA_HOSTNAME}
X-Queue-ID: {queue_id}
Arrival-Date: {now}
{per_recipient}
--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

"""
        raw = _crlf(text) + received + _header_block(data) + b"\r\n\r\n" + _crlf(f"--{boundary}--\n")
        with self.lock:
            self.bounces.append(raw)
            has_box = _key(sender) in self.mailboxes
        if has_box:
            self.maildirs.deliver(sender, raw)


# -- the fixture API ---------------------------------------------------------------------------------------------


@dataclass
class MailServers:
    """Both servers, running. IMAP logins are the mailbox addresses; SMTP AUTH users are separate."""

    smtp_host: str
    smtp_port: int
    imap_host: str
    imap_port: int
    imaps_port: int | None
    #: the CA that signed the servers' certificate (IMAPS, STARTTLS on SMTP): trust it in an SSL context
    ca_cert: Path | None = None
    #: the temporary folder (dovecot's config and log, the Maildirs)
    folder: Path = field(default=Path(), repr=False)
    _dovecot: _Dovecot = field(default=None, repr=False)  # type: ignore[assignment]
    _handler: _Handler = field(default=None, repr=False)  # type: ignore[assignment]
    _smtp_kwargs: dict[str, Any] = field(default_factory=dict, repr=False)
    _controller: _Controller | None = field(default=None, repr=False)

    # mailboxes and users
    def add_mailbox(self, address: str, password: str) -> None:
        """An IMAP user (login = the address) with an empty INBOX, and a recipient the SMTP server delivers to."""
        self._dovecot.maildirs.create(address)
        self._dovecot.set_user(address, password)
        with self._handler.lock:
            self._handler.mailboxes.add(_key(address))
            self._handler.rejected.discard(_key(address))
            self._handler.bouncing.discard(_key(address))

    def add_smtp_user(self, username: str, password: str) -> None:
        """Who may AUTH (PLAIN or LOGIN) to the SMTP server."""
        with self._handler.lock:
            self._handler.smtp_users[username] = password

    def reject(self, address: str) -> None:
        """RCPT TO this address is answered ``550 5.1.1 <addr>: Recipient address rejected: User unknown``
        (as is any address that is neither a mailbox nor bounces later)."""
        with self._handler.lock:
            self._handler.rejected.add(_key(address))
            self._handler.bouncing.discard(_key(address))
            self._handler.mailboxes.discard(_key(address))

    def bounce_later(self, address: str) -> None:
        """RCPT TO this address is accepted, then a DSN (``Status: 5.1.1``) goes to the envelope sender's mailbox.

        The DSN is in the sender's Maildir by the time the server answers the DATA (no waiting needed)."""
        with self._handler.lock:
            self._handler.bouncing.add(_key(address))
            self._handler.rejected.discard(_key(address))
            self._handler.mailboxes.discard(_key(address))

    # the mailboxes' contents
    def deliver(self, address: str, raw: bytes) -> None:
        """Put a message straight into a mailbox, as if it came from outside (the bytes as they are, no header
        added; use CRLF line ends for what IMAP clients should see byte for byte). ``KeyError``: no such mailbox."""
        self._dovecot.maildirs.deliver(address, raw)

    def messages(self, address: str) -> list[bytes]:
        """What is in that mailbox's INBOX now, read from its Maildir, oldest first (expunged messages are gone;
        flags are not shown). ``KeyError``: no such mailbox."""
        return self._dovecot.maildirs.messages(address)

    # what the SMTP server saw
    def received(self) -> list[tuple[str, list[str], bytes]]:
        """Every transaction the SMTP server accepted, in order: (MAIL FROM, RCPT TOs, DATA bytes as sent)."""
        with self._handler.lock:
            return [(t.mail_from, list(t.rcpt_tos), t.data) for t in self._handler.transactions]

    def bounces(self) -> list[bytes]:
        """Every DSN the SMTP server generated (also those whose sender had no mailbox)."""
        with self._handler.lock:
            return list(self._handler.bounces)

    # faults
    def temporary_failures(self, n: int, stage: Stage = "MAIL") -> None:
        """Answer ``451 4.3.0 Try again later`` to the next ``n`` transactions: at MAIL FROM (default), at every
        RCPT TO, or at the end of DATA (the message is then not delivered)."""
        with self._handler.lock:
            self._handler.failures_left = n
            self._handler.failure_stage = stage

    def set_size_limit(self, limit: int | None) -> None:
        """Messages larger than ``limit`` bytes get ``552 5.3.4 Message size exceeds fixed limit`` (from the next
        connection on; ``None``: no limit)."""
        self._smtp_kwargs["data_size_limit"] = limit
        if self._controller is not None:
            self._controller.SMTP_kwargs["data_size_limit"] = limit

    def stop_smtp(self) -> None:
        """Take the SMTP server down (connections are refused) until ``start_smtp``."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def start_smtp(self, *, timeout: float = 5.0) -> None:
        """Bring the SMTP server back, on the same port, with the same mailboxes, users and messages."""
        if self._controller is not None:
            return
        deadline = time.monotonic() + timeout
        while True:
            controller = _Controller(self._handler, hostname=self.smtp_host, port=self.smtp_port,
                                     server_hostname=MTA_HOSTNAME, ready_timeout=10, **self._smtp_kwargs)
            try:
                controller.start()
            except OSError:  # the port is not free (yet)
                controller.loop.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            self._controller = controller
            return

    # for clients
    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context that trusts the servers' certificate (for IMAPS and STARTTLS)."""
        if self.ca_cert is None:
            raise RuntimeError("the servers were started without TLS")
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def imap_log(self) -> str:
        """dovecot's log so far (for a failing test's message)."""
        return self._dovecot.log_text()


@contextlib.contextmanager
def mail_servers(*, tls: bool = True, require_auth: bool = True,
                 size_limit: int | None = DEFAULT_SIZE_LIMIT) -> Iterator[MailServers]:
    """Start dovecot and the SMTP server on 127.0.0.1 (free ports) in a temporary folder; always stop both and
    remove the folder.

    ``tls``: an IMAPS listener and STARTTLS on SMTP, with a certificate of a throw-away CA (``MailServers.ca_cert``).
    ``require_auth``: the SMTP server takes MAIL FROM only after AUTH (a submission server, as Saraban uses).
    """
    folder = Path(tempfile.mkdtemp(prefix="saraban-mail-"))
    dovecot: _Dovecot | None = None
    servers: MailServers | None = None
    # aiosmtpd logs a deprecation warning of its own on every AUTH ("Session.login_data is deprecated")
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.ERROR)
    try:
        certificates = _make_certificates(folder) if tls else None
        dovecot = _Dovecot(folder, tls=certificates[1:] if certificates else None)
        dovecot.start()
        handler = _Handler(dovecot.maildirs, require_auth=require_auth)
        # AUTH is required by the handler (MAIL FROM before AUTH: 530), not by aiosmtpd's auth_required, which
        # warns on every connection when TLS is not required too
        smtp_kwargs: dict[str, Any] = {
            "authenticator": handler, "auth_require_tls": False,
            "data_size_limit": size_limit, "decode_data": False,
        }
        if certificates is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificates[1], certificates[2])
            smtp_kwargs["tls_context"] = context
        servers = MailServers(
            smtp_host="127.0.0.1", smtp_port=free_port(), imap_host="127.0.0.1", imap_port=dovecot.port,
            imaps_port=dovecot.tls_port, ca_cert=certificates[0] if certificates else None, folder=folder,
            _dovecot=dovecot, _handler=handler, _smtp_kwargs=smtp_kwargs,
        )
        for attempt in range(3):
            try:
                servers.start_smtp(timeout=0.5)
                break
            except OSError:  # another process took the free port first
                if attempt == 2:
                    raise
                servers.smtp_port = free_port()
        yield servers
    finally:
        try:
            if servers is not None:
                servers.stop_smtp()
        finally:
            if dovecot is not None:
                dovecot.stop()
            shutil.rmtree(folder, ignore_errors=True)
            smtp_log.setLevel(level)


@pytest.fixture
def mail() -> Iterator[MailServers]:
    """A fresh pair of mail servers for one test (IMAP/IMAPS by dovecot, SMTP by aiosmtpd), stopped after it."""
    with mail_servers() as servers:
        yield servers
