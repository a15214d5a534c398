"""The mail outbox: a page never waits on a mail server, a committed request never fails for mail, the
sender delivers later with retries, nothing of a mail is readable at rest once it is done, and addresses
with control characters are refused where they come in."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru import outbox
from mamoru.errors import Invalid
from mamoru.ledger.acquisition import AcquisitionIn, acquire
from mamoru.mail import has_control
from mamoru.outbox import LEASE, MAX_ATTEMPTS, MailStatus, OutboxMessage, send_due
from mamoru.people import inquiries
from mamoru.policy.model import StaffRules
from mamoru.requests import service
from mamoru.server import create_app
from mamoru.vault.errors import DecryptionFailed
from mamoru.workspace import Workspace
from tests.conftest import ON_POSTGRES, Inbox, _body
from tests.demo_copies import demo_copy

EMAIL = "hanako.outbox@example.jp"


@pytest.fixture
def silent_smtp() -> Iterator[tuple[int, list[socket.socket]]]:
    """A real listening socket that accepts every connection and never says a word (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), held
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _smtp_at(ws: Workspace, port: int, timeout: float = 0.5) -> None:
    ws.settings = ws.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": timeout}
    )


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _portal_submit(client: TestClient, email: str) -> Any:
    form = client.get("/requests/new?lang=en&kind=disclosure")
    return client.post(
        "/requests?lang=en",
        data={"csrf": _csrf(form.text), "kind": "disclosure", "name": "Outbox Requester", "email": email},
        files={"authority_doc": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )


def _messages(ws: Workspace) -> list[OutboxMessage]:
    with ws.db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_a_hung_mail_server_never_holds_up_the_portal_and_the_sender_delivers_later(
    workspace: Workspace, silent_smtp: tuple[int, list[socket.socket]], smtp: tuple[Inbox, int]
) -> None:
    port, held = silent_smtp
    _smtp_at(workspace, port)
    with TestClient(create_app(workspace)) as client:
        answer = _portal_submit(client, EMAIL)
    # The request is committed and the requester sent on to its status page; the mail waits its turn.
    assert answer.status_code == 303 and answer.headers["location"].startswith("/requests/status/")
    [queued] = _messages(workspace)
    assert (queued.status, queued.attempts, queued.kind) == ("queued", 0, "request.code")

    # The sender meets the hung server: the try ends at the timeout, and a later one is planned.
    now = datetime.now(UTC)
    report = send_due(workspace, now=now)
    assert report.retrying == [queued.id] and report.sent == [] and held, "the sender reached the socket"
    [waiting] = _messages(workspace)
    assert waiting.status == "queued" and waiting.attempts == 1
    assert waiting.next_attempt_at > now and waiting.last_error is not None
    assert "timeout" in waiting.last_error and EMAIL not in waiting.last_error
    assert send_due(workspace, now=now).retrying == []  # not due again before its time

    # The mail server answers again: the next due try delivers the code and the status link.
    inbox, good = smtp
    _smtp_at(workspace, good)
    assert send_due(workspace, now=waiting.next_attempt_at).sent == [queued.id]
    mail = inbox.wait_for(EMAIL)
    assert re.search(r"Verification code: \d{6}", _body(mail)) and "/requests/status/" in _body(mail)
    assert mail["Message-ID"] == queued.message_id
    [done] = _messages(workspace)
    assert done.status == "sent" and done.sealed is None and done.shredded_at is not None
    with pytest.raises(DecryptionFailed):  # its key is destroyed: no copy of the old row opens
        workspace.vault.open_private(done.id, outbox.SEALED_NAME, queued.sealed or b"")
    assert send_due(workspace, now=waiting.next_attempt_at + timedelta(hours=1)).sent == []  # once


def test_a_queued_mail_is_sealed_at_rest_and_only_if_its_transaction_commits(workspace: Workspace) -> None:
    body = "Dear Hanako Yamada, 1-2-3 Chiyoda, Tokyo"
    with pytest.raises(RuntimeError), workspace.db.session() as session:
        outbox.enqueue(
            session, workspace, to=EMAIL, subject="s", body=body, kind="test", now=datetime.now(UTC)
        )
        raise RuntimeError("the change that caused the mail fails")
    assert _messages(workspace) == []
    with workspace.db.session() as session:
        outbox.enqueue(
            session, workspace, to=EMAIL, subject="s", body=body, kind="test", now=datetime.now(UTC)
        )
    [row] = _messages(workspace)
    assert row.sealed is not None and b"Hanako" not in row.sealed and EMAIL.encode() not in row.sealed
    assert all(EMAIL not in str(v) for v in vars(row).values())
    if not ON_POSTGRES:  # nothing of the address or the body anywhere in the database file
        raw = b"".join(p.read_bytes() for p in workspace.settings.home.glob("mamoru.db*"))
        assert EMAIL.encode() not in raw and b"Chiyoda" not in raw


def test_the_sender_of_the_process_is_woken_when_a_queued_mail_commits_and_not_before(
    workspace: Workspace,
) -> None:
    outbox.queued.clear()
    with pytest.raises(RuntimeError), workspace.db.session() as session:
        outbox.enqueue(
            session, workspace, to=EMAIL, subject="s", body="b", kind="test", now=datetime.now(UTC)
        )
        raise RuntimeError("the change that caused the mail fails")
    assert not outbox.queued.is_set()
    with workspace.db.session() as session:
        outbox.enqueue(
            session, workspace, to=EMAIL, subject="s", body="b", kind="test", now=datetime.now(UTC)
        )
        assert not outbox.queued.is_set()
    assert outbox.queued.is_set()  # a verification code goes out now, not at the sender's next tick


def test_a_crash_between_sending_and_marking_sends_again_with_the_same_message_id(
    workspace: Workspace, smtp: tuple[Inbox, int]
) -> None:
    """At least once: the claim is committed before the SMTP conversation, so a sender that dies after the
    server took the mail leaves a claim that expires, and the message goes again (never lost)."""
    inbox, port = smtp
    _smtp_at(workspace, port, timeout=5)
    now = datetime.now(UTC)
    with workspace.db.session() as session:
        outbox.enqueue(session, workspace, to=EMAIL, subject="s", body="b", kind="test", now=now)
    claimed = outbox._claim(workspace, now, set())  # a sender claims it, delivers, and is killed
    assert claimed is not None
    outbox.deliver(workspace.settings, outbox._letter(workspace, claimed))
    assert send_due(workspace, now=now + LEASE / 2).sent == []  # the claim still holds
    assert send_due(workspace, now=now + LEASE + timedelta(seconds=1)).sent == [claimed.id]
    first, second = inbox.wait_for(EMAIL, 1), inbox.wait_for(EMAIL, 2)
    assert first["Message-ID"] == second["Message-ID"] == claimed.message_id
    assert [m.status for m in _messages(workspace)] == ["sent"]


def test_a_message_out_of_tries_fails_and_is_shredded(workspace: Workspace) -> None:
    with socket.socket() as closed:  # a port where nothing listens: each try is refused at once
        closed.bind(("127.0.0.1", 0))
        port = int(closed.getsockname()[1])
    _smtp_at(workspace, port)
    at = datetime.now(UTC)
    with workspace.db.session() as session:
        outbox.enqueue(session, workspace, to=EMAIL, subject="s", body="b", kind="test", now=at)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = send_due(workspace, now=at)
        [row] = _messages(workspace)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert report.retrying == [row.id] and row.next_attempt_at - at == outbox.backoff(attempt)
            at = row.next_attempt_at
    assert report.failed == [row.id]
    assert row.status == MailStatus.FAILED and row.sealed is None and row.shredded_at is not None


def test_two_senders_at_once_deliver_each_message_once(workspace: Workspace, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _smtp_at(workspace, port, timeout=5)
    now = datetime.now(UTC)
    with workspace.db.session() as session:
        for i in range(12):
            outbox.enqueue(
                session, workspace, to=f"p{i}@example.jp", subject="s", body="b", kind="test", now=now
            )
    senders = [threading.Thread(target=send_due, args=(workspace,), kwargs={"now": now}) for _ in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    for i in range(12):
        inbox.wait_for(f"p{i}@example.jp")
    assert len(inbox.messages) == 12
    assert {m.status for m in _messages(workspace)} == {"sent"}


# --- addresses with control characters are refused where they come in -------------------------------

BAD_ADDRESSES = [
    "victim@example.jp\r\nBcc: all@example.jp",
    "victim@example.jp\nX-Injected: 1",
    "vic\x00tim@example.jp",
    "victim@example.jp\r\n",
    "\tvictim@example.jp",
    "victim@exa\x7fmple.jp",
    "victim@example.jp\u2028",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_a_request_with_a_control_character_in_its_address_is_refused_with_the_field(address: str) -> None:
    assert has_control(address)
    with pytest.raises(Invalid) as refused:
        service.parse_request({"kind": "disclosure", "name": "N", "email": address})
    [problem] = refused.value.problems
    assert problem.loc == ("email",) and problem.type == "email" and "control character" in problem.msg
    assert "victim" not in str(refused.value)


def test_the_portal_refuses_an_address_with_a_line_break_and_queues_nothing(workspace: Workspace) -> None:
    with TestClient(create_app(workspace)) as client:
        answer = _portal_submit(client, "victim@example.jp\r\nBcc: all@example.jp")
    assert answer.status_code == 422 and 'id="email-error"' in answer.text
    assert _messages(workspace) == []


@pytest.mark.parametrize("address", BAD_ADDRESSES[:3])
def test_an_acquisition_with_a_control_character_in_the_address_is_refused_and_stores_nothing(
    workspace: Workspace, address: str
) -> None:
    from mamoru.ledger.tables import Acquisition, Channel

    demo_copy(workspace, 3)
    with workspace.db.session() as session:
        channel = session.scalars(select(Channel).where(Channel.active.is_(True))).first()
        assert channel is not None
        entry_items, before = _entry_items(session, channel), session.query(Acquisition).count()
        data = AcquisitionIn(
            channel_id=channel.id,
            subject_kind=workspace.policy.policy.subject_kinds[0].id,
            values={"name": "N", "email": address},
            categories=entry_items[:1],
            purposes=_entry_purposes(session, channel)[:1],
            notice_shown=None,
        )
        with pytest.raises(Invalid) as refused:
            acquire(session, workspace.vault, workspace.policy.policy, data, actor="system:web", now=_now())
    assert [p.loc for p in refused.value.problems] == [("values", "email")]
    assert "control character" in str(refused.value) and "example.jp" not in str(refused.value)
    with workspace.db.session() as session:
        assert session.query(Acquisition).count() == before


def test_an_inquiry_contact_with_a_control_character_is_refused(workspace: Workspace) -> None:
    data = inquiries.InquiryIn("inquiry", "portal", "other", "N", "a@example.jp\r\nBcc: b@example.jp", "q")
    with workspace.db.session() as session, pytest.raises(Invalid) as refused:
        inquiries.receive(
            session, workspace.vault, data, rules=StaffRules(), actor="system:portal", now=_now()
        )
    assert [p.loc for p in refused.value.problems] == [("contact",)]


def _now() -> datetime:
    return datetime.now(UTC)


def _entry_items(session: Any, channel: Any) -> list[str]:
    from mamoru.ledger.tables import LedgerEntry

    entry = session.get(LedgerEntry, channel.ledger_entry_id)
    return list(entry.data_items)


def _entry_purposes(session: Any, channel: Any) -> list[str]:
    from mamoru.ledger.tables import LedgerEntry

    entry = session.get(LedgerEntry, channel.ledger_entry_id)
    return list(entry.purposes)
