"""`mamoru audit …`: verify the log, sign checkpoints, prove entries, query who did what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from mamoru.audit.proofs import Checkpoint, checkpoints, consistency_proof, inclusion_proof, make_checkpoint
from mamoru.audit.query import entries_for, reindex
from mamoru.audit.signing import load_public_key_pem, public_key_pem
from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_BAD_INPUT, EXIT_FINDING, emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.incidents.signals import verify_log

app = typer.Typer(help=HELP["audit"])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _read_witness(path: Path) -> tuple[list[Checkpoint], str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Checkpoint.from_json(c) for c in data["checkpoints"]], data.get("public_key_pem")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise fail(
            f"{path}: not a checkpoint export from `mamoru audit checkpoint --export`: {exc}"
        ) from None


@app.command()
def verify(
    as_json: JsonOpt = False,
    deep: Annotated[bool, typer.Option(help="Also rebuild the Merkle tree and check every root.")] = False,
    witness: Annotated[
        Path | None,
        typer.Option(help="Checkpoints kept by an outside party (an export file) to check against."),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes to use (default: automatic).")] = None,
) -> None:
    """Verify the whole log: exit 0 if intact, 1 with the first bad sequence number if not."""
    witnessed, witness_pem = _read_witness(witness) if witness else ([], None)
    with opened_workspace() as ws:
        public = ws.signer.public
        if witness_pem is not None and witness_pem.strip() != public_key_pem(public).strip():
            # The witness trusts its own copy of the key, not the one in this workspace.
            public = load_public_key_pem(witness_pem)
        report = verify_log(
            ws, public, by="cli", now=datetime.now(UTC), witness=witnessed, deep=deep, workers=workers
        )
    if as_json:
        emit_json(report.to_json())
    elif report.ok:
        out.print(
            f"[green]intact[/]: {report.entries} entries, {report.checkpoints_checked} signed checkpoints"
            f"{f', {report.witness_checked} witness checkpoints' if witness else ''}; head {report.head_hash[:16]} "
            f"({report.seconds:.2f} s)"
        )
    else:
        out.print(f"[red]NOT intact[/] at entry {report.first_bad_seq}: {report.reason}")
    raise typer.Exit(0 if report.ok else EXIT_FINDING)


@app.command()
def checkpoint(
    export: Annotated[
        Path | None,
        typer.Option(help="Write every checkpoint and the public key here, for a witness to keep."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a checkpoint of the current log (size, Merkle root, chain head)."""
    with opened_workspace() as ws:
        with ws.db.session() as session:
            cp = make_checkpoint(session, ws.signer)
        with ws.db.session() as session:
            everything = checkpoints(session)
        pem = public_key_pem(ws.signer.public)
    if export is not None:
        write_private(
            export,
            json.dumps(
                {
                    "public_key_pem": pem,
                    "key_id": ws.signer.key_id,
                    "checkpoints": [c.to_json() for c in everything],
                },
                indent=2,
            ),
        )
    if as_json:
        emit_json(cp.to_json() if cp else None)
    elif cp is None:
        out.print("the log is empty; nothing to sign")
    else:
        out.print(f"checkpoint at {cp.tree_size} entries, root {cp.root_hash.hex()[:16]}, key {cp.key_id}")


@app.command()
def proof(
    seq: Annotated[int, typer.Argument(help="Sequence number of the entry.")], as_json: JsonOpt = False
) -> None:
    """Print an inclusion proof of entry SEQ in the latest signed checkpoint, and check it."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            found = inclusion_proof(session, seq)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        valid = found.verify(ws.signer.public)
    if as_json:
        emit_json({**found.to_json(), "valid": valid})
    else:
        out.print(
            f"entry {seq} in checkpoint of {found.checkpoint.tree_size} entries: {len(found.path)} hashes"
        )
        for step in found.path:
            out.print(f"  {step.hex()}")
        out.print("[green]valid[/]" if valid else "[red]INVALID[/]")
    raise typer.Exit(0 if valid else EXIT_FINDING)


@app.command()
def consistency(
    first: Annotated[int, typer.Argument(help="Size of the earlier tree.")],
    second: Annotated[int, typer.Argument(help="Size of the later tree.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a consistency proof that the log of FIRST entries is a prefix of the log of SECOND entries."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            path = consistency_proof(session, first, second)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if as_json:
        emit_json({"first": first, "second": second, "path": [p.hex() for p in path]})
    else:
        for step in path:
            out.print(step.hex())


@app.command("reindex")
def rebuild_index(as_json: JsonOpt = False) -> None:
    """Rebuild the query index from the entries that verify; exit 1 if the chain breaks before the end."""
    with opened_workspace() as ws:
        report = reindex(ws.db)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "refs": report.refs,
                "first_bad_seq": report.first_bad_seq,
                "reason": report.reason,
            }
        )
    elif report.ok:
        out.print(f"[green]rebuilt[/]: {report.entries} entries, {report.refs} references")
    else:
        out.print(
            f"[red]rebuilt up to entry {report.entries}[/]; entry {report.first_bad_seq}: {report.reason}"
            " (run `mamoru audit verify`)"
        )
    raise typer.Exit(0 if report.ok else EXIT_FINDING)


@app.command("log")
def query(
    subject: Annotated[
        str | None, typer.Option(help="Entries about this data subject (its reference).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Entries by this actor.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Entries for this purpose.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
    after: Annotated[int, typer.Option(help="Only entries after this sequence number.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List the entries about a subject, by an actor, or for a purpose (exactly one of them)."""
    given = [(k, v) for k, v in (("subject", subject), ("actor", actor), ("purpose", purpose)) if v]
    if len(given) != 1:
        raise fail("give exactly one of --subject, --actor, --purpose", EXIT_BAD_INPUT)
    kind, value = given[0]
    with opened_workspace() as ws, ws.db.session() as session:
        entries = entries_for(session, kind, value, limit=limit, after=after)
    rows = [{"seq": e.seq, "entry_hash": e.entry_hash.hex(), **e.body} for e in entries]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(
            f"{row['seq']:>8}  {row['actor']:<16} {row['action']:<20} {row['purpose'] or '-':<16} "
            f"{row['decision'] or '-':<6} {','.join(row['subjects'])[:40]}",
            highlight=False,
            markup=False,
        )
