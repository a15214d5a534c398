"""Outgoing mail: over SMTP when a server is configured, else as ``.eml`` files in the workspace outbox.

Messages to data subjects carry what they must (a one-time code, a link) and nothing is logged of them
but the message id.
"""

from __future__ import annotations

import os
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from mamoru.errors import MamoruError
from mamoru.settings import Settings


class MailFailed(MamoruError):
    """The mail server refused or could not be reached; nothing was recorded as sent."""

    http_status = 502


class Mailer:
    def __init__(self, settings: Settings, default_sender: str) -> None:
        self.settings = settings
        self.sender = settings.mail_from or default_sender

    def send(self, to: str, subject: str, body: str) -> str:
        """Send a plain-text message; returns its Message-ID."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="mamoru.local")
        message.set_content(body)
        s = self.settings
        if s.smtp_host is None:
            self._to_outbox(message)
        else:
            try:
                with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
                    if s.smtp_starttls:
                        smtp.starttls()
                    if s.smtp_user and s.smtp_password is not None:
                        smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                    smtp.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                raise MailFailed(
                    f"mail to the requester could not be sent through {s.smtp_host}:{s.smtp_port}: "
                    f"{type(exc).__name__}"
                ) from None
        return str(message["Message-ID"])

    def _to_outbox(self, message: EmailMessage) -> Path:
        outbox = self.settings.outbox
        outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(bytes(message))
        return path
