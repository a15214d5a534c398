"""`mamoru training|rules|zones|inquiries …`: training (JIS-7), internal rules (JIS-6), entry and exit
(APPI-23-phys) and the complaint register (APPI Art. 40)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, in_session, out
from mamoru.incidents import signals
from mamoru.people import inquiries as inq
from mamoru.people import rules as rule_docs
from mamoru.people import training as train
from mamoru.people import zones as zone_mod

By = Annotated[str, typer.Option("--by", help="Who records it (staff:LOGIN).")]
Json = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]

training_app = typer.Typer(help=HELP["training"])
rules_app = typer.Typer(help=HELP["rules"])
zones_app = typer.Typer(help=HELP["zones"])
inquiries_app = typer.Typer(help=HELP["inquiries"])


@training_app.command("plan")
def training_plan(
    year: Annotated[int, typer.Option(help="Calendar year of the plan.")],
    title: Annotated[str, typer.Option(help="Title of the plan.")],
    topic: Annotated[list[str], typer.Option("--topic", help="A topic (repeatable).")],
    audience: Annotated[
        list[str] | None,
        typer.Option("--audience", help="A kind of staff (repeatable); everyone if omitted."),
    ] = None,
    by: By = "cli",
) -> None:
    """Create a year's training plan."""
    plan = in_session(
        lambda s, ws: train.create_plan(
            s, year=year, title=title, topics=topic, audience=audience or [], actor=by
        )
    )
    out.print(f"training plan {plan.id} created")


@training_app.command("session")
def training_session(
    plan_id: Annotated[int, typer.Argument(help="Plan number.")],
    title: Annotated[str, typer.Option(help="Title of the session.")],
    method: Annotated[str, typer.Option(help="classroom, e_learning, video or workshop.")] = "e_learning",
    on: Annotated[str | None, typer.Option("--on", help="Day held (YYYY-MM-DD); today if omitted.")] = None,
    by: By = "cli",
) -> None:
    """Record a session held under a plan."""
    day = day_or_today(on)
    row = in_session(
        lambda s, ws: train.hold_session(s, plan_id, held_on=day, title=title, method=method, actor=by)
    )
    out.print(f"training session {row.id} recorded")


@training_app.command("attend")
def training_attend(
    session_id: Annotated[int, typer.Argument(help="Session number.")],
    login: Annotated[str, typer.Argument(help="Staff login.")],
    score: Annotated[int, typer.Option(help="Comprehension test score, 0-100.")],
    by: By = "cli",
) -> None:
    """Record attendance with its score; a pass renews the person's training (and lifts a guard suspension)."""
    row = in_session(
        lambda s, ws: train.record_attendance(
            s, session_id, login, score=score, pass_score=ws.policy.policy.staff.training_pass_score, actor=by
        )
    )
    out.print(f"{login}: score {score}, {'passed' if row.passed else 'not passed'}")


@training_app.command("status")
def training_status(as_json: Json = False) -> None:
    """Plans with their coverage and everyone whose training lapsed; exit 1 if anyone's did."""
    today = datetime.now(UTC).date()

    def run(s, ws):  # type: ignore[no-untyped-def]
        return train.plans(s), train.overdue(
            s, today=today, valid_days=ws.policy.policy.staff.training_valid_days
        )

    plans, overdue = in_session(run)
    if as_json:
        emit_json(
            {
                "plans": [
                    {
                        "id": v.plan.id,
                        "year": v.plan.year,
                        "title": v.plan.title,
                        "passed": v.attended,
                        "expected": v.expected,
                    }
                    for v in plans
                ],
                "overdue": overdue,
            }
        )
    else:
        for v in plans:
            out.print(
                f"plan {v.plan.id} {v.plan.year} {v.plan.title}: {v.attended}/{v.expected} passed",
                markup=False,
            )
        out.print(f"training lapsed: {len(overdue)}" + (f" ({', '.join(overdue)})" if overdue else ""))
    if overdue:
        raise typer.Exit(EXIT_FINDING)


@rules_app.command("draft")
def rules_draft(
    code: Annotated[str, typer.Option(help="Document code, e.g. PMS-R01.")],
    version: Annotated[str, typer.Option(help="Version, e.g. 3.0.")],
    title_ja: Annotated[str, typer.Option(help="Title in Japanese.")],
    title_en: Annotated[str, typer.Option(help="Title in English.")],
    file: Annotated[
        Path, typer.Option(help="The document; only its SHA-256 is kept.", exists=True, dir_okay=False)
    ],
    topic: Annotated[list[str], typer.Option("--topic", help="A checklist topic it covers (repeatable).")],
    by: By = "cli",
) -> None:
    """Register a new version of an internal rule document, awaiting approval."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    doc = in_session(
        lambda s, ws: rule_docs.draft(
            s,
            code=code,
            version=version,
            title_ja=title_ja,
            title_en=title_en,
            topics=topic,
            sha256=digest,
            actor=by,
        )
    )
    out.print(
        f"{code} {version} registered as document {doc.id} (sha256 {digest[:16]}…); approve it to put it in force"
    )


@rules_app.command("approve")
def rules_approve(
    document_id: Annotated[int, typer.Argument(help="Document number.")],
    by: Annotated[str, typer.Option("--by", help="The approving protection manager (staff:LOGIN).")],
) -> None:
    """Approve a draft (a protection manager other than its author); it supersedes the earlier version."""
    now = datetime.now(UTC)
    doc = in_session(lambda s, ws: rule_docs.approve(s, document_id, actor=by, now=now))
    out.print(f"{doc.code} {doc.version} is in force")


@rules_app.command("ack")
def rules_ack(
    document_id: Annotated[int, typer.Argument(help="Document number.")],
    login: Annotated[str, typer.Argument(help="Staff login.")],
) -> None:
    """Record that a staff member has read and acknowledged a rule in force."""
    now = datetime.now(UTC)
    in_session(lambda s, ws: rule_docs.acknowledge(s, document_id, login, now=now))
    out.print(f"{login} acknowledged document {document_id}")


@rules_app.command("status")
def rules_status(as_json: Json = False) -> None:
    """Checklist topics no rule covers and staff who have not acknowledged the rules; exit 1 if any."""

    def run(s, ws):  # type: ignore[no-untyped-def]
        st = rule_docs.status(s)
        return st, [(d.id, d.code, d.version, d.title_en) for d in rule_docs.in_force(s)]

    st, docs = in_session(run)
    if as_json:
        emit_json(
            {"in_force": docs, "missing_topics": st.missing_topics, "unacknowledged": st.unacknowledged}
        )
    else:
        for d in docs:
            out.print(f"{d[0]:>4} {d[1]} {d[2]} {d[3]}", markup=False)
        out.print(f"missing topics: {', '.join(st.missing_topics) or 'none'}")
        out.print(f"staff with unacknowledged rules: {st.unacknowledged_count}")
    if not st.conforming:
        raise typer.Exit(EXIT_FINDING)


@zones_app.command("add")
def zones_add(
    code: Annotated[str, typer.Argument(help="Zone code, e.g. server_room.")],
    name_ja: Annotated[str, typer.Option(help="Name in Japanese.")],
    name_en: Annotated[str, typer.Option(help="Name in English.")],
    my_number: Annotated[bool, typer.Option("--my-number", help="A My Number handling zone.")] = False,
    by: By = "cli",
) -> None:
    """Define a controlled zone."""
    in_session(
        lambda s, ws: zone_mod.add_zone(
            s, code, name_ja=name_ja, name_en=name_en, my_number=my_number, actor=by
        )
    )
    out.print(f"zone {code} added")


@zones_app.command("allow")
def zones_allow(
    code: Annotated[str, typer.Argument(help="Zone code.")],
    login: Annotated[str, typer.Argument(help="Staff login.")],
    by: By = "cli",
) -> None:
    """Let a staff member into a zone."""
    in_session(lambda s, ws: zone_mod.allow(s, code, login, actor=by))
    out.print(f"{login} may enter {code}")


@zones_app.command("badge")
def zones_badge(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    number: Annotated[str, typer.Argument(help="Badge number (only a keyed hash is kept).")],
    by: By = "cli",
) -> None:
    """Issue a badge to a staff member."""
    in_session(lambda s, ws: zone_mod.issue_badge(s, ws.vault, login, number, actor=by))
    out.print(f"badge issued to {login}")


@zones_app.command("ingest")
def zones_ingest(
    file: Annotated[
        Path, typer.Argument(help="CSV: event_id,zone,badge,at,direction,authenticated.", exists=True)
    ],
    source: Annotated[str, typer.Option(help="Which controller exported it.")] = "csv",
    by: By = "cli",
) -> None:
    """Read door events from a controller's CSV export; exit 1 when any raised an alert (incident draft)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise fail(f"{file}: not UTF-8 text") from None
    now = datetime.now(UTC)
    result = in_session(
        lambda s, ws: signals.door_events(
            s, ws.vault, zone_mod.parse_csv(text), source=source, actor=by, now=now
        )
    )
    alerts = sum(v for k, v in result.outcomes.items() if k != zone_mod.OK)
    out.print(
        f"{result.received} events, {result.duplicates} already known, {alerts} alert(s)"
        + (f"; incident draft {result.incident_ref}" if result.incident_ref else "")
    )
    if alerts:
        raise typer.Exit(EXIT_FINDING)


@zones_app.command("report")
def zones_report(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD); 30 days ago if omitted.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); today if omitted.")] = None,
    zone: Annotated[str | None, typer.Option(help="Only this zone.")] = None,
    as_json: Json = False,
) -> None:
    """Every entry and exit in the period with the identity it was authenticated as."""
    last = day_or_today(until, "--until")
    first = day_or_today(since, "--since") if since else last - timedelta(days=30)
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    lines = in_session(lambda s, ws: zone_mod.report(s, since=start, until=end, zone_code=zone))
    if as_json:
        emit_json([asdict(line) for line in lines])
        return
    for line in lines:
        out.print(
            f"{line.at:%Y-%m-%d %H:%M} {line.zone:<16} {line.direction:<3} {line.who:<12} {line.outcome}"
            + (f" {line.incident_ref}" if line.incident_ref else ""),
            markup=False,
        )


@inquiries_app.command("list")
def inquiries_list(as_json: Json = False) -> None:
    """Open inquiries and complaints by first-response due time (contents stay sealed)."""
    rows = in_session(lambda s, ws: inq.open_inquiries(s))
    data = [
        {
            "ref": q.ref,
            "kind": q.kind,
            "channel": q.channel,
            "category": q.category,
            "owner": q.owner,
            "first_response_due": q.first_response_due.isoformat(),
            "first_response_at": q.first_response_at.isoformat() if q.first_response_at else None,
            "close_due": q.close_due.isoformat(),
            "actions": len(q.actions),
        }
        for q in rows
    ]
    if as_json:
        emit_json(data)
        return
    for d in data:
        out.print(
            f"{d['ref']} {d['kind']:<9} {d['channel']:<8} {d['category']:<17} owner={d['owner'] or '-'} "
            f"first response by {str(d['first_response_due'])[:16]} actions={d['actions']}",
            markup=False,
        )


@inquiries_app.command("stats")
def inquiries_stats(
    year: Annotated[int | None, typer.Option(help="Calendar year; this year if omitted.")] = None,
    as_json: Json = False,
) -> None:
    """Monthly counts of inquiries and complaints, late first responses and days to close."""
    from datetime import date

    y = year or datetime.now(UTC).year
    months = in_session(lambda s, ws: inq.monthly_stats(s, since=date(y, 1, 1), until=date(y + 1, 1, 1)))
    if as_json:
        emit_json([asdict(m) for m in months])
        return
    out.print("month    inquiries complaints closed late mean_days")
    for m in months:
        out.print(
            f"{m.month}  {m.inquiries:>9} {m.complaints:>10} {m.closed:>6} {m.first_response_late:>4} "
            f"{m.mean_days_to_close if m.mean_days_to_close is not None else '-':>9}"
        )
