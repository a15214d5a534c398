"""`mamoru transfers …`: supervision of processors and foreign parties, and the records of provision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.policy.model import Policy
from mamoru.transfers import foreign, optout, supervision
from mamoru.transfers.gate import confirm_referable
from mamoru.transfers.records import Basis, ReceiptIn, record_receipt, records_for, records_json
from mamoru.transfers.status import every_party

app = typer.Typer(help=HELP["transfers"])

By = Annotated[str, typer.Option("--by", help="Who records it (staff:LOGIN).")]
Evidence = Annotated[
    str, typer.Option("--evidence", help="Where the evidence is kept (a document reference).")
]
On = Annotated[str | None, typer.Option("--on", help="Date (YYYY-MM-DD); today if omitted.")]


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every processor and recipient with its supervision status; exit 1 if any is not cleared."""
    today = datetime.now(UTC).date()
    with opened_workspace() as ws, ws.db.session() as session:
        rows = every_party(session, ws.policy.policy, today)
    if as_json:
        emit_json([{"party": r.party, "problems": list(r.problems), "next_due": r.next_due} for r in rows])
    else:
        for r in rows:
            state = "ok" if r.cleared else ", ".join(r.problems)
            due = f" (next check {r.next_due})" if r.next_due else ""
            out.print(f"{r.party:<32} {state}{due}", highlight=False, markup=False)
    if any(not r.cleared for r in rows):
        raise typer.Exit(EXIT_FINDING)


def _record(action: str, run: Callable[[Session, Policy], object]) -> None:
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            run(session, ws.policy.policy)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(action)


@app.command()
def assess(
    processor: str,
    score: Annotated[int, typer.Option(help="Assessment score 0-100; 70 or more passes.")],
    evidence: Evidence,
    by: By,
    on: On = None,
    valid_days: Annotated[int, typer.Option(help="How long the assessment holds.")] = 3 * 365,
) -> None:
    """Record the selection assessment of a processor's management system (APPI Art. 25)."""
    _record(
        "assessment recorded",
        lambda s, p: supervision.record_assessment(
            s,
            p,
            processor,
            score=score,
            on=day_or_today(on),
            valid_days=valid_days,
            evidence_ref=evidence,
            actor=by,
        ),
    )


@app.command()
def contract(
    processor: str,
    clause: Annotated[list[str], typer.Option("--clause", help="A clause the contract contains (repeat).")],
    evidence: Evidence,
    by: By,
    on: On = None,
) -> None:
    """Record an entrustment contract; refused if a required clause is missing (JIS-9, MN-8)."""
    _record(
        "contract recorded",
        lambda s, p: supervision.record_contract(
            s, p, processor, signed_on=day_or_today(on), clauses=clause, evidence_ref=evidence, actor=by
        ),
    )


@app.command()
def monitor(
    processor: str,
    evidence: Evidence,
    by: By,
    on: On = None,
    satisfactory: Annotated[bool, typer.Option("--ok/--not-ok", help="The outcome of the check.")] = True,
) -> None:
    """Record a check of how a processor handles the data; the next one falls due by its contract."""
    _record(
        "monitoring recorded",
        lambda s, p: supervision.record_monitoring(
            s, p, processor, on=day_or_today(on), satisfactory=satisfactory, evidence_ref=evidence, actor=by
        ),
    )


@app.command("approve-reentrustment")
def approve_reentrustment(processor: str, by: By) -> None:
    """Permit a processor's re-entrustment, as the original entrusting party (MN-8)."""
    _record(
        "re-entrustment approved", lambda s, p: supervision.approve_reentrustment(s, p, processor, actor=by)
    )


@app.command("foreign-check")
def foreign_check(
    party: Annotated[str, typer.Argument(help="recipient:ID or processor:ID")],
    evidence: Evidence,
    by: By,
    on: On = None,
    conforming: Annotated[bool, typer.Option("--conforming/--not-conforming")] = True,
) -> None:
    """Record the periodic check of a foreign party relying on a conforming system (APPI Art. 28(3))."""
    _record(
        "foreign check recorded",
        lambda s, p: supervision.record_foreign_check(
            s, p, party, on=day_or_today(on), conforming=conforming, evidence_ref=evidence, actor=by
        ),
    )


@app.command()
def records(subject: Annotated[str, typer.Option("--subject", help="The subject's id.")]) -> None:
    """The provision and receipt records about one subject, as JSON."""
    with opened_workspace() as ws, ws.db.session() as session:
        emit_json(records_json(*records_for(session, [subject])))


@app.command("breach-notice")
def breach_notice(
    processor: str,
    aware_at: Annotated[
        str, typer.Option("--aware-at", help="When the processor became aware (ISO date-time).")
    ],
    notified_at: Annotated[str, typer.Option("--notified-at", help="When it told us (ISO date-time).")],
    by: By,
) -> None:
    """Record a processor's breach notice (late if more than 3 days after its awareness, APPI-26g) and
    open an incident draft for the office."""
    from mamoru.incidents.signals import processor_notice

    try:
        aware, notified = datetime.fromisoformat(aware_at), datetime.fromisoformat(notified_at)
    except ValueError:
        raise fail("--aware-at / --notified-at: ISO date-times like 2026-11-25T09:00+09:00") from None
    if aware.tzinfo is None or notified.tzinfo is None:
        raise fail("--aware-at / --notified-at: give the time zone (e.g. +09:00)")
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            notice = supervision.record_breach_notice(
                session, ws.policy.policy, processor, aware_at=aware, notified_at=notified, actor=by
            )
            draft = processor_notice(session, ws.vault, processor, aware_at=aware, now=datetime.now(UTC))
        except MamoruError as exc:
            raise fail(str(exc)) from None
        late, ref = notice.late, draft.ref
    out.print(f"breach notice recorded{' (LATE)' if late else ''}; incident draft {ref}")


@app.command()
def receipt(
    subject: Annotated[str, typer.Option("--subject", help="The subject's id.")],
    category: Annotated[list[str], typer.Option("--category", help="A data item received (repeat).")],
    provider: Annotated[str, typer.Option("--provider", help="The provider's name.")],
    address: Annotated[str, typer.Option("--address", help="The provider's address.")],
    history: Annotated[
        str, typer.Option("--history", help="How the provider obtained the data (APPI Art. 30(1)(ii)).")
    ],
    evidence: Evidence,
    by: By,
    representative: Annotated[
        str | None, typer.Option("--representative", help="The representative of a corporate provider.")
    ] = None,
    individual: Annotated[
        bool, typer.Option("--individual", help="The provider is an individual (no representative).")
    ] = False,
    opt_out: Annotated[
        bool, typer.Option("--opt-out", help="The provider gave it by opt-out (needs --ppc-ref, --on).")
    ] = False,
    ppc_ref: Annotated[
        str | None, typer.Option("--ppc-ref", help="Where the PPC published the provider's opt-out filing.")
    ] = None,
    on: On = None,
) -> None:
    """Confirm and record data received from another business (APPI Art. 30); refused, with the missing
    items named, until the provider, its representative and how it obtained the data are confirmed."""
    data = ReceiptIn(
        subject_id=subject,
        basis=Basis.OPT_OUT if opt_out else Basis.CONSENT,
        categories=category,
        provider_name=provider,
        provider_address=address,
        acquisition_history=history,
        evidence_ref=evidence,
        provider_representative=representative,
        provider_is_corporation=not individual,
        received_on=day_or_today(on) if opt_out else None,
        ppc_publication_ref=ppc_ref,
    )
    _record("receipt recorded", lambda s, _p: record_receipt(s, data, actor=by, today=day_or_today(None)))


@app.command("confirm-referable")
def confirm_referable_cmd(
    recipient: str,
    subject: Annotated[list[str], typer.Option("--subject", help="A subject's id (repeat).")],
    method: Annotated[str, typer.Option("--method", help="How it was confirmed (e.g. declaration).")],
    evidence: Evidence,
    by: By,
) -> None:
    """Record that the recipient holds each person's consent to receive personally referable data it will
    link to them (APPI Art. 31); until then the guard refuses the provision (referable_not_confirmed)."""
    _record(
        "confirmation recorded",
        lambda s, p: confirm_referable(
            s,
            p,
            recipient=recipient,
            subject_ids=subject,
            method=method,
            evidence_ref=evidence,
            actor=by,
            now=datetime.now(UTC),
        ),
    )


@app.command("opt-out-file")
def opt_out_file(
    recipient: str,
    ref: Annotated[str, typer.Option("--ref", help="The filing's reference (receipt or document).")],
    by: By,
    on: On = None,
) -> None:
    """Record the PPC filing of an opt-out recipient's notice items, as the policy now states them."""
    _record(
        "opt-out filing recorded",
        lambda s, p: optout.record_filing(
            s, p, recipient, filed_on=day_or_today(on), filing_ref=ref, actor=by
        ),
    )


@app.command("opt-out-published")
def opt_out_published(
    filing: Annotated[int, typer.Argument(help="The filing's number (see opt-out-status).")],
    ref: Annotated[str, typer.Option("--ref", help="Where the PPC published it.")],
    by: By,
    on: On = None,
) -> None:
    """Record the PPC's publication of an opt-out filing (APPI Art. 27(4)); provision may start after it."""
    _record(
        "publication recorded",
        lambda s, _p: optout.record_publication(
            s, filing, ppc_publication_ref=ref, published_on=day_or_today(on), actor=by
        ),
    )


@app.command("opt-out-status")
def opt_out_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every opt-out recipient with what still stops provision to it; exit 1 if any is stopped."""
    today = datetime.now(UTC).date()
    with opened_workspace() as ws, ws.db.session() as session:
        policy = ws.policy.policy
        rows = [
            (r.id, optout.opt_out_problems(session, policy, r.id, today))
            for r in optout.opt_out_recipients(policy)
        ]
        enabled = ws.settings.transfer_opt_out_enabled
    if as_json:
        emit_json({"enabled": enabled, "recipients": [{"recipient": r, "problems": p} for r, p in rows]})
    else:
        out.print(f"opt-out provision: {'on' if enabled else 'off (transfer_opt_out_enabled)'}")
        for recipient, problems in rows:
            out.print(f"{recipient:<32} {', '.join(problems) or 'ok'}", highlight=False, markup=False)
    if any(p for _, p in rows):
        raise typer.Exit(EXIT_FINDING)


@app.command("foreign-info")
def foreign_info(
    recipient: str, lang: Annotated[str, typer.Option("--lang", help="ja or en.")] = "ja"
) -> None:
    """Print what a person is told about a recipient abroad before consenting (APPI Art. 28(2))."""
    if lang not in ("ja", "en"):
        raise fail("--lang: ja or en")
    with opened_workspace() as ws:
        try:
            info = foreign.information(ws.policy.policy, recipient, lang)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"{info.text(lang)}\nversion {info.version}", highlight=False, markup=False)


@app.command("foreign-invite")
def foreign_invite(
    subject: Annotated[str, typer.Option("--subject", help="The subject's id.")],
    recipient: Annotated[str, typer.Option("--recipient", help="The foreign recipient's id.")],
    purpose: Annotated[str, typer.Option("--purpose", help="The purpose of the provision.")],
    by: By,
) -> None:
    """Open a portal link where the person reads the Art. 28 information and consents or declines; prints
    the link's path once (send it to the person)."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            row, token = foreign.invite(
                session,
                ws.policy.policy,
                subject_id=subject,
                recipient=recipient,
                purpose=purpose,
                actor=by,
                now=datetime.now(UTC),
            )
        except MamoruError as exc:
            raise fail(str(exc)) from None
        expires = row.expires_at
    out.print(f"/foreign/{token} (open until {expires:%Y-%m-%d})", highlight=False, markup=False)
