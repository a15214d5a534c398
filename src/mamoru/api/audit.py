"""Audit endpoints. Checkpoints, consistency proofs and the status carry hashes and counts only, so
they are public for witnesses; entries and inclusion proofs need an API token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, PUBLIC, BadAccessContext, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.audit.chain import head
from mamoru.audit.proofs import checkpoints, consistency_proof, inclusion_proof, latest_checkpoint
from mamoru.audit.query import entries_for
from mamoru.audit.signing import public_key_pem
from mamoru.audit.verification import verification_status

#: The largest audit sequence number a route accepts (a 64-bit column).
MAX_SEQ = 2**63 - 1
router = APIRouter(responses=ERRORS, prefix="/api/v1/audit", tags=["audit"])
AuditReader = Annotated[Principal, Depends(Permit("audit"))]


class CheckpointOut(BaseModel):
    number: int | None
    tree_size: int
    root_hash: str
    chain_hash: str
    ts_us: int
    prev_hash: str | None
    key_id: str
    signature: str


class CheckpointsOut(BaseModel):
    public_key_pem: str
    key_id: str
    statement_format: str
    checkpoints: list[CheckpointOut]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    path: list[str]


@router.get(
    "/checkpoints", summary="Every signed checkpoint and the public key to check them", dependencies=[PUBLIC]
)
def list_checkpoints(ws: CurrentWorkspace, session: DbSession) -> CheckpointsOut:
    return CheckpointsOut(
        public_key_pem=public_key_pem(ws.signer.public),
        key_id=ws.signer.key_id,
        statement_format=(
            "mamoru-checkpoint/v2\\n<number>\\n<tree_size>\\n<root_hash>\\n<chain_hash>\\n<ts_us>\\n<prev_hash>\\n"
            " (unnumbered: mamoru-checkpoint/v1\\n<tree_size>\\n<root_hash>\\n<chain_hash>\\n<ts_us>\\n)"
        ),
        checkpoints=[CheckpointOut(**cp.to_json()) for cp in checkpoints(session)],
    )


@router.get(
    "/consistency", summary="RFC 6962 consistency proof between two tree sizes", dependencies=[PUBLIC]
)
def consistency(
    session: DbSession, first: int = Query(ge=0, le=MAX_SEQ), second: int = Query(ge=0, le=MAX_SEQ)
) -> ConsistencyOut:
    path = consistency_proof(session, first, second)
    return ConsistencyOut(first=first, second=second, path=[p.hex() for p in path])


class StatusOut(BaseModel):
    entries: int
    last_verification_state: Literal["never", "untrusted", "intact", "broken"] = Field(
        description="untrusted: the latest result kept is not signed by this workspace's key, so it is not shown"
    )
    last_verified_at: str | None
    last_verified_age_seconds: int | None
    last_verification_ok: bool | None
    first_bad_seq: int | None
    latest_checkpoint: CheckpointOut | None


@router.get(
    "/status",
    summary="Size of the log, the last (signed) verification and the latest checkpoint",
    dependencies=[PUBLIC],
)
def status(session: DbSession, ws: CurrentWorkspace) -> StatusOut:
    size, _ = head(session)
    shown = verification_status(session, ws.signer.public, now=datetime.now(UTC))
    last = shown.run
    cp = latest_checkpoint(session)
    return StatusOut(
        entries=size,
        last_verification_state=shown.state,
        last_verified_at=last.run_at.isoformat() if last else None,
        last_verified_age_seconds=shown.age_seconds,
        last_verification_ok=last.ok if last else None,
        first_bad_seq=last.first_bad_seq if last else None,
        latest_checkpoint=CheckpointOut(**cp.to_json()) if cp else None,
    )


class EntryOut(BaseModel):
    seq: int
    entry_hash: str
    ts_us: int
    actor: str
    action: str
    purpose: str | None
    subjects: list[str]
    objects: list[str]
    decision: str | None
    reasons: list[str]
    policy_version: str | None


@router.get("/entries", summary="Entries about a subject, by an actor or for a purpose (API token required)")
def entries(
    _who: AuditReader,
    session: DbSession,
    subject: str | None = None,
    actor: str | None = None,
    purpose: str | None = None,
    after: int = Query(default=0, ge=0, le=MAX_SEQ),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[EntryOut]:
    given = [(k, v) for k, v in (("subject", subject), ("actor", actor), ("purpose", purpose)) if v]
    if len(given) != 1:
        raise BadAccessContext("give exactly one of subject, actor, purpose")
    kind, value = given[0]
    return [
        EntryOut(
            seq=e.seq,
            entry_hash=e.entry_hash.hex(),
            ts_us=e.ts_us,
            actor=e.body["actor"],
            action=e.body["action"],
            purpose=e.body["purpose"],
            subjects=list(e.body["subjects"]),
            objects=list(e.body["objects"]),
            decision=e.body["decision"],
            reasons=list(e.body["reasons"]),
            policy_version=e.body["policy_version"],
        )
        for e in entries_for(session, kind, value, limit=limit, after=after)
    ]


class InclusionOut(BaseModel):
    seq: int
    leaf: str
    entry_hash: str
    checkpoint: CheckpointOut
    path: list[str]


@router.get(
    "/proof/{seq}", summary="Inclusion proof of an entry in the latest checkpoint (API token required)"
)
def proof(seq: Annotated[int, Path(ge=1, le=MAX_SEQ)], _who: AuditReader, session: DbSession) -> InclusionOut:
    found = inclusion_proof(session, seq)
    data = found.to_json()
    return InclusionOut(
        seq=data["seq"],
        leaf=data["leaf"],
        entry_hash=data["entry_hash"],
        checkpoint=CheckpointOut(**data["checkpoint"]),
        path=data["path"],
    )
