"""Fulfilment as a journaled job: the plan's steps (:mod:`mamoru.requests.plan`) → package → complete.

Each step runs in one database transaction with its journal mark, its effects and its audit entries, so
a step is either wholly done or not at all. The effects outside the database are made safe to repeat:
the vault's key store destroys a key idempotently (and before the rows go), and the package is written
to a temporary file and renamed. A job killed at any moment resumes at the first step not marked done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, digest_ref
from mamoru.connectors.registry import connectors
from mamoru.connectors.sql import ConnectorFailed, Pending
from mamoru.errors import MamoruError
from mamoru.guard.decision import Action
from mamoru.guard.engine import SUBJECT_REQUEST
from mamoru.guard.service import decide_and_record
from mamoru.law.requests import RefusalGround
from mamoru.ledger.cessation import CessationKind, record_cessation
from mamoru.ledger.retention import dispose_subject
from mamoru.ledger.tables import Acquisition, DataSubject, LedgerEntry
from mamoru.requests.notify import answer_ready
from mamoru.requests.package import build_package, store_package
from mamoru.requests.plan import outcome_of, planned
from mamoru.requests.sealed import corrections_of, identities_of
from mamoru.requests.status import Status
from mamoru.requests.tables import RequestStep, SubjectRequest
from mamoru.workspace import Workspace

Progress = Callable[[str, int, str], None]


class Connector(Protocol):
    """An organization datastore a request reaches (the connectors issue registers them).

    Each method is idempotent and commits its own work; ``identities`` are the verified identity values.
    ``access`` calls ``write(table, lines)`` with one or more whole JSON lines of that table a call.
    """

    name: str

    def access(
        self, identities: dict[str, str], categories: set[str], write: Callable[[str, bytes], None]
    ) -> dict[str, int]: ...

    def correct(self, identities: dict[str, str], values: dict[str, str]) -> dict[str, Any]: ...

    def erase(self, identities: dict[str, str]) -> dict[str, Any]: ...

    def check_erasure(self, identities: dict[str, str]) -> None: ...

    def prepare(
        self, effect: str, identities: dict[str, str], values: dict[str, str] | None = None
    ) -> Pending: ...


class StepFailed(MamoruError):
    http_status = 409


@dataclass
class Context:
    ws: Workspace
    request: SubjectRequest
    now: datetime
    actor: str

    def audit(
        self,
        session: Session,
        action: str,
        *,
        subjects: tuple[str, ...] = (),
        objects_extra: Sequence[str] = (),
        reasons: tuple[str, ...] = (),
        purpose: str | None = None,
    ) -> None:
        event = AuditEvent(
            actor=self.actor,
            action=action,
            purpose=purpose,
            subjects=subjects,
            objects=(f"request:{self.request.id}", *objects_extra),
            reasons=reasons,
        )
        append(session, [event])


def held_categories(session: Session, ws: Workspace, subject_id: str, today: date) -> dict[str, str]:
    """Categories a law requires the organization to keep for this subject now: category -> rule id."""
    rules = {r.id: r for r in ws.policy.policy.retention if r.law is not None}
    held: dict[str, str] = {}
    rows = session.execute(
        select(Acquisition.categories, Acquisition.retain_until, LedgerEntry.retention_rule)
        .join(LedgerEntry, LedgerEntry.id == Acquisition.ledger_entry_id)
        .where(Acquisition.subject_id == subject_id)
    )
    for categories, retain_until, rule_id in rows:
        rule = rules.get(rule_id or "")
        if rule is None or (retain_until is not None and retain_until < today):
            continue
        for category in categories:
            if not rule.categories or category in rule.categories:
                held[category] = rule.id
    return held


@dataclass(frozen=True)
class SubjectPreview:
    """What erasing one person's data would do: the fields erased, and those a law requires us to keep
    (field -> retention rule), as :func:`_step_erase` will decide them."""

    subject_id: str
    erased: list[str]
    held: dict[str, str]
    already_erased: bool = False


@dataclass(frozen=True)
class ErasurePreview:
    """The confirmation an erasure is approved after: every subject's preview and the datastores outside
    mamoru the plan erases in first (``*``: every mapped datastore)."""

    subjects: list[SubjectPreview]
    datastores: list[str]


def erasure_preview(session: Session, ws: Workspace, request: SubjectRequest, today: date) -> ErasurePreview:
    """Preview, from the plan the approval would write, what erasing would remove and what the law
    holds back; nothing is decrypted, written or decided (field names only)."""
    steps = planned(request)
    mapping = ws.policy.policy.fields
    previews = []
    for _, subject_id in (s for s in steps if s[0] == "erase"):
        assert subject_id is not None
        subject = session.get(DataSubject, subject_id)
        if subject is None or subject.erased_at is not None:
            previews.append(SubjectPreview(subject_id, [], {}, already_erased=True))
            continue
        held = held_categories(session, ws, subject_id, today)
        fields = ws.vault.field_names(session, subject_id)
        previews.append(
            SubjectPreview(
                subject_id,
                [f for f in fields if mapping.get(f) not in held],
                {f: held[c] for f in fields if (c := mapping.get(f, "")) in held},
            )
        )
    return ErasurePreview(previews, [t for name, t in steps if name == "connector_erase" and t])


def _categories_of(ws: Workspace, fields: Sequence[str]) -> list[str]:
    mapping = ws.policy.policy.fields
    return sorted({mapping[f] for f in fields if f in mapping})


def _decide(session: Session, ctx: Context, subject_id: str, categories: list[str], action: Action) -> None:
    (decision,) = decide_and_record(
        session,
        ctx.ws.policy,
        actor=ctx.actor,
        purpose=SUBJECT_REQUEST,
        subjects=[subject_id],
        categories=categories,
        action=action,
        now=ctx.now,
    )
    if not decision.allow:
        raise StepFailed(
            f"the guard refused {action.value} for request {ctx.request.ref}: {', '.join(decision.reasons)}"
        )


def _step_correct(session: Session, ctx: Context, subject_id: str) -> dict[str, Any]:
    vault = ctx.ws.vault
    items = corrections_of(vault, ctx.request)
    # APPI-41b (Art. 42(2)): correction is not a right over pseudonymized information; such fields
    # are left as they are and named in the result.
    policy = ctx.ws.policy.policy
    exempt = sorted(
        f for f in items if f in policy.fields and policy.category(policy.fields[f]).pseudonymized
    )
    items = {f: v for f, v in items.items() if f not in exempt}
    _decide(session, ctx, subject_id, _categories_of(ctx.ws, list(items)), Action.CORRECT)
    before = vault.decrypt(session, subject_id, list(items))
    changed = {f: v for f, v in items.items() if before.get(f) != v}
    vault.store(session, subject_id, changed)
    objects: list[str] = []
    for name in sorted(changed):
        old = before.get(name)
        objects.append(f"field:{name}")
        objects.append(f"before:{vault.keyed_hash(f'value:{name}', old) if old is not None else 'absent'}")
        objects.append(f"after:{vault.keyed_hash(f'value:{name}', changed[name])}")
    ctx.audit(
        session, "request.correct", subjects=(subject_id,), purpose=SUBJECT_REQUEST, objects_extra=objects
    )
    result: dict[str, Any] = {"changed": sorted(changed), "unchanged": sorted(set(items) - set(changed))}
    if exempt:
        result["pseudonymized"] = exempt
    return result


def _step_erase(session: Session, ctx: Context, subject_id: str) -> dict[str, Any]:
    vault = ctx.ws.vault
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.erased_at is not None:
        return {"erased": "already"}
    held = held_categories(session, ctx.ws, subject_id, ctx.now.date())
    fields = vault.field_names(session, subject_id)
    mapping = ctx.ws.policy.policy.fields
    _decide(session, ctx, subject_id, _categories_of(ctx.ws, fields), Action.ERASE)
    if not held:
        record = dispose_subject(
            session, vault, subject_id, actor=ctx.actor, now=ctx.now, reason="subject_request"
        )
        return {"erased": "all", "disposal": record.id if record else None}
    erase = [f for f in fields if mapping.get(f) not in held]
    vault.drop_fields(session, subject_id, erase)
    purposes = sorted(
        {
            p
            for (ps,) in session.execute(
                select(Acquisition.purposes_notified).where(Acquisition.subject_id == subject_id)
            )
            for p in ps
        }
    )
    held_purposes = {
        p for rid in held.values() for r in ctx.ws.policy.policy.retention if r.id == rid for p in r.purposes
    }
    for purpose in purposes:
        if purpose not in held_purposes:
            record_cessation(
                session,
                subject_id=subject_id,
                kind="stop_use",
                purpose=purpose,
                effective_at=ctx.now,
                source_ref=f"request:{ctx.request.id}",
            )
    ctx.audit(
        session,
        "request.erase_partial",
        subjects=(subject_id,),
        reasons=(RefusalGround.STATUTORY_HOLD.value, *sorted({f"rule:{r}" for r in held.values()})),
        objects_extra=[f"field:{f}" for f in sorted(erase)],
    )
    return {"erased": "partial", "fields": sorted(erase), "held": held}


def _step_stop(session: Session, ctx: Context, subject_id: str, kind: CessationKind) -> dict[str, Any]:
    request = ctx.request
    chosen: list[str | None] = list(request.purposes if kind == "stop_use" else request.recipients)
    targets = chosen or [None]
    for target in targets:
        record_cessation(
            session,
            subject_id=subject_id,
            kind=kind,
            purpose=target if kind == "stop_use" else None,
            recipient=target if kind == "stop_provision" else None,
            effective_at=ctx.now,
            source_ref=f"request:{request.id}",
        )
    ctx.audit(
        session,
        f"request.{kind}",
        subjects=(subject_id,),
        objects_extra=[f"{'purpose' if kind == 'stop_use' else 'recipient'}:{t or 'all'}" for t in targets],
    )
    return {"stopped": [t or "all" for t in targets]}


class PartlyCommitted(MamoruError):
    """Every datastore had made its change, and one failed to commit after others had committed: what
    those others did is recorded (journal and audit) as done, the rest is to do again."""

    http_status = 502

    def __init__(self, done: dict[str, dict[str, Any]], failed: str, cause: MamoruError) -> None:
        self.done, self.failed, self.cause = done, failed, cause
        super().__init__(f"not committed in {failed}: {cause}")


def _step_connector(
    session: Session, ctx: Context, name: str, effect: str, earlier: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Correct or erase in the organization's datastores, all or none: every datastore makes its change
    in an open transaction first, and only when all have made theirs are they committed, one after the
    other. A datastore that refuses or fails rolls back every one. Should a commit itself fail after
    others committed, :class:`PartlyCommitted` names what was done so that it is recorded as done
    (``earlier``, on the next run, holds it: those datastores are not reached again)."""
    registered: dict[str, Connector] = dict(connectors(ctx.ws))
    chosen = sorted(registered) if name == "*" else [name]
    identities = identities_of(ctx.ws.vault, ctx.request)
    missing = [each for each in chosen if each not in registered]
    if missing:
        raise StepFailed(f"connector '{missing[0]}' is not registered")
    done: dict[str, dict[str, Any]] = dict((earlier or {}).get("done") or {})
    todo = [each for each in chosen if each not in done]
    if effect == "erase":  # every datastore's plan is checked before any of them changes
        for each in todo:
            registered[each].check_erasure(identities)
    values = corrections_of(ctx.ws.vault, ctx.request) if effect == "correct" else None
    pending: list[Pending] = []
    try:
        for each in todo:
            pending.append(registered[each].prepare(effect, identities, values))
    except BaseException:
        for made in pending:
            made.rollback()
        raise
    committed: dict[str, dict[str, Any]] = {}
    for i, made in enumerate(pending):
        try:
            committed[made.name] = made.commit()
        except MamoruError as exc:
            for rest in pending[i + 1 :]:
                rest.rollback()
            if committed:
                raise PartlyCommitted(committed, made.name, exc) from None
            raise
    for each in committed:
        ctx.audit(session, f"request.connector_{effect}", objects_extra=[f"datastore:{each}"])
    done |= committed
    return {"datastores": [done[each] for each in chosen if each in done]}


def _step_package(session: Session, ctx: Context) -> dict[str, Any]:
    zipped = build_package(session, ctx.ws, ctx.request, outcome_of(session, ctx.request), ctx.now, ctx.actor)
    store_package(ctx.ws, ctx.request, zipped)
    digest = hashlib.sha256(zipped).hexdigest()
    ctx.audit(session, "request.package_built", reasons=(digest_ref(zipped),))
    return {"sha256": digest, "bytes": len(zipped)}


def _step_notify(session: Session, ctx: Context) -> dict[str, Any]:
    return {"message": answer_ready(session, ctx.ws, ctx.request)}


def _step_complete(session: Session, ctx: Context) -> dict[str, Any]:
    request = ctx.request
    outcome = outcome_of(session, request)
    request.status = Status.COMPLETED.value
    request.completed_at = ctx.now
    request.outcome = outcome.value
    ctx.audit(
        session, "request.completed", subjects=tuple(request.subjects), reasons=(f"outcome:{outcome.value}",)
    )
    return {"outcome": outcome.value}


def _execute(session: Session, ctx: Context, step: RequestStep) -> dict[str, Any]:
    name = step.name
    if name in ("correct", "erase", "stop_use", "stop_provision") and step.target is not None:
        if name == "correct":
            return _step_correct(session, ctx, step.target)
        if name == "erase":
            return _step_erase(session, ctx, step.target)
        return _step_stop(session, ctx, step.target, "stop_use" if name == "stop_use" else "stop_provision")
    if name.startswith("connector_") and step.target is not None:
        return _step_connector(
            session, ctx, step.target, name.removeprefix("connector_"), step.result or None
        )
    if name == "package":
        return _step_package(session, ctx)
    if name == "notify":
        return _step_notify(session, ctx)
    if name == "complete":
        return _step_complete(session, ctx)
    raise StepFailed(f"unknown step '{name}'")


def _attention_code(exc: BaseException) -> str:
    from mamoru.connectors.sql import ErasureRefused
    from mamoru.errors import ConfigurationError

    if isinstance(exc, ErasureRefused):
        return "connector_refused"
    if isinstance(exc, ConfigurationError | StepFailed) or type(exc).__name__ == "PolicyError":
        return "connector_config"
    return "connector_failed"


def _needs_attention(ws: Workspace, request_id: str, position: int, exc: BaseException) -> None:
    """The request stops in "needs attention": the step stays not done, with the reason (our own message,
    never the datastore's, which can quote a row's values). Datastores that did commit (this run or an
    earlier one) are kept in the step's ``done``, and this run's get their audit entries now: the
    journal and the audit log say what changed where."""
    code = _attention_code(exc)
    detail = (
        str(exc) if isinstance(exc, MamoruError) else f"{type(exc).__name__} (see the datastore's own log)"
    )
    with ws.db.session() as session:
        request = session.get(SubjectRequest, request_id)
        step = session.get(RequestStep, (request_id, position))
        if request is None or step is None:
            return
        actor = request.decided_by or request.approved_by or "system:requests"
        ctx = Context(ws=ws, request=request, now=datetime.now(UTC), actor=actor)
        done = dict((step.result or {}).get("done") or {})
        if isinstance(exc, PartlyCommitted):
            for each in sorted(exc.done):
                ctx.audit(session, f"request.{step.name}", objects_extra=[f"datastore:{each}"])
            done |= exc.done
        if done:  # some datastores changed, others not: the words say so whatever stopped the rest
            code = "connector_partial"
            detail = f"done in {', '.join(sorted(done))}; " + detail
        request.status = Status.NEEDS_ATTENTION.value
        step.result = {"attention": code, "detail": detail, **({"done": done} if done else {})}
        ctx.audit(
            session,
            "request.needs_attention",
            reasons=(f"attention:{code}",),
            objects_extra=[f"step:{step.name}"],
        )


def attention(session: Session, request: SubjectRequest) -> dict[str, str] | None:
    """Why a request is in "needs attention": {"step", "target", "attention" (a code of
    :data:`mamoru.requests.labels.ATTENTION`), "detail"}; None when it is not."""
    if request.status != Status.NEEDS_ATTENTION:
        return None
    step = session.scalar(
        select(RequestStep)
        .where(RequestStep.request_id == request.id, RequestStep.done_at.is_(None))
        .order_by(RequestStep.position)
        .limit(1)
    )
    result = dict(step.result or {}) if step is not None else {}
    return {
        "step": step.name if step is not None else "",
        "target": (step.target or "") if step is not None else "",
        "attention": str(result.get("attention", "connector_failed")),
        "detail": str(result.get("detail", "")),
    }


def run(ws: Workspace, request_id: str, *, progress: Progress | None = None, retry: bool = False) -> str:
    """Run (or resume) a request's plan to the end; returns the request's status.

    A step in an organization datastore that fails (refused, a broken connection, a bad map) leaves the
    request in "needs attention" with the reason, and nothing of that step done: the datastore rolled
    its transaction back and the vault's erasure comes after the datastores'. ``retry`` (the office,
    after fixing the cause) runs such a request again from that step.
    """
    if retry:
        with ws.db.session() as session:
            request = session.get(SubjectRequest, request_id)
            if request is not None and request.status == Status.NEEDS_ATTENTION:
                request.status = Status.APPROVED.value
    while True:
        failed: tuple[int, BaseException] | None = None
        with ws.db.session() as session:
            request = session.get(SubjectRequest, request_id)
            if request is None:
                raise StepFailed(f"no request {request_id}")
            if request.status != Status.APPROVED:
                return request.status
            step = session.scalar(
                select(RequestStep)
                .where(RequestStep.request_id == request_id, RequestStep.done_at.is_(None))
                .order_by(RequestStep.position)
                .limit(1)
                .with_for_update()
            )
            if step is None:
                return request.status
            if progress:
                progress("start", step.position, step.name)
            actor = request.decided_by or request.approved_by or "system:requests"
            ctx = Context(ws=ws, request=request, now=datetime.now(UTC), actor=actor)
            position, name = step.position, step.name
            try:
                step.result = _execute(session, ctx, step)
                step.done_at = ctx.now
            except Exception as exc:
                # a datastore's failure (also while the package reads the person's rows, or a map
                # of <home>/datasets that does not check) stops the request, in words
                if not (
                    name.startswith("connector_")
                    or isinstance(exc, ConnectorFailed)
                    or (name == "package" and isinstance(exc, MamoruError))
                ):
                    raise
                session.rollback()
                failed = (position, exc)
        if failed is not None:
            _needs_attention(ws, request_id, *failed)
            if progress:
                progress("failed", position, name)
            return Status.NEEDS_ATTENTION.value
        if progress:
            progress("done", position, name)


def pending(ws: Workspace) -> list[str]:
    """Approved requests whose plan has not finished (to resume after a crash)."""
    with ws.db.session() as session:
        return list(
            session.scalars(
                select(SubjectRequest.id)
                .where(SubjectRequest.status == Status.APPROVED.value)
                .order_by(SubjectRequest.due_at)
            )
        )
