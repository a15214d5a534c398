"""`mamoru staff …`: the staff register (APPI Art. 24) and staff accounts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, in_session, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people import staff as people_staff
from mamoru.people.auth import new_password, remove_totp, set_password

app = typer.Typer(help=HELP["staff"])


@app.command()
def password(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    by: Annotated[str, typer.Option(help="Who resets it.")] = "cli",
) -> None:
    """Give a staff member a new random password, printed once (argon2id hash kept)."""
    secret = new_password()
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            set_password(session, login, secret, actor=by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"new password for {login} (shown once): {secret}", highlight=False, markup=False)


@app.command()
def totp(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    remove: Annotated[bool, typer.Option("--remove", help="Turn two-factor sign-in off.")] = False,
    by: Annotated[str, typer.Option(help="Who does it.")] = "cli",
) -> None:
    """Turn a staff member's two-factor sign-in off (a lost phone). Setting it up is done by the person
    themselves on the console's account page, so that no one else ever sees their secret."""
    if not remove:
        raise fail(
            "two-factor sign-in is set up by the person themselves at /console/account; "
            "use --remove to turn it off for someone who lost their device"
        )
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            remove_totp(session, ws.vault, login, actor=by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"two-factor sign-in removed for {login}")


@app.command("add")
def add(
    login: Annotated[str, typer.Argument(help="Opaque login (never a name), e.g. hr07.")],
    kind: Annotated[str, typer.Option(help="director, employee, dispatched, part_time or contractor.")],
    department: Annotated[str, typer.Option(help="Department code, e.g. hr.")],
    role: Annotated[list[str] | None, typer.Option("--role", help="A role to grant (repeatable).")] = None,
    joined: Annotated[
        str | None, typer.Option(help="Day they joined (YYYY-MM-DD); today if omitted.")
    ] = None,
    by: Annotated[str, typer.Option(help="Who registers them.")] = "cli",
) -> None:
    """Register a worker of any kind (APPI Art. 24). They use no personal data before their pledge and training."""
    day = day_or_today(joined)
    in_session(
        lambda s, ws: people_staff.register(
            s,
            login,
            kind=kind,
            department=department,
            joined_on=day,
            roles=role,
            business_roles=frozenset(r.id for r in ws.policy.policy.roles),
            actor=by,
        )
    )
    out.print(f"registered {login} ({kind}, {department})")


@app.command("grant")
def grant(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    role: Annotated[str, typer.Argument(help="Role to grant.")],
    by: Annotated[str, typer.Option(help="Who grants it.")] = "cli",
) -> None:
    """Grant a role (the protection manager and the audit manager are never the same person)."""
    in_session(
        lambda s, ws: people_staff.grant(
            s, login, role, actor=by, business_roles=frozenset(r.id for r in ws.policy.policy.roles)
        )
    )
    out.print(f"{login}: {role} granted")


@app.command("revoke")
def revoke(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    role: Annotated[str, typer.Argument(help="Role to take away.")],
    by: Annotated[str, typer.Option(help="Who revokes it.")] = "cli",
) -> None:
    """Take a role away."""
    in_session(lambda s, ws: people_staff.revoke(s, login, role, actor=by))
    out.print(f"{login}: {role} revoked")


@app.command("pledge")
def pledge(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    by: Annotated[str, typer.Option(help="Who records it.")] = "cli",
) -> None:
    """Record a signed confidentiality pledge (without one the guard refuses all personal data)."""
    now = datetime.now(UTC)
    in_session(lambda s, ws: people_staff.sign_pledge(s, login, at=now, actor=by))
    out.print(f"{login}: pledge recorded")


@app.command("exit")
def exit_(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    on: Annotated[str | None, typer.Option("--on", help="Last day (YYYY-MM-DD); today if omitted.")] = None,
    by: Annotated[str, typer.Option(help="Who records it.")] = "cli",
) -> None:
    """Record that someone leaves: every grant goes at once, or on that day by `mamoru staff sweep`."""
    day, now = day_or_today(on), datetime.now(UTC)
    now_revoked = in_session(lambda s, ws: people_staff.set_exit(s, login, day, actor=by, now=now))
    out.print(
        f"{login}: leaves on {day}; " + ("every grant revoked" if now_revoked else "grants go on that day")
    )


@app.command("sweep")
def sweep() -> None:
    """Revoke every grant of people whose exit day has come (run daily; `mamoru serve` runs it at start)."""
    now = datetime.now(UTC)
    gone = in_session(lambda s, ws: people_staff.sweep_exits(s, now=now))
    out.print(f"grants revoked: {len(gone)}" + (f" ({', '.join(gone)})" if gone else ""))


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The staff register: kind, department, roles, pledge, training; exit 1 if anyone's training lapsed."""
    today = datetime.now(UTC).date()
    rows: list[people_staff.StaffView] = in_session(
        lambda s, ws: people_staff.register_view(
            s, today=today, valid_days=ws.policy.policy.staff.training_valid_days
        )
    )
    if as_json:
        emit_json([asdict(r) for r in rows])
    else:
        for r in rows:
            state = "left" if r.revoked else ("LAPSED" if r.lapsed else "ok")
            out.print(
                f"{r.login:<12} {r.kind:<11} {r.department:<16} {','.join(r.roles) or '-':<40} "
                f"pledge={'yes' if r.pledge else 'NO'} training={r.trained_on or '-'} {state}",
                highlight=False,
                markup=False,
            )
    if any(r.lapsed or not r.pledge for r in rows if not r.revoked):
        raise typer.Exit(EXIT_FINDING)
