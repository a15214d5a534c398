"""The registers of pseudonymized and anonymized datasets, their publications, and retirement.

A pseudonymized dataset's purpose changes only together with its publication (APPI-41b). An anonymized
dataset names its safety measures and complaint contact (APPI-46), publishes its items when it is
created (the run does that, APPI-43) and the items and method of each provision before it (APPI-43,
APPI-44). Every change is audited, in the same transaction.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.connectors.maps import load_maps
from mamoru.connectors.registry import datasets_dir
from mamoru.deid.plan import (
    Kind,
    LedgerSource,
    Plan,
    PlanRefused,
    SourceShape,
    check_plan,
    shape_of_ledger,
    shape_of_table,
)
from mamoru.deid.tables import (
    DeidDataset,
    DeidDisposal,
    DeidMapping,
    DeidPlan,
    DeidPublication,
    DeidRun,
)
from mamoru.errors import Invalid, MamoruError, NotFound, problem
from mamoru.policy.model import Text
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.vault.service import flush_after_commit
from mamoru.workspace import Workspace


class PurposeChangeUnpublished(MamoruError):
    """A pseudonymized dataset's purpose changes only with its publication (APPI Art. 41(4))."""

    http_status = 409


class DatasetRetired(MamoruError):
    http_status = 409


def output_root(ws: Workspace) -> Path:
    return ws.settings.home / "deid"


def source_shape(session: Session, ws: Workspace, plan: Plan) -> SourceShape:
    """What the plan's source offers, classified by the policy and the dataset maps."""
    policy = ws.policy.policy
    if isinstance(plan.source, LedgerSource):
        return shape_of_ledger(policy, sorted(policy.fields))
    maps = {m.name: m for m in load_maps(datasets_dir(ws), policy)}
    dataset = maps.get(plan.source.datastore)
    if dataset is None:
        raise Invalid([problem("source.datastore", f"no dataset map named '{plan.source.datastore}'")])
    return shape_of_table(policy, dataset, plan.source.table)


def store_plan(session: Session, ws: Workspace, plan: Plan, *, actor: str) -> DeidPlan:
    """Check the plan against the processing standards and keep this version; refused plans are audited
    (codes only) and stored nowhere."""
    if plan.purpose not in {p.id for p in ws.policy.policy.purposes}:
        raise Invalid([problem("purpose", f"'{plan.purpose}' is not a purpose of the policy")])
    problems = check_plan(plan, source_shape(session, ws, plan))
    if problems:
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="deid.plan_refused",
                    objects=(f"deid_plan:{plan.id}",),
                    decision="deny",
                    reasons=tuple(sorted({p.code for p in problems})),
                    counts={"problems": len(problems)},
                )
            ],
        )
        raise PlanRefused(problems)
    row = session.get(DeidPlan, (plan.id, plan.version))
    spec = plan.model_dump(mode="json", by_alias=True)
    if row is not None:
        if Plan.model_validate(row.spec) != plan:
            raise Invalid([problem("version", f"plan {plan.id} v{plan.version} exists: raise the version")])
        return row
    row = DeidPlan(plan_id=plan.id, version=plan.version, kind=plan.kind.value, spec=spec, stored_by=actor)
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="deid.plan_stored",
                objects=(f"deid_plan:{plan.id}", f"version:{plan.version}"),
                counts={"fields": len(plan.fields)},
            )
        ],
    )
    return row


def load_stored_plan(session: Session, plan_id: str, version: int | None = None) -> Plan:
    query = select(DeidPlan).where(DeidPlan.plan_id == plan_id)
    if version is not None:
        query = query.where(DeidPlan.version == version)
    row = session.scalars(query.order_by(DeidPlan.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"no stored plan '{plan_id}'")
    return Plan.model_validate(row.spec)


def plans(session: Session) -> list[DeidPlan]:
    return list(session.scalars(select(DeidPlan).order_by(DeidPlan.plan_id, DeidPlan.version.desc())))


#: What the register's list may be sorted and filtered by (the title is JSON in two languages: not sorted).
DATASETS = ListSpec(
    sorts={
        "created": (DeidDataset.created_at,),
        "kind": (DeidDataset.kind,),
        "status": (DeidDataset.status,),
        "purpose": (DeidDataset.purpose,),
    },
    default="created",
    tiebreak=DeidDataset.id,
    filters={
        "kind": Filter(DeidDataset.kind, {"pseudonymized", "anonymized"}),
        "status": Filter(DeidDataset.status, {"registered", "created", "retired"}),
        "purpose": Filter(DeidDataset.purpose),
    },
)


def dataset_page(session: Session, asked: ListQuery) -> Page[DeidDataset]:
    """One page of the register as ``asked`` (see :data:`DATASETS`)."""
    return list_page(session, select(DeidDataset), DATASETS, asked)


def datasets(session: Session, kind: Kind | None = None) -> list[DeidDataset]:
    query = select(DeidDataset).order_by(DeidDataset.registered_at)
    if kind is not None:
        query = query.where(DeidDataset.kind == kind.value)
    return list(session.scalars(query))


def dataset(session: Session, dataset_id: str) -> DeidDataset:
    row = session.get(DeidDataset, dataset_id)
    if row is None:
        raise NotFound(f"no dataset '{dataset_id}'")
    return row


def _text(value: Text | None, where: str, why: str) -> dict[str, str]:
    if value is None:
        raise Invalid([problem(where, why, "missing")])
    return {"ja": value.ja, "en": value.en}


def register(
    session: Session,
    ws: Workspace,
    plan: Plan,
    *,
    actor: str,
    safety_measures: Text | None = None,
    complaint_contact: Text | None = None,
) -> DeidDataset:
    """A new register entry for the dataset a stored plan will create. An anonymized dataset names its
    safety measures and its complaint contact (APPI-46); a pseudonymized one its purpose (APPI-41b)."""
    load_stored_plan(session, plan.id, plan.version)
    anonymized = plan.kind is Kind.ANONYMIZED
    row = DeidDataset(
        id=str(uuid.uuid4()),
        kind=plan.kind.value,
        plan_id=plan.id,
        plan_version=plan.version,
        title={"ja": plan.title.ja, "en": plan.title.en},
        purpose=plan.purpose,
        safety_measures=_text(safety_measures, "safety_measures", "APPI-46: name the safety measures")
        if anonymized
        else (None if safety_measures is None else _text(safety_measures, "", "")),
        complaint_contact=_text(complaint_contact, "complaint_contact", "APPI-46: name the complaint contact")
        if anonymized
        else None,
        mapping_key=None if anonymized else str(uuid.uuid4()),
        registered_by=actor,
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "deid.registered", row)
    return row


def register_received(
    session: Session,
    *,
    title: Text,
    items: list[str],
    received_from: str,
    safety_measures: Text,
    complaint_contact: Text,
    actor: str,
    now: datetime,
) -> DeidDataset:
    """An anonymized dataset received from another business (APPI-44): provided on only like our own."""
    if not items:
        raise Invalid([problem("items", "the items the dataset holds", "missing")])
    row = DeidDataset(
        id=str(uuid.uuid4()),
        kind=Kind.ANONYMIZED.value,
        title={"ja": title.ja, "en": title.en},
        items=list(items),
        received_from=received_from,
        safety_measures=_text(safety_measures, "safety_measures", "APPI-46"),
        complaint_contact=_text(complaint_contact, "complaint_contact", "APPI-46"),
        status="created",
        created_at=now,
        registered_by=actor,
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "deid.received", row)
    return row


def _audit(session: Session, actor: str, action: str, row: DeidDataset, **counts: int) -> None:
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action=action,
                objects=(f"deid_dataset:{row.id}", f"kind:{row.kind}"),
                counts=dict(counts),
            )
        ],
    )


def publish_creation(session: Session, row: DeidDataset, *, actor: str, now: datetime) -> DeidPublication:
    """The items of an anonymized dataset, published when it is created (APPI Art. 43(3))."""
    pub = DeidPublication(
        dataset_id=row.id, kind="created", items=list(row.items), published_by=actor, published_at=now
    )
    session.add(pub)
    session.flush()
    return pub


def publish_provision(
    session: Session,
    dataset_id: str,
    *,
    method: Text,
    actor: str,
    now: datetime,
    items: list[str] | None = None,
) -> DeidPublication:
    """Publish, before a provision, the items it carries and how it is provided (APPI Arts. 43(4), 44)."""
    row = dataset(session, dataset_id)
    if row.kind != Kind.ANONYMIZED.value:
        raise Invalid([problem("dataset", "only anonymized datasets are published for provision")])
    if row.status != "created":
        raise Invalid([problem("dataset", "the dataset is not created yet, or retired")])
    chosen = list(items) if items else list(row.items)
    unknown = sorted(set(chosen) - set(row.items))
    if unknown:
        raise Invalid([problem("items", f"not items of the dataset: {', '.join(unknown)}")])
    pub = DeidPublication(
        dataset_id=row.id,
        kind="provision",
        items=chosen,
        method={"ja": method.ja, "en": method.en},
        published_by=actor,
        published_at=now,
    )
    session.add(pub)
    session.flush()
    _audit(session, actor, "deid.published", row, items=len(chosen))
    return pub


def change_purpose(
    session: Session,
    ws: Workspace,
    dataset_id: str,
    purpose: str,
    *,
    publish: bool,
    actor: str,
    now: datetime,
) -> DeidPublication:
    """Change a pseudonymized dataset's purpose; the new purpose is published in the same transaction
    (APPI Art. 41(4)). Without ``publish`` nothing changes."""
    row = dataset(session, dataset_id)
    if row.kind != Kind.PSEUDONYMIZED.value:
        raise Invalid([problem("dataset", "only a pseudonymized dataset's purpose is changed here")])
    if purpose not in {p.id for p in ws.policy.policy.purposes}:
        raise Invalid([problem("purpose", f"'{purpose}' is not a purpose of the policy")])
    if not publish:
        raise PurposeChangeUnpublished("APPI-41b: publish the new purpose to change it")
    row.purpose = purpose
    pub = DeidPublication(
        dataset_id=row.id, kind="purpose", purpose=purpose, published_by=actor, published_at=now
    )
    session.add(pub)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="deid.purpose_changed",
                objects=(f"deid_dataset:{row.id}", f"purpose:{purpose}", f"deid_publication:{pub.id}"),
            )
        ],
    )
    return pub


def publications(session: Session, dataset_id: str | None = None) -> list[DeidPublication]:
    query = select(DeidPublication).order_by(DeidPublication.published_at, DeidPublication.id)
    if dataset_id is not None:
        query = query.where(DeidPublication.dataset_id == dataset_id)
    return list(session.scalars(query))


def retire(session: Session, ws: Workspace, dataset_id: str, *, actor: str, today: date) -> DeidDisposal:
    """Delete a dataset that is no longer needed (APPI Art. 41(5)): its files, and its token mapping by
    destroying the mapping's key first, then its rows. Keeps a disposal record; idempotent."""
    row = dataset(session, dataset_id)
    done = session.scalars(select(DeidDisposal).where(DeidDisposal.dataset_id == row.id)).first()
    if done is not None and row.status == "retired":
        return done
    folder = output_root(ws) / row.id
    files = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    shutil.rmtree(folder, ignore_errors=True)
    mappings = session.scalar(
        select(func.count()).select_from(DeidMapping).where(DeidMapping.dataset_id == row.id)
    )
    if row.mapping_key is not None:
        ws.vault.keystore.destroy_subject_key(row.mapping_key)
    session.execute(delete(DeidMapping).where(DeidMapping.dataset_id == row.id))
    flush_after_commit(session)
    for run in session.scalars(select(DeidRun).where(DeidRun.dataset_id == row.id)):
        run.folder = None
    row.status = "retired"
    row.retired_at = datetime.combine(today, datetime.min.time()).astimezone()
    record = DeidDisposal(
        dataset_id=row.id,
        disposed_on=today,
        method="delete_and_crypto_erase",
        files=files,
        mappings=mappings or 0,
        responsible=actor,
    )
    session.add(record)
    session.flush()
    _audit(session, actor, "deid.retired", row, files=files, mappings=mappings or 0)
    return record


@dataclass(frozen=True)
class ProvisionEntry:
    items: list[str]
    method: dict[str, str] | None
    published_at: datetime


@dataclass(frozen=True)
class AnonymizedEntry:
    id: str
    title: dict[str, str]
    items: list[str]
    created_at: datetime | None
    safety_measures: dict[str, str] | None
    complaint_contact: dict[str, str] | None
    received: bool
    provisions: list[ProvisionEntry]
    item_labels: dict[str, dict[str, str]]  # item -> {ja, en}, where the plan gives a label


@dataclass(frozen=True)
class PseudonymizedEntry:
    id: str
    title: dict[str, str]
    purpose: str | None
    purpose_published_at: datetime | None


@dataclass(frozen=True)
class PublicRegister:
    anonymized: list[AnonymizedEntry]
    pseudonymized: list[PseudonymizedEntry]


def _item_labels(session: Session, row: DeidDataset) -> dict[str, dict[str, str]]:
    if row.plan_id is None:
        return {}
    plan = load_stored_plan(session, row.plan_id, row.plan_version)
    return {f.name: {"ja": f.label.ja, "en": f.label.en} for f in plan.fields if f.label is not None}


def public_register(session: Session) -> PublicRegister:
    """What the portal publishes, from the register: each anonymized dataset's items, creation date,
    safety measures and complaint contact, and each provision's items and method (APPI-43, 44, 46);
    each pseudonymized dataset's purpose and when it was last published (APPI-41b). Retired and
    not-yet-created anonymized datasets are left out."""
    pubs = publications(session)
    anonymized = [
        AnonymizedEntry(
            id=row.id,
            title=row.title,
            items=list(row.items),
            created_at=row.created_at,
            safety_measures=row.safety_measures,
            complaint_contact=row.complaint_contact,
            received=row.received_from is not None,
            provisions=[
                ProvisionEntry(p.items, p.method, p.published_at)
                for p in pubs
                if p.dataset_id == row.id and p.kind == "provision"
            ],
            item_labels=_item_labels(session, row),
        )
        for row in datasets(session, Kind.ANONYMIZED)
        if row.status == "created"
    ]
    pseudonymized = [
        PseudonymizedEntry(
            id=row.id,
            title=row.title,
            purpose=row.purpose,
            purpose_published_at=max(
                (p.published_at for p in pubs if p.dataset_id == row.id and p.kind == "purpose"), default=None
            ),
        )
        for row in datasets(session, Kind.PSEUDONYMIZED)
        if row.status != "retired"
    ]
    return PublicRegister(anonymized, pseudonymized)
