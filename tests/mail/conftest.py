"""The e-mail tests: real SMTP and IMAP servers on loopback (``servers.py``)."""

from .servers import mail  # noqa: F401 - the fixture
