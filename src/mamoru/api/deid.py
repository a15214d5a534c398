"""Pseudonymized and anonymized datasets over HTTP: the registers, plans, runs, publication, provision,
the uses the law restricts, retirement. Thin: each route is one service call; the rules and the audit
are in :mod:`mamoru.deid`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, MAX_ID, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.deid import register as reg
from mamoru.deid import runs
from mamoru.deid import service as deid
from mamoru.deid.plan import plan_from_data
from mamoru.deid.rules import Basis, Use
from mamoru.deid.tables import DeidDataset, DeidRun
from mamoru.policy.model import Text
from mamoru.work.queue import submit

router = APIRouter(responses=ERRORS, prefix="/api/v1/deid", tags=["deid"])
Reader = Annotated[Principal, Depends(Permit("deid"))]
Manager = Annotated[Principal, Depends(Permit("deid.manage"))]
#: Any staff member may ask for a restricted use; the rules decide and every answer is audited.
User = Annotated[Principal, Depends(Permit("deid.use"))]
DatasetId = Annotated[str, Field(max_length=36)]


class DatasetOut(BaseModel):
    id: str
    kind: str
    status: str
    title: dict[str, str]
    purpose: str | None
    items: list[str]
    created_at: datetime | None
    safety_measures: dict[str, str] | None
    complaint_contact: dict[str, str] | None
    received: bool

    @classmethod
    def of(cls, row: DeidDataset) -> DatasetOut:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            title=row.title,
            purpose=row.purpose,
            items=list(row.items),
            created_at=row.created_at,
            safety_measures=row.safety_measures,
            complaint_contact=row.complaint_contact,
            received=row.received_from is not None,
        )


class PlanIn(BaseModel):
    plan: dict[str, Any] = Field(description="The plan, as its YAML file holds it (schema mamoru.deid/1).")
    safety_measures: Text | None = None
    complaint_contact: Text | None = None


class RunOut(BaseModel):
    run: str
    status: str = Field(description="running (queued or under way), completed or refused")
    rows: int
    suppressed: int
    smallest_class: int | None
    sha256: str | None


class PublicationIn(BaseModel):
    method: Text
    items: list[Annotated[str, Field(max_length=64)]] | None = None


class ProvisionIn(BaseModel):
    recipient: Annotated[str, Field(min_length=1, max_length=200)]
    basis: Basis
    publication_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    statement: bool = False


class UseIn(BaseModel):
    use: Use
    other_categories: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list)


class UseOut(BaseModel):
    allow: bool
    reason: str
    article: str | None


@router.get("/datasets", summary="The registers of pseudonymized and anonymized datasets")
def list_datasets(who: Reader, session: DbSession) -> list[DatasetOut]:
    return [DatasetOut.of(d) for d in reg.datasets(session)]


@router.post("/plans", status_code=201, summary="Check and store a plan, and register its dataset")
def store_plan(body: PlanIn, who: Manager, session: DbSession, ws: CurrentWorkspace) -> DatasetOut:
    plan = plan_from_data(body.plan)
    reg.store_plan(session, ws, plan, actor=who.actor)
    row = reg.register(
        session,
        ws,
        plan,
        actor=who.actor,
        safety_measures=body.safety_measures,
        complaint_contact=body.complaint_contact,
    )
    return DatasetOut.of(row)


@router.post(
    "/datasets/{dataset_id}/runs",
    status_code=202,
    summary="Run (or resume) the dataset's plan on the work queue (at once when there is no broker)",
)
def run(dataset_id: DatasetId, who: Manager, ws: CurrentWorkspace) -> RunOut:
    with ws.db.session() as session:
        run_id = runs.start(session, ws, dataset_id, actor=who.actor).id
    submit(ws, "deid.run", dataset_id=dataset_id, actor=who.actor)
    with ws.db.session() as session:
        r = session.get(DeidRun, run_id)
        assert r is not None
        return RunOut(
            run=r.id,
            status=r.status,
            rows=r.rows,
            suppressed=r.suppressed,
            smallest_class=r.smallest_class,
            sha256=r.sha256,
        )


@router.post(
    "/datasets/{dataset_id}/publications", status_code=201, summary="Publish a provision's items and method"
)
def publish(dataset_id: DatasetId, body: PublicationIn, who: Manager, session: DbSession) -> dict[str, int]:
    pub = reg.publish_provision(
        session, dataset_id, method=body.method, actor=who.actor, now=datetime.now(UTC), items=body.items
    )
    return {"publication": pub.id}


@router.post(
    "/datasets/{dataset_id}/provisions", status_code=201, summary="Provide a dataset (decided, audited)"
)
def provide(dataset_id: DatasetId, body: ProvisionIn, who: Manager, session: DbSession) -> dict[str, Any]:
    record = deid.provide(
        session,
        dataset_id,
        recipient=body.recipient,
        basis=body.basis,
        actor=who.actor,
        now=datetime.now(UTC),
        publication_id=body.publication_id,
        statement=body.statement,
    )
    return {"provision": record.id, "statement": record.statement}


@router.post("/datasets/{dataset_id}/uses", summary="Ask whether a restricted use is allowed (audited)")
def use(dataset_id: DatasetId, body: UseIn, who: User, session: DbSession, ws: CurrentWorkspace) -> UseOut:
    verdict = deid.ask(
        session, ws, dataset_id, body.use, other_categories=body.other_categories, actor=who.actor
    )
    return UseOut(allow=verdict.allow, reason=verdict.reason.value, article=verdict.article)


@router.post(
    "/datasets/{dataset_id}/retire", summary="Delete the dataset and its mapping; keep a disposal record"
)
def retire(dataset_id: DatasetId, who: Manager, session: DbSession, ws: CurrentWorkspace) -> dict[str, int]:
    record = reg.retire(session, ws, dataset_id, actor=who.actor, today=datetime.now(UTC).date())
    return {"disposal": record.id, "files": record.files, "mappings": record.mappings}
