"""Public audit endpoints: signed checkpoints and consistency proofs carry hashes only, so a witness
can fetch and keep them. Entry contents and inclusion proofs wait for signed-in access."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mamoru.api.deps import CurrentWorkspace, DbSession
from mamoru.audit import log as audit_log
from mamoru.audit.signing import public_key_pem

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str
    chain_hash: str
    ts_us: int
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


@router.get("/checkpoints", summary="Every signed checkpoint and the public key to check them")
def list_checkpoints(ws: CurrentWorkspace, session: DbSession) -> CheckpointsOut:
    return CheckpointsOut(
        public_key_pem=public_key_pem(ws.signer.public),
        key_id=ws.signer.key_id,
        statement_format="mamoru-checkpoint/v1\\n<tree_size>\\n<root_hash>\\n<chain_hash>\\n<ts_us>\\n",
        checkpoints=[CheckpointOut(**cp.to_json()) for cp in audit_log.checkpoints(session)],
    )


@router.get("/consistency", summary="RFC 6962 consistency proof between two tree sizes")
def consistency(session: DbSession, first: int = Query(ge=0), second: int = Query(ge=0)) -> ConsistencyOut:
    path = audit_log.consistency_proof(session, first, second)
    return ConsistencyOut(first=first, second=second, path=[p.hex() for p in path])
