"""Outgoing mail, one message at a time: over SMTP (with a timeout) when a server is configured, else as
``.eml`` files in the workspace's mail folder (development).

Nothing here is called while a page or an API call waits: messages are queued in the outbox
(:mod:`mamoru.outbox`) in the transaction that causes them, and the outbox's sender delivers them here.
Nothing is logged of a message but its id, and no error carries an address.
"""

from __future__ import annotations

import os
import re
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from mamoru.errors import MamoruError
from mamoru.settings import Settings

#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: in an address they
#: could end a mail header and start another (header injection), or cut it at a NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
CONTROL_IN_ADDRESS = (
    "the e-mail address contains a control character (a line break, a tab, a NUL …); "
    "such an address could add headers to a mail, so it is refused: enter it again on one line"
)


def has_control(value: str) -> bool:
    """True if ``value`` holds a control character (CR, LF, NUL, tab, DEL, C1, U+2028/9)."""
    return _CONTROL.search(value) is not None


def address_problem(value: str) -> str | None:
    """Why ``value`` cannot be an e-mail address we write to, or None if it can."""
    if has_control(value):
        return CONTROL_IN_ADDRESS
    if not _ADDRESS.match(value):
        return "an e-mail address like name@example.jp is needed"
    return None


class MailFailed(MamoruError):
    """The message was not delivered. ``permanent``: the server refused it for good (a 5xx reply, an
    address it will not take), so trying again cannot help; otherwise a later try may succeed."""

    http_status = 502

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Letter:
    """One plain-text message; ``message_id`` is fixed when it is queued, so a repeat is recognizable."""

    sender: str
    to: str
    subject: str
    body: str
    message_id: str


def new_message_id() -> str:
    return make_msgid(domain="mamoru.local")


def compose(letter: Letter) -> EmailMessage:
    """The message as it goes out; refuses an address that is not one (:class:`MailFailed`, permanent)."""
    for what, value in (("recipient", letter.to), ("sender", letter.sender)):
        reason = address_problem(value)
        if reason is not None:
            raise MailFailed(f"the {what}'s address cannot be used: {reason}", permanent=True)
    message = EmailMessage()
    message["From"] = letter.sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = letter.message_id
    message.set_content(letter.body)
    return message


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def deliver(settings: Settings, letter: Letter) -> None:
    """Deliver one message or raise :class:`MailFailed`; every socket operation has the timeout of
    ``settings.smtp_timeout``, so a server that accepts and never answers costs that long, no more."""
    message = compose(letter)
    s = settings
    if s.smtp_host is None:
        _to_folder(s.outbox, message)
        return
    where = f"{s.smtp_host}:{s.smtp_port}"
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user and s.smtp_password is not None:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailFailed(
            f"{where} refused the recipient (SMTP {', '.join(map(str, codes))})",
            permanent=all(_permanent(c) for c in codes),
        ) from None
    except smtplib.SMTPAuthenticationError as exc:  # the operator's settings: retry once they are fixed
        raise MailFailed(f"{where} refused the sign-in (SMTP {exc.smtp_code})", permanent=False) from None
    except smtplib.SMTPResponseException as exc:
        raise MailFailed(
            f"{where} answered SMTP {exc.smtp_code}", permanent=_permanent(exc.smtp_code)
        ) from None
    except (OSError, smtplib.SMTPException) as exc:  # timeouts, refused connections, disconnects
        # smtplib reports a timeout while it waits for a reply as a disconnection "timed out".
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            reason = f"{where} did not answer within {s.smtp_timeout:g} s (timeout)"
        else:
            reason = f"{where} could not be reached or dropped the connection: {type(exc).__name__}"
        raise MailFailed(reason, permanent=False) from None


def _to_folder(folder: Path, message: EmailMessage) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(message))
    return path
