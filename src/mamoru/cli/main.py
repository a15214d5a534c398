"""The `mamoru` command. A subcommand's module loads only when that subcommand runs (or shows its own
help), so `mamoru --help` and `mamoru version` answer without importing the domain."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer import _click as click  # the Click that Typer vendors and builds its commands on
from typer.core import TyperCommand, TyperGroup

from mamoru import __version__, logfilter
from mamoru.cli.commands import HELP, WHERE

logfilter.install()


class LazyGroup(TyperGroup):
    """The top-level group: the commands defined here, then those of ``WHERE``, each loaded on first use."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *WHERE]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in WHERE:
            return found
        if self._listing:  # the list needs the name and the first paragraph of the help only
            short = HELP[cmd_name].split("\n\n")[0].replace("\n", " ")
            return TyperCommand(name=cmd_name, help=HELP[cmd_name], short_help=short)
        module, attribute = WHERE[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            command: click.Command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(cmd_name, help=HELP[cmd_name])(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=LazyGroup,
    help="mamoru — personal-information protection management system. / 個人情報保護マネジメントシステム。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print mamoru's version."""
    typer.echo(__version__)


@app.command()
def init(
    as_json: Annotated[bool, typer.Option("--json", help="Print what was created as JSON.")] = False,
) -> None:
    """Create the workspace: key file (0600), settings, policy, database schema, published notice. Idempotent."""
    from mamoru.cli.common import emit_json, fail, out
    from mamoru.errors import MamoruError
    from mamoru.settings import Settings
    from mamoru.setup import initialize

    try:
        report = initialize(Settings())
    except MamoruError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(
            {"home": str(report.home), "created": report.created, "notice_version": report.notice_version}
        )
        return
    if not report.created:
        out.print(f"workspace {report.home} is ready (nothing to do)")
    for line in report.created:
        out.print(f"created {line}", highlight=False)
    if report.initial_password:
        out.print(
            f"sign in to /console/ as '{report.initial_login}' with: {report.initial_password}\n"
            f"(shown once; change it with `mamoru staff password {report.initial_login}`)",
            highlight=False,
            markup=False,
        )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same organization.")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the workspace has data.")
    ] = False,
    with_datastores: Annotated[
        bool,
        typer.Option(
            "--with-datastores",
            help="Let the demo's requests reach the datastores mapped in <home>/datasets.",
        ),
    ] = False,
) -> None:
    """Fill the workspace with a deterministic synthetic demo organization (Faker, ja_JP); its requests
    never reach a datastore you mapped unless --with-datastores."""
    from mamoru.cli.common import fail, opened_workspace, out
    from mamoru.demo.full import load_everything
    from mamoru.errors import MamoruError

    with opened_workspace() as ws:
        try:
            loaded = load_everything(ws, seed, if_empty=if_empty, with_datastores=with_datastores)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if loaded is None:
        out.print("the workspace already has data; demo not loaded")
        return
    out.print(
        f"demo organization loaded (seed {seed}): {len(loaded.plan.staff)} staff, "
        f"{len(loaded.plan.subjects)} data subjects, {loaded.requests} requests, {loaded.incidents} incidents, "
        f"{loaded.numbers} Individual Numbers, {loaded.inquiries} inquiries, {loaded.door_events} door events, "
        f"a demo file share scanned ({loaded.gaps} ledger gaps)"
    )
    logins = ", ".join(m.login for m in loaded.plan.staff)
    out.print(
        f"demo staff ({logins}) sign in to /console/ with: {loaded.password} (shown once)",
        highlight=False,
        markup=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Public address for links in e-mails (default: base_url, else this host and port)."
        ),
    ] = None,
) -> None:
    """Serve the portal, the staff console and the API (refuses to start without a key, a valid policy, or
    when the policy file is not the published version: the difference is shown)."""
    import logging
    import re
    import threading
    from datetime import UTC, datetime

    import uvicorn

    from mamoru.cli.common import EXIT_BAD_INPUT, err, opened_workspace, out
    from mamoru.people.staff import sweep_exits
    from mamoru.policy.service import PolicyNotPublished
    from mamoru.requests import jobs
    from mamoru.server import create_app, settle_heap
    from mamoru.settings import BASE_URL_PATTERN, served_base_url
    from mamoru.work.queue import limit_malloc_arenas, submit
    from mamoru.work.scheduler import run_audit_schedule, run_mail_sender

    limit_malloc_arenas()  # before uvicorn's and the thread pool's threads start
    if base_url is not None and not re.match(BASE_URL_PATTERN, base_url):
        raise typer.BadParameter(
            "give the address people reach, like https://privacy.example.jp", param_hint="--base-url"
        )
    with opened_workspace() as ws:
        try:
            ws.require_published()
        except PolicyNotPublished as exc:
            err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
            if exc.diff:
                err.print(exc.diff, highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if base_url:
            ws.settings.base_url = base_url
        ws.settings.base_url, warning = served_base_url(ws.settings, host, port)
        out.print(f"mamoru {__version__} on http://{host}:{port}/ — policy {ws.policy.policy.version}")
        out.print(f"links in e-mails start at {ws.settings.base_url}/")
        if warning:
            logging.getLogger("mamoru.serve").warning(warning)
            out.print(f"[yellow]warning:[/yellow] {warning}")
        for request_id in jobs.pending(ws):  # finish what a crash or a stop interrupted (or queue it)
            submit(ws, "request.fulfil", request_id=request_id)
        with ws.db.session() as session:  # leavers whose day came while nothing ran lose their grants now
            sweep_exits(session, now=datetime.now(UTC))
        stop = (
            threading.Event()
        )  # the outbox's sender and the audit schedule run beside the pages, never inside one
        sender = threading.Thread(target=run_mail_sender, args=(ws, stop), name="mail", daemon=True)
        sender.start()
        # checkpoints signed and the log verified while serving
        threading.Thread(target=run_audit_schedule, args=(ws, stop), name="audit", daemon=True).start()
        _reload_on_hangup(ws)
        application = create_app(ws)
        settle_heap()  # start-up's objects out of the collector's full passes (mamoru.server)
        # uvicorn believes X-Forwarded-For from loopback by default; the app decides instead, from the
        # proxies named in the settings (mamoru.web.door.ClientAddress).
        try:
            uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)
        finally:
            stop.set()
            sender.join(timeout=ws.settings.smtp_timeout * 4)


def _reload_on_hangup(ws: Any) -> None:
    """SIGHUP reloads the policy file: enforced if it is the published version, else refused (the
    difference logged) while the version in force stays."""
    import logging
    import signal
    import threading

    from mamoru.errors import MamoruError

    log = logging.getLogger("mamoru.serve")

    def reload() -> None:
        try:
            loaded = ws.reload_policy()
        except MamoruError as exc:
            log.error("policy reload refused: %s\n%s", exc, getattr(exc, "diff", ""))
        else:
            log.warning("policy reloaded: version %s", loaded.policy.version)

    def hangup(_signum: int, _frame: object) -> None:
        # A signal interrupts whatever the main thread holds (a pool's lock, the event loop): the reload
        # runs on a thread of its own instead.
        threading.Thread(target=reload, name="policy-reload", daemon=True).start()

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, hangup)


if __name__ == "__main__":
    app()
