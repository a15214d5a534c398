"""The mail outbox: every mail is queued in the transaction that causes it and delivered later.

A page or an API call never waits on a mail server, and a request that committed never fails because
mail did not go: the row is written with the change, and the sender (:func:`send_due`, run by
``mamoru serve`` and ``mamoru worker``) delivers it with a timeout, retrying with backoff.

Journal: a message is claimed (``sending``, with a lease) and the claim committed before the SMTP
conversation; it is marked ``sent`` after. A crash between the server's acceptance and the mark leaves
the claim to expire, and the message is sent again with the same Message-ID: delivery is *at least
once*, never lost.

At rest: the recipient, subject and body are sealed under a key of the message's own in the vault's key
store; once the message is sent or has failed for good, the ciphertext is dropped and that key is
destroyed (crypto-shredding), so no copy of the database opens it afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import orjson
from sqlalchemy import ColumnElement, LargeBinary, String, event, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mamoru.mail import Letter, MailFailed, deliver, new_message_id
from mamoru.store.db import Base, utcnow
from mamoru.vault.errors import DecryptionFailed
from mamoru.vault.keystore import ErasureNotOnDisk
from mamoru.workspace import Workspace

#: How long a claim holds: longer than one SMTP conversation can take under the timeout.
LEASE = timedelta(minutes=5)
#: Tries before a message that keeps failing for a passing reason is given up (about 4 hours in all).
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
SEALED_NAME = "mail"
#: Set when a transaction of this process that queued a mail commits: the process's sender
#: (:func:`mamoru.work.scheduler.run_mail_sender`) looks at once instead of at its next tick.
queued = threading.Event()


class MailStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) try
    SENDING = "sending"  # claimed by a sender; a claim past its lease is taken again
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of tries


class OutboxMessage(Base):
    """One queued mail. Only references and states are in the clear; the rest is sealed."""

    __tablename__ = "mail_outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # also the holder of its vault key
    kind: Mapped[str] = mapped_column(String(32))  # what caused it: request.code, incident.notice …
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=MailStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    shredded_at: Mapped[datetime | None] = mapped_column(default=None)


def sender_address(ws: Workspace) -> str:
    contact = ws.policy.policy.organization.inquiry_contact
    return ws.settings.mail_from or (contact.email if contact else None) or "privacy@localhost"


def enqueue(
    session: Session, ws: Workspace, *, to: str, subject: str, body: str, kind: str, now: datetime
) -> OutboxMessage:
    """Queue one mail in the caller's transaction; it goes out only if that transaction commits."""
    message = OutboxMessage(
        id=str(uuid.uuid4()),
        kind=kind,
        message_id=new_message_id(),
        status=MailStatus.QUEUED.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    message.sealed = ws.vault.seal_private(
        message.id,
        SEALED_NAME,
        orjson.dumps({"from": sender_address(ws), "to": to, "subject": subject, "body": body}),
    )
    session.add(message)
    session.flush()
    event.listen(session, "after_commit", _wake, once=True)
    return message


def _wake(session: Session) -> None:
    queued.set()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min … at most an hour."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_WAIT)


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        (OutboxMessage.status == MailStatus.QUEUED.value) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == MailStatus.SENDING.value) & (OutboxMessage.claimed_until < now),
    )


def _claim(ws: Workspace, now: datetime, skip: set[str]) -> OutboxMessage | None:
    """Take one due message for this sender (an atomic conditional update, so two senders never hold the
    same message) and commit the claim before anything is sent."""
    with ws.db.session() as session:
        query = select(OutboxMessage.id).where(_due(now))
        if skip:
            query = query.where(OutboxMessage.id.not_in(skip))
        candidates = session.scalars(query.order_by(OutboxMessage.next_attempt_at).limit(10)).all()
        for message_id in candidates:
            won = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _due(now))
                .values(
                    status=MailStatus.SENDING.value,
                    claimed_until=now + LEASE,
                    attempts=OutboxMessage.attempts + 1,
                )
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(OutboxMessage, message_id)
    return None


def _letter(ws: Workspace, message: OutboxMessage) -> Letter:
    if message.sealed is None:
        raise MailFailed("the message's content is gone", permanent=True)
    try:
        content = orjson.loads(ws.vault.open_private(message.id, SEALED_NAME, message.sealed))
    except DecryptionFailed:
        raise MailFailed("the message's key is gone (it was shredded)", permanent=True) from None
    return Letter(
        sender=content["from"],
        to=content["to"],
        subject=content["subject"],
        body=content["body"],
        message_id=message.message_id,
    )


def _finish(ws: Workspace, message_id: str, values: dict[str, object]) -> None:
    with ws.db.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.SENDING.value)
            .values(claimed_until=None, **values)
        )


def shred(ws: Workspace, ids: Iterable[str] | None = None) -> int:
    """Destroy the key of every message that is done (sent or failed) and not yet shredded. Idempotent:
    a crash between marking a message done and destroying its key is finished by the next run."""
    count = 0
    with ws.db.session() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.status.in_([MailStatus.SENT.value, MailStatus.FAILED.value]),
            OutboxMessage.shredded_at.is_(None),
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(list(ids)))
        for message in session.scalars(query):
            message.sealed = None
            # If the key store is busy, the key is deleted but still in its write-ahead log until the next
            # checkpoint; a mail is not a person's erasure, and the sender does not stop for it.
            with suppress(ErasureNotOnDisk):
                ws.vault.erase(session, message.id)
            message.shredded_at = datetime.now(UTC)
            count += 1
    return count


def send_due(ws: Workspace, *, now: datetime | None = None, limit: int = 100) -> SendReport:
    """Deliver every message that is due (at most ``limit``): sent, or back in the queue with a later
    try, or failed for good (refused, or out of tries). ``now`` fixes the clock for a test."""
    report = SendReport()
    tried: set[str] = set()
    while len(tried) < limit:
        at = now or datetime.now(UTC)
        message = _claim(ws, at, tried)
        if message is None:
            break
        tried.add(message.id)
        try:
            deliver(ws.settings, _letter(ws, message))
        except MailFailed as exc:
            reason = str(exc)[:300]
            if exc.permanent or message.attempts >= MAX_ATTEMPTS:
                _finish(
                    ws,
                    message.id,
                    {"status": MailStatus.FAILED.value, "last_error": reason, "sealed": None},
                )
                report.failed.append(message.id)
            else:
                _finish(
                    ws,
                    message.id,
                    {
                        "status": MailStatus.QUEUED.value,
                        "last_error": reason,
                        "next_attempt_at": at + backoff(message.attempts),
                    },
                )
                report.retrying.append(message.id)
            continue
        _finish(
            ws,
            message.id,
            {"status": MailStatus.SENT.value, "sent_at": at, "last_error": None, "sealed": None},
        )
        report.sent.append(message.id)
    if report.sent or report.failed:
        shred(ws, report.sent + report.failed)
    return report


def states(session: Session, message_ids: Iterable[str]) -> dict[str, str]:
    """The status of each message, by its Message-ID (as callers keep it)."""
    wanted = [m for m in message_ids if m]
    if not wanted:
        return {}
    rows = session.execute(
        select(OutboxMessage.message_id, OutboxMessage.status).where(OutboxMessage.message_id.in_(wanted))
    )
    return {message_id: status for message_id, status in rows}
