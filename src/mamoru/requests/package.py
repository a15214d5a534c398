"""The answer to a request: a ZIP with the response letter (printable HTML) and, for disclosures, the
data as JSON and CSV, the provision and receipt records, and the access history with inclusion proofs.

Values are read through the guard (built-in purpose ``subject_request``); the decisions are audited in
the package step's transaction. The Individual Number is never put in a package: its handlers answer
for it separately (the letter says so when one is held).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.hazmat.primitives import serialization
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.proofs import inclusion_proofs, make_checkpoint
from mamoru.audit.query import entries_for
from mamoru.connectors.registry import connectors
from mamoru.files import csv_text
from mamoru.guard.decision import Action
from mamoru.guard.engine import SUBJECT_REQUEST
from mamoru.guard.service import decide_and_record
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import Acquisition, Cessation, Channel, Consent, DataSubject
from mamoru.policy.model import Policy, Processor, Recipient
from mamoru.requests import labels, letter
from mamoru.requests.plan import CLOSING_STEPS, steps_of
from mamoru.requests.sealed import details, identities_of
from mamoru.requests.status import Outcome
from mamoru.requests.tables import SubjectRequest
from mamoru.transfers.foreign import country_name
from mamoru.transfers.records import records_for
from mamoru.transfers.tables import ForeignCheck, ProvisionRecord
from mamoru.words import day, when, word
from mamoru.workspace import Workspace

#: A fixed time for ZIP members, so the same content makes the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
HISTORY_LIMIT = 10_000


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("mamoru.requests", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _subject_data(
    session: Session, ws: Workspace, subject_id: str, now: datetime, actor: str
) -> dict[str, Any]:
    policy = ws.policy.policy
    vault = ws.vault
    subject = session.get(DataSubject, subject_id)
    stored = vault.field_names(session, subject_id)
    number_fields = [f for f in stored if f in policy.fields and policy.category(policy.fields[f]).my_number]
    # APPI-41b (Art. 42(2)): the rights of Arts. 32-39 do not apply to pseudonymized information, so
    # it is neither read nor disclosed; the letter says it is held and why it is left out.
    pseudonymized = [
        f for f in stored if f in policy.fields and policy.category(policy.fields[f]).pseudonymized
    ]
    readable = [f for f in stored if f not in number_fields and f not in pseudonymized]
    categories = sorted({policy.fields[f] for f in readable if f in policy.fields})
    (decision,) = decide_and_record(
        session,
        ws.policy,
        actor=actor,
        purpose=SUBJECT_REQUEST,
        subjects=[subject_id],
        categories=categories,
        action=Action.EXPORT,
        now=now,
    )
    values = (
        vault.read(session, decision, subject_id, readable, categories_of=policy.fields)
        if decision.allow and readable
        else {}
    )
    fields = []
    for name in sorted(values):
        category = policy.fields.get(name)
        fields.append(
            {
                "field": name,
                "category": category,
                "category_name": policy.category(category).name.model_dump() if category else None,
                "value": values[name],
            }
        )
    channels = {c.id: c.name for c in session.scalars(select(Channel))}
    acquisitions = [
        {
            "acquired_at": _iso(a.acquired_at),
            "channel": channels.get(a.channel_id, a.channel_id),
            "source_type": a.source_type,
            "categories": a.categories,
            "purposes": a.purposes_notified,
            "retain_until": _iso(a.retain_until),
        }
        for a in session.scalars(select(Acquisition).where(Acquisition.subject_id == subject_id))
    ]
    consents = [
        {
            "scope": c.scope,
            "purpose": c.purpose,
            "recipient": c.recipient,
            "given_at": _iso(c.given_at),
            "withdrawn_at": _iso(c.withdrawn_at),
        }
        for c in session.scalars(select(Consent).where(Consent.subject_id == subject_id))
    ]
    cessations = [
        {"kind": c.kind, "purpose": c.purpose, "recipient": c.recipient, "since": _iso(c.effective_at)}
        for c in session.scalars(select(Cessation).where(Cessation.subject_id == subject_id))
        if c.lifted_at is None
    ]
    return {
        "subject_id": subject_id,
        "kind": subject.kind if subject else None,
        "fields": fields,
        "individual_number_held": bool(number_fields),
        "pseudonymized_held": bool(pseudonymized),
        "acquisitions": acquisitions,
        "consents": consents,
        "cessations": cessations,
    }


def _records(session: Session, subject_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    provisions, receipts = records_for(session, subject_ids)
    return {
        "provision_records": [
            {
                "subject_id": p.subject_id,
                "recipient": p.recipient,
                "basis": p.basis,
                "mode": p.mode,
                "data_items": p.categories,
                "consent_obtained": p.consent_id is not None,
                "provided_on": _iso(p.provided_on),
                "period_first": _iso(p.period_first),
                "period_last": _iso(p.period_last),
                "recorded_at": _iso(p.created_at),
            }
            for p in provisions
        ],
        "receipt_records": [
            {
                "subject_id": r.subject_id,
                "basis": r.basis,
                "mode": r.mode,
                "data_items": r.categories,
                "provider_name": r.provider_name,
                "provider_address": r.provider_address,
                "provider_representative": r.provider_representative,
                "acquisition_history": r.acquisition_history,
                "consent_obtained": r.consent_obtained,
                "received_on": _iso(r.received_on),
                "ppc_publication_ref": r.ppc_publication_ref,
                "recorded_at": _iso(r.created_at),
            }
            for r in receipts
        ],
    }


def access_history(session: Session, ws: Workspace, subject_ids: list[str]) -> dict[str, Any]:
    """Every audit entry naming these subjects, each with a proof that it is in a signed checkpoint."""
    checkpoint = make_checkpoint(session, ws.signer)
    entries = {
        e.seq: e for sid in subject_ids for e in entries_for(session, "subject", sid, limit=HISTORY_LIMIT)
    }
    ordered = [entries[s] for s in sorted(entries)]
    proofs = (
        {p.seq: p.to_json() for p in inclusion_proofs(session, sorted(entries), checkpoint)}
        if checkpoint is not None
        else {}
    )
    public_pem = ws.signer.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return {
        "entries": [
            {
                "seq": e.seq,
                "at": datetime.fromtimestamp(e.ts_us / 1_000_000, UTC).isoformat(),
                "actor": e.body["actor"],
                "action": e.body["action"],
                "purpose": e.body["purpose"],
                "decision": e.body["decision"],
                "reasons": e.body["reasons"],
                "subjects_named": [s for s in e.body["subjects"] if s in subject_ids],
                "proof": proofs.get(e.seq),
            }
            for e in ordered
        ],
        "checkpoint": checkpoint.to_json() if checkpoint else None,
        "public_key_pem": public_pem,
    }


def foreign_parties(
    session: Session, policy: Policy, subjects: list[str], today: date
) -> list[dict[str, Any]]:
    """The parties abroad the person's data may go to, with what APPI Art. 28 and Rules Art. 18(3) say a
    person may ask about: the country, its system, the party's measures, the route and the last check."""
    purposes = {
        p
        for (ps,) in session.execute(
            select(Acquisition.purposes_notified).where(Acquisition.subject_id.in_(subjects))
        )
        for p in ps
    }
    provided = set(
        session.scalars(select(ProvisionRecord.recipient).where(ProvisionRecord.subject_id.in_(subjects)))
    )
    out: list[dict[str, Any]] = []
    parties: list[tuple[str, Recipient | Processor]] = [
        *(("recipient", r) for r in policy.recipients),
        *(("processor", p) for p in policy.processors),
    ]
    for role, party in parties:
        if party.foreign is None:
            continue
        if not (purposes & set(party.purposes)) and party.id not in provided:
            continue
        check = session.scalar(
            select(ForeignCheck)
            .where(ForeignCheck.party == f"{role}:{party.id}")
            .order_by(ForeignCheck.checked_on.desc())
            .limit(1)
        )
        out.append(
            {
                "party": f"{role}:{party.id}",
                "name": party.name.model_dump(),
                "country": party.country,
                "route": party.foreign.route,
                "country_system": party.foreign.country_system.model_dump(),
                "measures": party.foreign.recipient_measures.model_dump(),
                "version": party.foreign.version,
                "checked_on": check.checked_on.isoformat() if check else None,
                "check_interval_days": party.foreign.check_interval_days,
            }
        )
    return out


def gather(
    session: Session, ws: Workspace, request: SubjectRequest, outcome: Outcome, now: datetime, actor: str
) -> dict[str, Any]:
    """What the answer contains, by kind; nothing when refused or when no data is held."""
    kind = RequestKind(request.kind)
    subjects = list(request.subjects)
    content: dict[str, Any] = {}
    if outcome in (Outcome.REFUSED, Outcome.NO_DATA):
        return content
    policy = ws.policy.policy
    if kind is RequestKind.DISCLOSURE:
        content["subjects"] = [_subject_data(session, ws, s, now, actor) for s in subjects]
        content.update(_records(session, subjects))
        content["access_history"] = access_history(session, ws, subjects)
    elif kind is RequestKind.PROVISION_RECORD_DISCLOSURE:
        content.update(_records(session, subjects))
    elif kind is RequestKind.ACCESS_HISTORY:
        content["access_history"] = access_history(session, ws, subjects)
    elif kind is RequestKind.PURPOSE_NOTIFICATION:
        ids = sorted(
            {
                p
                for (ps,) in session.execute(
                    select(Acquisition.purposes_notified).where(Acquisition.subject_id.in_(subjects))
                )
                for p in ps
            }
        )
        content["purposes"] = [
            {"id": p.id, "text": p.text.model_dump()} for p in policy.purposes if p.id in ids
        ]
    elif kind is RequestKind.FOREIGN_INFORMATION:
        content["foreign_parties"] = foreign_parties(session, policy, subjects, now.date())
    content["actions"] = [
        {"step": s.name, "subject_id": s.target, "result": s.result}
        for s in steps_of(session, request.id)
        if s.done_at is not None and s.name not in CLOSING_STEPS
    ]
    return content


def _csv(rows: list[list[Any]]) -> bytes:
    # BOM: Excel in Japan opens UTF-8 CSV correctly; a value that would start a formula gets a "'".
    return csv_text(rows, lineterminator="\r\n").encode("utf-8")


def render_letter(
    session: Session,
    ws: Workspace,
    request: SubjectRequest,
    outcome: Outcome,
    content: dict[str, Any],
    now: datetime,
) -> str:
    """The answer letter a person reads: words, not codes; times in Japan's time (:mod:`.letter`)."""
    policy = ws.policy.policy
    lang = request.lang if request.lang in ("ja", "en") else "ja"
    sealed = details(ws.vault, request)
    held: dict[str, str] = {}
    for action in content.get("actions", []):
        held.update(action["result"].get("held", {}))
    laws = {r.id: r.law.in_(lang) for r in policy.retention if r.law is not None}
    subjects = [
        {
            "groups": letter.field_groups(policy, s["fields"], lang),
            "acquisitions": [
                (day(a["acquired_at"], lang), [letter.purpose_label(policy, p, lang) for p in a["purposes"]])
                for a in s["acquisitions"]
            ],
        }
        for s in content.get("subjects", [])
    ]
    number_held = RequestKind(request.kind) is RequestKind.DISCLOSURE and (
        any(s["individual_number_held"] for s in content.get("subjects", []))
        or letter.holds_individual_number(session, list(request.subjects))
    )
    history = content.get("access_history")
    recipients = {r.id: r for r in policy.recipients}
    return (
        _templates()
        .get_template("letter.html.j2")
        .render(
            lang=lang,
            W=lambda key: word(key, lang),
            L=labels,
            country=lambda code: country_name(code, lang),
            day=lambda at: day(at, lang),
            request=request,
            outcome=outcome.value,
            content=content,
            dated=day(now, lang),
            received=day(request.received_at, lang),
            org=policy.organization,
            name=sealed["name"],
            agent_name=sealed.get("agent_name"),
            reasons=sealed.get("reasons", ""),
            corrections=[letter.field_label(policy, c["field"], lang) for c in sealed.get("corrections", [])],
            held=[(policy.category(c).name.in_(lang), laws.get(r, "")) for c, r in sorted(held.items())],
            subjects=subjects,
            provisions=[
                (
                    recipients[p["recipient"]].name.in_(lang)
                    if p["recipient"] in recipients
                    else p["recipient"],
                    ", ".join(_category_names(policy, p["data_items"], lang)),
                    day(p["provided_on"] or p["period_first"] or p["recorded_at"], lang)
                    + (f" – {day(p['period_last'], lang)}" if p["period_last"] else ""),
                )
                for p in content.get("provision_records", [])
            ],
            receipts=[
                (
                    r["provider_name"],
                    ", ".join(_category_names(policy, r["data_items"], lang)),
                    day(r["received_on"] or r["recorded_at"], lang),
                )
                for r in content.get("receipt_records", [])
            ],
            history=letter.history_sentences(session, policy, history["entries"], lang) if history else None,
            fee=letter.fee_line(request, lang),
            number_held=number_held,
            pseudonymized_held=any(s.get("pseudonymized_held") for s in content.get("subjects", [])),
        )
    )


def _category_names(policy: Policy, ids: list[str], lang: str) -> list[str]:
    known = {c.id: c for c in policy.categories}
    return [known[c].name.in_(lang) if c in known else str(c) for c in ids]


class _TableWriter:
    """Rows of one datastore straight into the package, a ZIP member per table, compressed as they come
    (a connector gives a table's rows one after another), so the rows are never all in memory."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str) -> None:
        self.archive, self.prefix = archive, prefix
        self.table: str | None = None
        self.out: IO[bytes] | None = None

    def __call__(self, table: str, line: bytes) -> None:
        if table != self.table:
            self.close()
            info = zipfile.ZipInfo(f"{self.prefix}/{table}.jsonl", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            self.table, self.out = table, self.archive.open(info, "w", force_zip64=True)
        assert self.out is not None
        self.out.write(line)

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


def _datastores(
    ws: Workspace, request: SubjectRequest, archive: zipfile.ZipFile
) -> dict[str, dict[str, int]]:
    """The person's rows in the organization's own datastores, as JSON lines per table."""
    wanted = {c.id for c in ws.policy.policy.categories if not c.my_number and not c.pseudonymized}
    identities = identities_of(ws.vault, request)
    counts: dict[str, dict[str, int]] = {}
    for name, connector in sorted(connectors(ws).items()):
        writer = _TableWriter(archive, f"datastores/{name}")
        try:
            counts[name] = connector.access(identities, wanted, writer)
        finally:
            writer.close()
    return counts


def build_package(
    session: Session, ws: Workspace, request: SubjectRequest, outcome: Outcome, now: datetime, actor: str
) -> bytes:
    lang = request.lang if request.lang in ("ja", "en") else "ja"
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - closed below
    archive = zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED)
    # The organization's datastores are read first, before this transaction audits anything: the
    # guard's decisions below append to the audit chain, which takes the head row's lock until the
    # step commits, and reading a large datastore under that lock made every other writer (and the
    # API calls waiting on it, each holding a pooled connection) wait for the whole read.
    stores = None
    if (
        outcome not in (Outcome.REFUSED, Outcome.NO_DATA)
        and RequestKind(request.kind) is RequestKind.DISCLOSURE
    ):
        try:
            stores = _datastores(ws, request, archive)
        except BaseException:
            # a datastore failed (the request stops in "needs attention"): close the half-written
            # package now, not at garbage collection, where the closed spool makes a traceback
            with spool, archive:
                pass
            raise
    content = gather(session, ws, request, outcome, now, actor)
    if content and stores is not None:
        content["datastores"] = stores
    letter_html = render_letter(session, ws, request, outcome, content, now)
    members: dict[str, bytes] = {f"letter-{request.lang}.html": letter_html.encode("utf-8")}
    if content:
        document = {
            "request": {
                "ref": request.ref,
                "kind": request.kind,
                "received_at": _iso(request.received_at),
                "answered_at": now.isoformat(),
                "outcome": outcome.value,
            },
            "organization": ws.policy.policy.organization.name.model_dump(),
            **content,
        }
        members["data.json"] = orjson.dumps(document, option=orjson.OPT_INDENT_2)
        if "subjects" in content:
            rows: list[list[Any]] = [["subject_id", "field", "category", "value"]]
            for subject in content["subjects"]:
                rows += [
                    [subject["subject_id"], f["field"], f["category"], f["value"]] for f in subject["fields"]
                ]
            members["data.csv"] = _csv(rows)
        if "access_history" in content:
            history = content["access_history"]
            rows = [["seq", "at", "at_jst", "actor", "action", "purpose", "decision"]]
            rows += [
                [e["seq"], e["at"], when(e["at"], lang), e["actor"], e["action"], e["purpose"], e["decision"]]
                for e in history["entries"]
            ]
            members["access-history.csv"] = _csv(rows)
            members["audit-public-key.pem"] = history["public_key_pem"].encode()
    with spool, archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
        archive.close()
        spool.seek(0)
        return spool.read()


def package_path(ws: Workspace, request_id: str) -> Path:
    """Where a request's sealed package is kept (sealed under the request's own key)."""
    return ws.settings.packages / f"{request_id}.zip.sealed"


def store_package(ws: Workspace, request: SubjectRequest, zipped: bytes) -> None:
    """Seal the package and write it in place of any earlier one: to a temporary file, synced, renamed,
    so that a crash leaves the old file or the new one, never half of one."""
    sealed = ws.vault.seal_private(request.id, "package", zipped)
    path = package_path(ws, request.id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(sealed)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
