"""`mamoru pms …`: the PMS cycle — legal register (JIS-2), risks (JIS-3), the control catalogue (APPI-23,
MN-7), internal audits and corrective actions, the management review (JIS-10), and one check of all."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, in_session, out
from mamoru.pms import audits, controls, legal, review, risk
from mamoru.pms.check import nonconformities
from mamoru.workspace import Workspace

app = typer.Typer(help=HELP["pms"])
By = Annotated[str, typer.Option("--by", help="Who records it (staff:LOGIN).")]
Json = Annotated[bool, typer.Option("--json", help="JSON instead of text.")]
On = Annotated[str | None, typer.Option("--on", help="Day (YYYY-MM-DD); today if omitted.")]


@app.command("legal")
def legal_cmd(
    seed: Annotated[
        bool, typer.Option("--seed", help="Add the built-in sources not yet in the register.")
    ] = False,
    owner: Annotated[str, typer.Option(help="Owner of seeded items.")] = "role:protection_manager",
    as_json: Json = False,
) -> None:
    """The legal register (JIS-2); exit 1 when an item is past its review day."""
    today = datetime.now(UTC).date()

    def run(s: Session, ws: Workspace) -> list[dict[str, Any]]:
        if seed:
            legal.seed(s, owner=owner, today=today, actor="cli")
        return [
            {
                "code": i.code,
                "title_ja": i.title_ja,
                "title_en": i.title_en,
                "articles": i.articles,
                "owner": i.owner,
                "last_checked": i.last_checked.isoformat(),
                "next_review": i.next_review.isoformat(),
                "overdue": i.next_review < today,
            }
            for i in legal.items(s)
        ]

    rows = in_session(run)
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            flag = " OVERDUE" if r["overdue"] else ""
            out.print(
                f"{r['code']:<16} {r['title_en']:<60} next review {r['next_review']}{flag}", markup=False
            )
    if any(r["overdue"] for r in rows):
        raise typer.Exit(EXIT_FINDING)


@app.command("legal-checked")
def legal_checked(
    code: Annotated[str, typer.Argument(help="Register code, e.g. APPI.")],
    on: On = None,
    by: By = "cli",
) -> None:
    """Record that a source was read again; its next review is a year later."""
    day = day_or_today(on)
    item = in_session(lambda s, ws: legal.checked(s, code, on=day, next_review=None, actor=by))
    out.print(f"{code}: checked {day}, next review {item.next_review}")


@app.command("risks")
def risks_cmd(
    draft: Annotated[
        bool, typer.Option("--draft", help="Draft an item for every stage still missing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Risk items per ledger entry and lifecycle stage (JIS-3); exit 1 when there is a gap."""
    today = datetime.now(UTC).date()

    def run(s: Session, ws: Workspace) -> tuple[list[dict[str, Any]], list[risk.RiskGap]]:
        if draft:
            risk.draft_all(s, today=today, actor="cli")
        rows = [
            {
                "id": i.id,
                "entry": e.code,
                "stage": i.stage,
                "threat": i.threat,
                "likelihood": i.likelihood,
                "impact": i.impact,
                "controls": i.controls,
                "residual": i.residual,
                "accepted_by": i.accepted_by,
            }
            for e, items in risk.register(s)
            for i in items
        ]
        return rows, risk.gaps(s, today)

    rows, gaps = in_session(run)
    if as_json:
        emit_json({"items": rows, "gaps": [asdict(g) for g in gaps]})
    else:
        for r in rows:
            out.print(
                f"{r['id']:>4} {r['entry']:<12} {r['stage']:<12} {r['threat']:<16} "
                f"L{r['likelihood']}×I{r['impact']} residual={r['residual']}",
                markup=False,
            )
        for g in gaps:
            out.print(f"gap: {g.entry} {g.problem}", markup=False)
    if gaps:
        raise typer.Exit(EXIT_FINDING)


@app.command("assess")
def assess(
    item_id: Annotated[int, typer.Argument(help="Risk item number.")],
    likelihood: Annotated[int, typer.Option(help="1-3.")],
    impact: Annotated[int, typer.Option(help="1-3.")],
    residual: Annotated[str, typer.Option(help="low, medium or high.")],
    control: Annotated[
        list[str] | None, typer.Option("--control", help="A catalogue control id (repeatable).")
    ] = None,
    accepted_by: Annotated[
        str | None, typer.Option(help="Who accepts the residual risk (needed when high).")
    ] = None,
    by: By = "cli",
) -> None:
    """Record the assessment of one risk item."""
    today = datetime.now(UTC).date()
    in_session(
        lambda s, ws: risk.assess(
            s,
            item_id,
            likelihood=likelihood,
            impact=impact,
            controls=control or [],
            residual=residual,
            accepted_by=accepted_by,
            today=today,
            actor=by,
        )
    )
    out.print(f"risk item {item_id}: residual {residual}")


@app.command("controls")
def controls_cmd(as_json: Json = False) -> None:
    """The control catalogue by category with owners, reviews and evidence; exit 1 when one lacks them."""
    today = datetime.now(UTC).date()
    data = in_session(lambda s, ws: controls.export(s, today))
    if as_json:
        emit_json(data)
    else:
        for cat in data["categories"]:
            out.print(f"{cat['id']} {cat['en']} / {cat['ja']}", markup=False)
            for c in cat["controls"]:
                state = c["problem"] or f"reviewed {c['reviewed_on']} by {c['owner']}"
                out.print(f"   {c['id']:<10} {c['en'][:64]:<64} {state}", markup=False)
    if any(c["problem"] for cat in data["categories"] for c in cat["controls"]):
        raise typer.Exit(EXIT_FINDING)


@app.command("control-review")
def control_review(
    control_id: Annotated[str, typer.Argument(help="Catalogue id, e.g. GL-10-6-1.")],
    owner: Annotated[str, typer.Option(help="Who answers for the control.")],
    evidence: Annotated[str, typer.Option(help="Link or document reference of the evidence.")],
    on: On = None,
    by: By = "cli",
) -> None:
    """Record a control's owner, review and evidence."""
    day = day_or_today(on)
    in_session(
        lambda s, ws: controls.record(
            s, control_id, owner=owner, reviewed_on=day, evidence=evidence, actor=by
        )
    )
    out.print(f"{control_id}: reviewed {day}")


@app.command("integrity")
def integrity(
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Accept the collection pages as they are now.")
    ] = False,
    by: By = "cli",
) -> None:
    """Check the files of the public collection forms against the recorded baseline (web skimming);
    exit 1 on a difference."""
    now = datetime.now(UTC)
    if baseline:
        digests = in_session(lambda s, ws: controls.record_baseline(s, actor=by, now=now))
        out.print(f"baseline recorded for {len(digests)} files")
        return
    problems = in_session(lambda s, ws: controls.integrity_check(s))
    for p in problems:
        out.print(p, markup=False)
    if problems:
        raise typer.Exit(EXIT_FINDING)
    out.print("collection pages match the baseline")


@app.command("audit-plan")
def audit_plan(
    department: Annotated[str, typer.Option(help="Department audited.")],
    auditor: Annotated[str, typer.Option(help="Auditor's login (not of that department).")],
    scope: Annotated[str, typer.Option(help="What is audited.")],
    on: On = None,
    by: By = "cli",
) -> None:
    """Plan an internal audit."""
    day = day_or_today(on)
    row = in_session(
        lambda s, ws: audits.plan(
            s, year=day.year, department=department, scope=scope, auditor=auditor, planned_on=day, actor=by
        )
    )
    out.print(f"internal audit {row.ref} planned for {day}")


@app.command("audit-complete")
def audit_complete(
    ref: Annotated[str, typer.Argument(help="Audit reference.")], on: On = None, by: By = "cli"
) -> None:
    """Record an audit as done."""
    day = day_or_today(on)
    in_session(lambda s, ws: audits.complete(s, audits.get(s, ref), done_on=day, actor=by))
    out.print(f"{ref} completed {day}")


@app.command("audit-finding")
def audit_finding(
    ref: Annotated[str, typer.Argument(help="Audit reference.")],
    kind: Annotated[str, typer.Option(help="nonconformity or observation.")],
    clause: Annotated[str, typer.Option(help="Requirement concerned, e.g. JIS-7.")],
    summary: Annotated[str, typer.Option(help="What was found (no personal values).")],
    on: On = None,
    by: By = "cli",
) -> None:
    """Record a finding of an audit."""
    day = day_or_today(on)
    f = in_session(
        lambda s, ws: audits.add_finding(
            s, audits.get(s, ref), kind=kind, clause=clause, summary=summary, raised_on=day, actor=by
        )
    )
    out.print(f"finding {f.id} recorded")


@app.command("audit-action")
def audit_action(
    finding_id: Annotated[int, typer.Argument(help="Finding number.")],
    root_cause: Annotated[str, typer.Option(help="Root cause.")],
    action: Annotated[str, typer.Option(help="Corrective action.")],
    due: Annotated[str, typer.Option(help="Due day (YYYY-MM-DD).")],
    owner: Annotated[str, typer.Option(help="Owner's login.")],
    by: By = "cli",
) -> None:
    """Plan a corrective action for a finding."""
    try:
        day = date.fromisoformat(due)
    except ValueError:
        raise fail(f"--due: '{due}' is not a date like 2026-11-25") from None
    row = in_session(
        lambda s, ws: audits.add_action(
            s, finding_id, root_cause=root_cause, action=action, due=day, owner=owner, actor=by
        )
    )
    out.print(f"corrective action {row.id} planned")


@app.command("audit-verify")
def audit_verify(
    action_id: Annotated[int, typer.Argument(help="Corrective action number.")], on: On = None, by: By = "cli"
) -> None:
    """Record a corrective action as done and verified (not by its owner)."""
    day = day_or_today(on)
    in_session(lambda s, ws: audits.verify(s, action_id, done_on=day, actor=by))
    out.print(f"corrective action {action_id} verified")


@app.command("review-draft")
def review_draft(
    since: Annotated[str, typer.Option(help="First day of the period (YYYY-MM-DD).")],
    until: Annotated[str, typer.Option(help="Day after the period (YYYY-MM-DD).")],
    by: By = "cli",
    as_json: Json = False,
) -> None:
    """Draft the management review of a period from the records (audits, incidents, complaints, …)."""
    first, last = day_or_today(since, "--since"), day_or_today(until, "--until")
    now = datetime.now(UTC)
    rv = in_session(
        lambda s, ws: review.draft(s, ws.policy.policy, since=first, until=last, actor=by, now=now)
    )
    if as_json:
        emit_json({"id": rv.id, "inputs": rv.inputs})
    else:
        out.print(f"management review {rv.id} drafted for {first}..{last}")


@app.command("review-approve")
def review_approve(
    review_id: Annotated[int, typer.Argument(help="Review number.")],
    decision: Annotated[list[str], typer.Option("--decision", help="A decision (repeatable).")],
    by: Annotated[str, typer.Option("--by", help="The approving director (staff:LOGIN).")],
) -> None:
    """Record top management's decisions and approval."""
    now = datetime.now(UTC)
    in_session(lambda s, ws: review.approve(s, review_id, decisions=decision, actor=by, now=now))
    out.print(f"management review {review_id} approved")


@app.command("check")
def check(as_json: Json = False) -> None:
    """Every open non-conformity of the PMS; exit 1 when there is one (for a daily job)."""
    today = datetime.now(UTC).date()
    found = in_session(lambda s, ws: nonconformities(s, ws.policy.policy, today))
    if as_json:
        emit_json(found)
    else:
        for area, items in found.items():
            out.print(f"{area}: {len(items)}", markup=False)
            for item in items[:20]:
                out.print(f"   {item}", markup=False)
    if any(found.values()):
        raise typer.Exit(EXIT_FINDING)
