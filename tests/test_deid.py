"""Pseudonymized and anonymized information (APPI Arts. 41-46): plans and their check, runs, registers,
publication, the restricted uses, retirement. Each test is named by the requirement it proves."""

from __future__ import annotations

import csv
import hashlib
import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from mamoru.audit.query import entries_for
from mamoru.deid import register as reg
from mamoru.deid import runs, service
from mamoru.deid.breach import open_breach
from mamoru.deid.plan import FieldClass, Kind, PlanRefused, SourceShape, check_plan, parse_plan
from mamoru.deid.rules import Basis, Use, UseRequest, decide_use
from mamoru.deid.tables import DeidDataset, DeidMapping, DeidRunStep
from mamoru.deid.transform import generalize, measure, new_token, prefecture
from mamoru.guard.decision import Reason
from mamoru.incidents import service as incidents
from mamoru.ledger.tables import DataSubject
from mamoru.policy.model import Text
from mamoru.settings import Settings
from mamoru.workspace import Workspace

NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
ACTOR = "staff:deid-tester"
PREFS = ["東京都千代田区", "大阪府大阪市", "北海道札幌市", "福岡県福岡市"]
MEASURES = Text(ja="アクセス制御と暗号化", en="Access control and encryption")
CONTACT = Text(ja="個人情報相談窓口", en="Privacy desk")

MAP = """\
schema: mamoru.dataset/1
name: members
url_env: DEID_TEST_URL
tables:
  - name: members
    primary_key: id
    identities: {email: email}
    fields:
      - {name: id}
      - {name: name, categories: [identity]}
      - {name: email, categories: [contact]}
      - {name: birth_date, categories: [identity]}
      - {name: address, categories: [contact]}
      - {name: my_number, categories: [my_number]}
      - {name: passport, categories: [id_document]}
      - {name: card, categories: [payment]}
      - {name: visits, categories: [usage_log]}
      - {name: plan}
"""

PSEUDO = """\
schema: mamoru.deid/1
id: usage_pseudo
kind: pseudonymized
title: {ja: 利用履歴（仮名加工）, en: Usage history (pseudonymized)}
purpose: research
source: {kind: table, datastore: members, table: members}
fields:
  - {name: id, treatment: token}
  - {name: name, treatment: drop}
  - {name: email, treatment: token}
  - {name: birth_date, treatment: generalize, generalize: year}
  - {name: address, treatment: generalize, generalize: prefecture}
  - {name: my_number, treatment: drop}
  - {name: passport, treatment: drop}
  - {name: card, treatment: drop}
  - {name: visits, treatment: keep}
  - {name: plan, treatment: keep}
"""

ANON = """\
schema: mamoru.deid/1
id: usage_stats
kind: anonymized
title: {ja: 利用統計（匿名加工）, en: Usage statistics (anonymized)}
purpose: research
source: {kind: table, datastore: members, table: members}
fields:
  - {name: birth_date, treatment: generalize, generalize: age_band, width: 20}
  - {name: address, treatment: generalize, generalize: prefecture}
  - {name: visits, treatment: top_bottom, top: 50}
  - {name: plan, treatment: keep}
quasi_identifiers: [birth_date, address, plan]
"""


def _members(path: Path, rows: int = 120, rare: bool = True) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE members (id INTEGER PRIMARY KEY, name TEXT, email TEXT, birth_date TEXT, address TEXT,"
        " my_number TEXT, passport TEXT, card TEXT, visits INTEGER, plan TEXT)"
    )
    data = [
        (
            i,
            f"会員{i}",
            f"m{i}@example.jp",
            f"{1960 + (i % 2) * 30}-04-0{1 + i % 9}",
            PREFS[i % 4],
            f"{i:012d}",
            f"TK{i:07d}",
            f"4111111111{i:06d}",
            i % 80,
            "basic" if i % 2 else "pro",
        )
        for i in range(1, rows + 1)
    ]
    if rare:
        data.append((rows + 1, "稀", "rare@example.jp", "1930-01-01", "沖縄県那覇市", "", "", "", 3, "pro"))
    conn.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?,?)", data)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


@pytest.fixture
def ws(
    workspace: Workspace, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """The workspace with an identification-code category in its policy and a mapped members table."""
    policy = settings.resolved_policy_file
    text = policy.read_text(encoding="utf-8")
    policy.write_text(
        text.replace(
            "categories:\n",
            "categories:\n  - id: id_document\n    name: {ja: 旅券番号等, en: Passport and licence numbers}\n"
            "    identification_code: true\n",
            1,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DEID_TEST_URL", _members(tmp_path / "members.db"))
    (settings.home / "datasets").mkdir(exist_ok=True)
    (settings.home / "datasets" / "members.yaml").write_text(MAP, encoding="utf-8")
    # The first opening's connections end here: a demo copied from this database (PostgreSQL: CREATE
    # DATABASE … TEMPLATE) needs it to have no other session.
    workspace.db.dispose()
    workspace.keystore.dispose()
    return Workspace.open(settings)


def _dataset(ws: Workspace, source: str, **kw: object) -> str:
    plan = parse_plan(source)
    with ws.db.session() as session:
        reg.store_plan(session, ws, plan, actor=ACTOR)
        row = reg.register(session, ws, plan, actor=ACTOR, **kw)  # type: ignore[arg-type]
        return row.id


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "dataset.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _actions(ws: Workspace, action: str) -> list[dict[str, object]]:
    with ws.db.session() as session:
        return [
            e.body for e in entries_for(session, "actor", ACTOR, limit=1000) if e.body["action"] == action
        ]


# --- APPI-41a: the processing standards for pseudonymized information ----------------------------------


def _shape() -> SourceShape:
    return SourceShape(
        {
            "id": FieldClass("id", linking=True),
            "name": FieldClass("name", identifying=True),
            "my_number": FieldClass("my_number", identification_code=True),
            "passport": FieldClass("passport", identification_code=True),
            "card": FieldClass("card", financial=True),
            "visits": FieldClass("visits"),
            "note": FieldClass("note", classified=False),
        },
        key="id",
    )


@pytest.mark.parametrize(
    ("field", "treatment", "code"),
    [
        ("my_number", "keep", "identification_code_kept"),
        ("my_number", "token", "identification_code_kept"),
        ("passport", "keep", "identification_code_kept"),
        ("card", "keep", "financial_kept"),
        ("card", "token", "financial_kept"),
        ("name", "keep", "identifying_kept"),
        ("note", "keep", "unclassified_kept"),
    ],
)
def test_appi_41a_a_plan_that_keeps_a_code_a_card_or_a_name_is_refused(
    field: str, treatment: str, code: str
) -> None:
    plan = parse_plan(
        PSEUDO.replace("fields:\n", f"fields:\n  - {{name: {field}, treatment: {treatment}}}\n").replace(
            f"  - {{name: {field}, treatment: drop}}\n", ""
        )
    )
    shape = _shape()
    shape.columns.update({n: FieldClass(n) for n in ("email", "birth_date", "address", "plan")})
    problems = check_plan(plan, shape)
    assert [(p.field, p.code, p.requirement) for p in problems] == [(field, code, "APPI-41a")]


def test_appi_41a_a_plan_keeping_the_my_number_column_is_refused_audited_and_not_stored(
    ws: Workspace,
) -> None:
    plan = parse_plan(
        PSEUDO.replace("{name: my_number, treatment: drop}", "{name: my_number, treatment: keep}")
    )
    with pytest.raises(PlanRefused) as refused, ws.db.session() as session:
        reg.store_plan(session, ws, plan, actor=ACTOR)
    assert [p.code for p in refused.value.plan_problems] == ["identification_code_kept"]
    assert "APPI-41a" in str(refused.value)
    [entry] = _actions(ws, "deid.plan_refused")
    assert entry["reasons"] == ["identification_code_kept"]
    with ws.db.session() as session:
        assert reg.plans(session) == []


def test_appi_41a_tokens_are_random_per_dataset_and_kept_only_in_the_sealed_mapping(ws: Workspace) -> None:
    first, second = _dataset(ws, PSEUDO), _dataset(ws, PSEUDO)
    one = runs.perform(ws, first, actor=ACTOR, now=NOW, page_size=50)
    two = runs.perform(ws, second, actor=ACTOR, now=NOW, page_size=50)
    a, b = _rows(one.folder), _rows(two.folder)
    assert list(a[0]) == ["id", "email", "birth_date", "address", "visits", "plan"]  # no code, no card
    assert a[0]["address"] == "大阪府" and a[0]["birth_date"] == "1990"
    # The same input, two datasets without a shared mapping: different tokens.
    assert all(x["email"] != y["email"] for x, y in zip(a, b, strict=True))
    assert "m1@example.jp" not in (one.folder / "dataset.csv").read_text(encoding="utf-8")
    # The same dataset run again uses its stored mapping: the same tokens.
    again = runs.perform(ws, first, actor=ACTOR, now=NOW, page_size=50)
    assert [r["email"] for r in _rows(again.folder)] == [r["email"] for r in a]
    with ws.db.session() as session:
        stored = list(session.scalars(select(DeidMapping).where(DeidMapping.dataset_id == first)))
        assert len(stored) == 2 * len(a)  # id and email, once each
        assert all(b"@example.jp" not in m.sealed for m in stored)
        row = session.get(DeidDataset, first)
        assert row is not None and row.mapping_key is not None
        email = next(m for m in stored if m.field == "email")
        assert ws.vault.open_private(row.mapping_key, "email", email.sealed).endswith(b"@example.jp")


def test_appi_41a_a_run_writes_a_manifest_with_items_count_version_date_and_hash(ws: Workspace) -> None:
    result = runs.perform(ws, _dataset(ws, PSEUDO), actor=ACTOR, now=NOW, page_size=40)
    manifest = orjson.loads((result.folder / "manifest.json").read_bytes())
    data = (result.folder / "dataset.csv").read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert manifest["row_count"] == result.rows == 121
    assert (manifest["plan"], manifest["plan_version"], manifest["created_at"]) == (
        "usage_pseudo",
        1,
        NOW.isoformat(),
    )
    assert manifest["items"] == ["id", "email", "birth_date", "address", "visits", "plan"]
    assert "parquet" in manifest["formats"]
    [entry] = _actions(ws, "deid.run_completed")
    assert entry["counts"] == {"rows": 121, "suppressed": 0, "items": 6, "pages": 4}


def test_appi_41a_a_stopped_run_resumes_after_the_last_page_it_marked_done(ws: Workspace) -> None:
    dataset_id = _dataset(ws, PSEUDO)
    with pytest.raises(runs.RunStopped):
        runs.perform(ws, dataset_id, actor=ACTOR, now=NOW, page_size=50, stop_after_pages=2)
    result = runs.perform(ws, dataset_id, actor=ACTOR, now=NOW, page_size=50)
    assert result.rows == 121
    rows = _rows(result.folder)
    assert len({r["id"] for r in rows}) == 121  # no page twice, none missing
    with ws.db.session() as session:
        steps = session.scalar(
            select(func.count()).select_from(DeidRunStep).where(DeidRunStep.run_id == result.run_id)
        )
        assert steps == 3
        assert session.scalar(select(func.count()).select_from(DeidMapping)) == 2 * 121


# --- APPI-41b: rules for pseudonymized information --------------------------------------------------


def test_appi_41b_the_purpose_changes_only_with_its_publication(ws: Workspace) -> None:
    dataset_id = _dataset(ws, PSEUDO)
    with pytest.raises(reg.PurposeChangeUnpublished), ws.db.session() as session:
        reg.change_purpose(session, ws, dataset_id, "services", publish=False, actor=ACTOR, now=NOW)
    with ws.db.session() as session:
        assert reg.dataset(session, dataset_id).purpose == "research"
        pub = reg.change_purpose(session, ws, dataset_id, "services", publish=True, actor=ACTOR, now=NOW)
        assert (pub.kind, pub.purpose) == ("purpose", "services")
        assert reg.dataset(session, dataset_id).purpose == "services"


def test_appi_41b_provision_to_a_third_party_is_refused_and_audited_entrustment_is_not(ws: Workspace) -> None:
    dataset_id = _dataset(ws, PSEUDO)
    runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    with pytest.raises(service.DeidRefused) as refused, ws.db.session() as session:
        service.provide(
            session, dataset_id, recipient="分析会社", basis=Basis.THIRD_PARTY, actor=ACTOR, now=NOW
        )
    assert refused.value.verdict.reason is Reason.PSEUDONYMIZED_NO_PROVISION
    with ws.db.session() as session:
        record = service.provide(
            session, dataset_id, recipient="委託先", basis=Basis.ENTRUSTMENT, actor=ACTOR, now=NOW
        )
        assert record.statement is None
    entries = _actions(ws, "deid.provide")
    assert [(e["decision"], e["reasons"]) for e in entries] == [
        ("deny", ["pseudonymized_no_provision", "appi-41-6"]),
        ("allow", ["allowed"]),
    ]


def test_appi_41b_a_join_with_the_identity_table_and_contact_are_denied_and_audited(ws: Workspace) -> None:
    dataset_id = _dataset(ws, PSEUDO)
    with pytest.raises(service.DeidRefused) as joined, ws.db.session() as session:
        service.join(session, ws, dataset_id, other_categories=["identity", "contact"], actor=ACTOR, now=NOW)
    assert joined.value.verdict.reason is Reason.PSEUDONYMIZED_NO_JOIN
    with pytest.raises(service.DeidRefused) as contacted, ws.db.session() as session:
        service.contact(session, dataset_id, actor=ACTOR, now=NOW)
    assert contacted.value.verdict.reason is Reason.PSEUDONYMIZED_NO_CONTACT
    with ws.db.session() as session:  # statistics of another kind: no identity, allowed
        assert service.join(session, ws, dataset_id, other_categories=["survey"], actor=ACTOR, now=NOW).allow
    assert [e["reasons"] for e in _actions(ws, "deid.join")] == [
        ["pseudonymized_no_join", "appi-41-7"],
        ["allowed"],
    ]
    assert [e["reasons"] for e in _actions(ws, "deid.contact")] == [["pseudonymized_no_contact", "appi-41-8"]]


def test_appi_41b_a_retired_dataset_leaves_a_disposal_record_and_no_files_mapping_or_key(
    ws: Workspace,
) -> None:
    dataset_id = _dataset(ws, PSEUDO)
    result = runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    with ws.db.session() as session:
        key = reg.dataset(session, dataset_id).mapping_key
        record = reg.retire(session, ws, dataset_id, actor=ACTOR, today=NOW.date())
        assert (record.method, record.mappings, record.files) == ("delete_and_crypto_erase", 242, 3)
    assert not result.folder.exists()
    assert key is not None and ws.vault.keystore.subject_key(key) is None
    with ws.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DeidMapping)) == 0
        assert (
            reg.retire(session, ws, dataset_id, actor=ACTOR, today=NOW.date()).id == record.id
        )  # idempotent
    with pytest.raises(reg.DatasetRetired):
        runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    assert len(_actions(ws, "deid.retired")) == 1


# --- APPI-43: anonymized information ----------------------------------------------------------------------


def test_appi_43_an_output_with_a_class_smaller_than_k_is_refused_with_the_smallest_class(
    ws: Workspace,
) -> None:
    dataset_id = _dataset(ws, ANON, safety_measures=MEASURES, complaint_contact=CONTACT)
    with pytest.raises(runs.KAnonymityNotMet) as refused:
        runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    assert refused.value.result.smallest == 1 and refused.value.result.k == 5
    assert "smallest class of quasi-identifiers has 1 rows, below k=5" in str(refused.value)
    assert list((reg.output_root(ws) / dataset_id).rglob("dataset.csv")) == []
    [entry] = _actions(ws, "deid.run_refused")
    assert entry["counts"] == {"k": 5, "smallest_class": 1, "classes_below_k": 1}


def test_appi_43_suppression_drops_the_rare_rows_and_every_class_reaches_k(ws: Workspace) -> None:
    dataset_id = _dataset(
        ws, ANON + "suppress_rare: true\n", safety_measures=MEASURES, complaint_contact=CONTACT
    )
    result = runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    rows = _rows(result.folder)
    assert (result.rows, result.suppressed) == (120, 1)
    classes = measure(((r["birth_date"], r["address"], r["plan"]) for r in rows), 5)
    assert classes.met and result.smallest_class == classes.smallest >= 5
    assert set(rows[0]) == {"birth_date", "address", "visits", "plan"}  # no code, no key, no name
    assert max(int(r["visits"]) for r in rows) == 50  # top-coded
    with ws.db.session() as session:  # the items were published when it was created
        [pub] = reg.publications(session, dataset_id)
        assert (pub.kind, pub.items) == ("created", ["birth_date", "address", "visits", "plan"])


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("  - {name: id, treatment: keep}\n", "linking_code_kept"),
        ("  - {name: email, treatment: token}\n", "token_in_anonymized"),
        ("  - {name: name, treatment: keep}\n", "identifying_kept"),
        ("  - {name: my_number, treatment: keep}\n", "identification_code_kept"),
    ],
)
def test_appi_43_an_anonymized_plan_keeping_a_key_a_token_a_name_or_a_code_is_refused(
    line: str, code: str
) -> None:
    plan = parse_plan(ANON.replace("fields:\n", "fields:\n" + line))
    shape = _shape()
    shape.columns.update(
        {n: FieldClass(n, identifying=n == "email") for n in ("email", "birth_date", "address", "plan")}
    )
    assert [(p.code, p.requirement) for p in check_plan(plan, shape)] == [(code, "APPI-43")]


def test_appi_43_provision_is_blocked_without_publication_and_without_the_statement(ws: Workspace) -> None:
    dataset_id = _dataset(
        ws, ANON + "suppress_rare: true\n", safety_measures=MEASURES, complaint_contact=CONTACT
    )
    runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    with pytest.raises(service.DeidRefused) as unpublished, ws.db.session() as session:
        service.provide(
            session,
            dataset_id,
            recipient="研究機関",
            basis=Basis.THIRD_PARTY,
            actor=ACTOR,
            now=NOW,
            statement=True,
        )
    assert unpublished.value.verdict.reason is Reason.ANONYMIZED_NOT_PUBLISHED
    with ws.db.session() as session:
        pub = reg.publish_provision(
            session,
            dataset_id,
            method=Text(ja="CSVを暗号化して送付", en="Encrypted CSV"),
            actor=ACTOR,
            now=NOW,
        )
        pub_id = pub.id
    with pytest.raises(service.DeidRefused) as silent, ws.db.session() as session:
        service.provide(
            session,
            dataset_id,
            recipient="研究機関",
            basis=Basis.THIRD_PARTY,
            actor=ACTOR,
            now=NOW,
            publication_id=pub_id,
        )
    assert silent.value.verdict.reason is Reason.ANONYMIZED_NO_STATEMENT
    with ws.db.session() as session:
        record = service.provide(
            session,
            dataset_id,
            recipient="研究機関",
            basis=Basis.THIRD_PARTY,
            actor=ACTOR,
            now=NOW,
            publication_id=pub_id,
            statement=True,
        )
        assert record.statement is not None and "匿名加工情報" in record.statement
    assert [e["decision"] for e in _actions(ws, "deid.provide")] == ["deny", "deny", "allow"]


# --- APPI-44: anonymized information received ---------------------------------------------------------


def test_appi_44_re_providing_a_received_dataset_without_publication_is_blocked(ws: Workspace) -> None:
    with ws.db.session() as session:
        row = reg.register_received(
            session,
            title=Text(ja="受領統計", en="Received statistics"),
            items=["age_band", "prefecture"],
            received_from="協力機関",
            safety_measures=MEASURES,
            complaint_contact=CONTACT,
            actor=ACTOR,
            now=NOW,
        )
        dataset_id = row.id
    with pytest.raises(service.DeidRefused) as refused, ws.db.session() as session:
        service.provide(
            session,
            dataset_id,
            recipient="第三者",
            basis=Basis.THIRD_PARTY,
            actor=ACTOR,
            now=NOW,
            statement=True,
        )
    assert refused.value.verdict.reason is Reason.ANONYMIZED_NOT_PUBLISHED
    with ws.db.session() as session:
        pub = reg.publish_provision(
            session, dataset_id, method=Text(ja="電子媒体", en="Electronic media"), actor=ACTOR, now=NOW
        )
        assert (
            service.provide(
                session,
                dataset_id,
                recipient="第三者",
                basis=Basis.THIRD_PARTY,
                actor=ACTOR,
                now=NOW,
                publication_id=pub.id,
                statement=True,
            ).publication_id
            == pub.id
        )


# --- APPI-45: no re-identification ------------------------------------------------------------------------


def test_appi_45_a_join_with_the_customer_master_is_denied_and_audited(ws: Workspace) -> None:
    dataset_id = _dataset(ws, ANON, safety_measures=MEASURES, complaint_contact=CONTACT)
    with pytest.raises(service.DeidRefused) as joined, ws.db.session() as session:
        service.join(
            session, ws, dataset_id, other_categories=["identity", "transaction"], actor=ACTOR, now=NOW
        )
    assert joined.value.verdict.reason is Reason.ANONYMIZED_NO_REIDENTIFICATION
    with pytest.raises(service.DeidRefused), ws.db.session() as session:
        service.match(session, dataset_id, actor=ACTOR, now=NOW)
    with pytest.raises(service.DeidRefused) as method, ws.db.session() as session:
        service.read_method(session, dataset_id, actor=ACTOR, now=NOW)
    assert method.value.verdict.reason is Reason.DEID_METHOD_SECRET
    from mamoru.people.tables import Staff

    with ws.db.session() as session:  # the creator's privacy office keeps the method, and may read it
        office = next(m for m in session.scalars(select(Staff)) if "protection_manager" in m.role_names)
        spec = service.read_method(session, dataset_id, actor=f"staff:{office.login}", now=NOW)
        assert spec["quasi_identifiers"] == ["birth_date", "address", "plan"]
    assert _actions(ws, "deid.join")[0]["reasons"] == ["anonymized_no_reidentification", "appi-45"]
    assert _actions(ws, "deid.read_method")[0]["decision"] == "deny"


@pytest.mark.parametrize(
    ("request_", "allow", "reason"),
    [
        (UseRequest(Kind.ANONYMIZED, Use.READ_METHOD, office=True), True, Reason.ALLOWED),
        (
            UseRequest(Kind.ANONYMIZED, Use.READ_METHOD, office=True, received=True),
            False,
            Reason.DEID_METHOD_SECRET,
        ),
        (UseRequest(Kind.ANONYMIZED, Use.JOIN, with_identifying=False), True, Reason.ALLOWED),
        (UseRequest(Kind.ANONYMIZED, Use.MATCH), False, Reason.ANONYMIZED_NO_REIDENTIFICATION),
        (UseRequest(Kind.PSEUDONYMIZED, Use.PROVIDE, basis=Basis.JOINT_USE), True, Reason.ALLOWED),
        (UseRequest(Kind.PSEUDONYMIZED, Use.PROVIDE, basis=Basis.LAW), True, Reason.ALLOWED),
        (UseRequest(Kind.PSEUDONYMIZED, Use.PROVIDE, basis=None), False, Reason.PSEUDONYMIZED_NO_PROVISION),
    ],
)
def test_appi_45_the_use_rules_table(request_: UseRequest, allow: bool, reason: Reason) -> None:
    verdict = decide_use(request_)
    assert (verdict.allow, verdict.reason) == (allow, reason)


# --- APPI-46: safety measures, complaints, publication ----------------------------------------------------


def test_appi_46_an_anonymized_dataset_names_its_safety_measures_and_complaint_contact(ws: Workspace) -> None:
    plan = parse_plan(ANON)
    with ws.db.session() as session:
        reg.store_plan(session, ws, plan, actor=ACTOR)
    for missing in ({"complaint_contact": CONTACT}, {"safety_measures": MEASURES}):
        with pytest.raises(reg.Invalid) as refused, ws.db.session() as session:
            reg.register(session, ws, plan, actor=ACTOR, **missing)  # type: ignore[arg-type]
        assert "APPI-46" in str(refused.value)


def test_appi_46_the_register_page_lists_items_creation_date_and_measures(ws: Workspace) -> None:
    dataset_id = _dataset(
        ws, ANON + "suppress_rare: true\n", safety_measures=MEASURES, complaint_contact=CONTACT
    )
    _dataset(ws, PSEUDO)
    runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    with ws.db.session() as session:
        page = reg.public_register(session)
    [entry] = page.anonymized
    assert entry.items == ["birth_date", "address", "visits", "plan"]
    assert entry.created_at == NOW and entry.safety_measures == MEASURES.model_dump()
    assert entry.complaint_contact == CONTACT.model_dump()
    assert [p.purpose for p in page.pseudonymized] == ["research"]


# --- the pure parts ---------------------------------------------------------------------------------------


def test_generalizations_and_tokens() -> None:
    plan = parse_plan(ANON)
    age, _, _, _ = plan.fields
    assert generalize(age, "1990-04-01", date(2026, 12, 3)) == "20-39"
    assert (
        prefecture("京都府京都市") == "京都府"
        and prefecture("東京都港区") == "東京都"
        and prefecture("x") == ""
    )
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(len(t) == 16 for t in tokens)


# --- the command line -------------------------------------------------------------------------------------


def test_appi_41a_the_cli_refuses_a_plan_keeping_a_card_number_and_runs_a_good_one(
    ws: Workspace, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text(
        PSEUDO.replace("{name: card, treatment: drop}", "{name: card, treatment: keep}"), encoding="utf-8"
    )
    good.write_text(PSEUDO, encoding="utf-8")
    refused = CliRunner().invoke(app, ["deid", "plan", str(bad), "--json"])
    assert refused.exit_code == 1
    assert orjson.loads(refused.output)["problems"] == [
        {"field": "card", "code": "financial_kept", "requirement": "APPI-41a"}
    ]
    stored = CliRunner().invoke(app, ["deid", "plan", str(good), "--json"])
    assert stored.exit_code == 0, stored.output
    dataset_id = orjson.loads(stored.output)["dataset"]
    ran = CliRunner().invoke(app, ["deid", "run", dataset_id, "--json"])
    assert ran.exit_code == 0, ran.output
    assert orjson.loads(ran.output)["rows"] == 121
    third = CliRunner().invoke(
        app, ["deid", "provide", dataset_id, "--recipient", "x", "--basis", "third_party"]
    )
    assert third.exit_code == 1 and "pseudonymized_no_provision (appi-41-6)" in third.output


# --- the portal, the console and the API --------------------------------------------------------------------


def test_appi_46_the_portal_page_lists_items_creation_date_measures_and_provisions(ws: Workspace) -> None:
    from fastapi.testclient import TestClient

    from mamoru.server import create_app
    from mamoru.words import day
    from tests.tokens_helpers import staff_token

    dataset_id = _dataset(
        ws, ANON + "suppress_rare: true\n", safety_measures=MEASURES, complaint_contact=CONTACT
    )
    runs.perform(ws, dataset_id, actor=ACTOR, now=NOW)
    with ws.db.session() as session:
        reg.publish_provision(
            session, dataset_id, method=Text(ja="暗号化して送付", en="Sent encrypted"), actor=ACTOR, now=NOW
        )
    with TestClient(create_app(ws)) as client:
        ja = client.get("/deid?lang=ja").text
        en = client.get("/deid?lang=en").text
        assert "birth_date、address、visits、plan" in ja and day(NOW, "ja") in ja
        assert MEASURES.ja in ja and CONTACT.ja in ja and "暗号化して送付" in ja
        assert MEASURES.en in en and "Sent encrypted" in en
        assert client.get("/api/v1/deid/datasets").status_code == 401
        with ws.db.session() as session:
            from mamoru.people.tables import Staff

            login = session.scalars(select(Staff.login)).first()
        token = staff_token(ws, str(login))
        auth = {"Authorization": f"Bearer {token}"}
        listed = client.get("/api/v1/deid/datasets", headers=auth)
        assert listed.status_code == 200 and listed.json()[0]["items"][0] == "birth_date"
        asked = client.post(
            f"/api/v1/deid/datasets/{dataset_id}/uses",
            json={"use": "join", "other_categories": ["identity"]},
            headers=auth,
        )
        assert asked.json() == {
            "allow": False,
            "reason": "anonymized_no_reidentification",
            "article": "appi-45",
        }


# --- the demo organization ------------------------------------------------------------------------------


def test_appi_41b_the_demo_makes_a_pseudonymized_and_an_anonymized_dataset_through_the_guard(
    workspace: Workspace,
) -> None:
    from mamoru.demo import load_demo
    from mamoru.demo.deid import load_demo_deid

    with workspace.db.session() as session:
        load_demo(session, workspace.vault, workspace.policy.policy, 3)
    made = load_demo_deid(workspace, NOW)
    assert made["pseudonymized"] == 40  # every customer, read under the guard for the services purpose
    assert 0 < made["anonymized"] <= 40
    with workspace.db.session() as session:
        page = reg.public_register(session)
        [pseudo] = page.pseudonymized
        assert pseudo.purpose == "research" and pseudo.purpose_published_at == NOW
        [anon] = page.anonymized
        assert anon.items == ["address"] and len(anon.provisions) == 1
        assert anon.item_labels == {"address": {"ja": "居住地域（地方）", "en": "Region of residence"}}
        decisions = entries_for(session, "actor", "staff:sa01", limit=1000)
        assert any(e.body["action"] == "decision.read" and e.body["purpose"] == "services" for e in decisions)
        [dataset] = reg.datasets(session, Kind.PSEUDONYMIZED)
        [run] = runs.runs(session, dataset.id)
        assert run.folder is not None
    rows = _rows(Path(run.folder))
    assert set(rows[0]) == {"subject_id", "organization", "address"}
    assert all(r["address"].endswith(("都", "道", "府", "県")) or r["address"] == "" for r in rows)


# --- APPI-26b: no breach report or notice for pseudonymized information only -------------------------


def test_appi_26b_a_leak_of_pseudonymized_datasets_only_starts_no_ppc_clock(ws: Workspace) -> None:
    pseudo = _dataset(ws, PSEUDO)
    anon = _dataset(ws, ANON, safety_measures=MEASURES, complaint_contact=CONTACT)
    facts = {"affected_count": 5000, "special_care": True}
    with ws.db.session() as session:
        only = open_breach(session, ws.vault, [pseudo], aware_at=NOW, actor=ACTOR, now=NOW, **facts)
        assert incidents.classification(only).exemption == "pseudonymized"
        assert not incidents.classification(only).any_reportable
        # The PrivacyMark report still runs; the PPC's preliminary and final clocks never start.
        assert [c.report for c in incidents.countdowns(session, only, NOW.date())] == ["pmark_final"]
        mixed = open_breach(
            session, ws.vault, [pseudo], aware_at=NOW, actor=ACTOR, now=NOW, other_data=True, **facts
        )
        with_anon = open_breach(
            session, ws.vault, [pseudo, anon], aware_at=NOW, actor=ACTOR, now=NOW, **facts
        )
        for incident in (mixed, with_anon):
            assert incidents.classification(incident).reportable
            assert "ppc_prelim" in [c.report for c in incidents.countdowns(session, incident, NOW.date())]
        states = {v.incident.ref: v.state for v in incidents.open_clocks(session, NOW.date())}
        assert states[only.ref] == "not_reportable" and states[mixed.ref] != "not_reportable"


# --- composite keys -------------------------------------------------------------------------------------

STAYS_MAP = """\
  - name: stays
    primary_key: [member, night]
    identities: {email: email}
    fields:
      - {name: member}
      - {name: night}
      - {name: email, categories: [contact]}
      - {name: room}
"""

STAYS_PLAN = """\
schema: mamoru.deid/1
id: stays_pseudo
kind: pseudonymized
title: {ja: 宿泊（仮名加工）, en: Stays (pseudonymized)}
purpose: research
source: {kind: table, datastore: members, table: stays}
fields:
  - {name: member, treatment: token}
  - {name: night, treatment: keep}
  - {name: email, treatment: drop}
  - {name: room, treatment: keep}
"""


def test_a_source_table_with_a_composite_key_is_read_in_pages_and_resumes(
    ws: Workspace, settings: Settings
) -> None:
    (settings.home / "datasets" / "members.yaml").write_text(MAP + STAYS_MAP, encoding="utf-8")
    conn = sqlite3.connect(os.environ["DEID_TEST_URL"].removeprefix("sqlite:///"))
    conn.execute(
        "CREATE TABLE stays (member INTEGER, night INTEGER, email TEXT, room TEXT, PRIMARY KEY (member, night))"
    )
    # Several rows share each member, so a page boundary falls inside one member's nights.
    rows = [(m, n, f"m{m}@example.jp", f"R{m}{n}") for m in range(1, 8) for n in (3, 1, 2)]
    conn.executemany("INSERT INTO stays VALUES (?,?,?,?)", rows)
    conn.commit()
    conn.close()
    ws = Workspace.open(settings)
    dataset_id = _dataset(ws, STAYS_PLAN)
    with pytest.raises(runs.RunStopped):
        runs.perform(ws, dataset_id, actor=ACTOR, now=NOW, page_size=4, stop_after_pages=2)
    result = runs.perform(ws, dataset_id, actor=ACTOR, now=NOW, page_size=4)
    assert result.rows == len(rows)
    out = _rows(result.folder)
    # Every (member, night) once: none skipped at a page boundary, none read twice after the resume.
    assert sorted((r["room"], r["night"]) for r in out) == sorted((f"R{m}{n}", str(n)) for m, n, _, _ in rows)
    assert "m1@example.jp" not in (result.folder / "dataset.csv").read_text(encoding="utf-8")


# --- the guard decides the people a table source holds ------------------------------------------------


def test_a_table_source_asks_the_guard_for_each_person_it_reads_and_leaves_out_the_refused(
    ws: Workspace,
) -> None:
    with ws.db.session() as session:
        session.add(DataSubject(id="subj-m5", kind="customer"))
        session.flush()
        ws.vault.store(session, "subj-m5", {"email": "m5@example.jp"}, new=True)
    # The tester is no member of staff, so the guard refuses to let it read a person mamoru knows.
    result = runs.perform(ws, _dataset(ws, PSEUDO), actor=ACTOR, now=NOW, page_size=40)
    assert result.rows == 120  # 121 rows, less member 5's
    with ws.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DeidMapping)) == 2 * 120
        decided = [e.body for e in entries_for(session, "subject", "subj-m5", limit=100)]
    assert [(e["action"], e["decision"], e["purpose"]) for e in decided] == [
        ("decision.read", "deny", "research")
    ]


# --- runs on the work queue -----------------------------------------------------------------------------


def test_a_run_goes_through_the_work_queue_and_a_crashed_one_is_resumed_by_the_sweep(ws: Workspace) -> None:
    from mamoru.work.queue import submit
    from mamoru.work.tasks import SCHEDULE, TASKS

    assert ws.settings.broker_url in (None, "")  # no broker: the queue runs the task here and now
    queued = _dataset(ws, PSEUDO)
    submit(ws, "deid.run", dataset_id=queued, actor=ACTOR)
    crashed = _dataset(ws, PSEUDO)
    with pytest.raises(runs.RunStopped):
        runs.perform(ws, crashed, actor=ACTOR, now=NOW, page_size=50, stop_after_pages=1)
    assert runs.pending(ws) == [(crashed, ACTOR)]
    assert "deid.resume" in SCHEDULE
    assert TASKS["deid.resume"](ws, {}) == {"resubmitted": 1}
    assert runs.pending(ws) == []
    with ws.db.session() as session:
        for dataset_id in (queued, crashed):
            [run] = runs.runs(session, dataset_id)
            assert (run.status, run.rows, run.actor) == ("completed", 121, ACTOR)
    # An anonymized output below k is refused on the run, not retried by the queue.
    refused = _dataset(ws, ANON, safety_measures=MEASURES, complaint_contact=CONTACT)
    assert TASKS["deid.run"](ws, {"dataset_id": refused, "actor": ACTOR})["refused"] is True
    assert runs.pending(ws) == []


# --- the console's forms --------------------------------------------------------------------------------


def test_appi_41b_the_console_checks_stores_runs_refuses_a_provision_and_retires(
    workspace: Workspace,
) -> None:
    import re

    from fastapi.testclient import TestClient

    from mamoru.demo.deid import PSEUDONYMIZED
    from mamoru.server import create_app
    from tests.demo_copies import demo_copy

    demo_copy(workspace, 3, password="correct horse battery")
    with TestClient(create_app(workspace)) as client:
        login = client.get("/console/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', login)
        assert token is not None
        client.post(
            "/console/login",
            data={"login": "pm01", "password": "correct horse battery", "csrf": token.group(1)},
        )
        page = client.get("/console/deid?lang=en")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and found is not None
        csrf = found.group(1)
        assert (
            client.post("/console/deid/plans", data={"csrf": "forged", "plan": PSEUDONYMIZED}).status_code
            == 403
        )
        bad = PSEUDONYMIZED.replace("{name: name, treatment: drop}", "{name: name, treatment: keep}")
        refused = client.post("/console/deid/plans?lang=en", data={"csrf": csrf, "plan": bad})
        assert refused.status_code == 422
        assert "A description that identifies a person must be dropped or replaced" in refused.text
        assert "treatment: keep" in refused.text  # the typed plan is still in its box
        with workspace.db.session() as session:
            assert reg.datasets(session) == []
        stored = client.post(
            "/console/deid/plans?lang=ja", data={"csrf": csrf, "plan": PSEUDONYMIZED}, follow_redirects=False
        )
        assert stored.status_code == 303
        with workspace.db.session() as session:
            [row] = reg.datasets(session)
            dataset_id = row.id
        ran = client.post(f"/console/deid/datasets/{dataset_id}/run?lang=en", data={"csrf": csrf})
        assert ran.status_code == 200
        with workspace.db.session() as session:
            assert [r.status for r in runs.runs(session, dataset_id)] == ["completed"]
        provided = client.post(
            f"/console/deid/datasets/{dataset_id}/provide?lang=ja",
            data={"csrf": csrf, "recipient": "分析会社", "basis": "third_party"},
        )
        assert "第三者に提供できません" in provided.text  # beside the basis, in the page's language
        with workspace.db.session() as session:
            assert service.provisions(session, dataset_id) == []
            entries = [e.body for e in entries_for(session, "actor", "staff:pm01", limit=1000)]
        assert [e["reasons"] for e in entries if e["action"] == "deid.provide"] == [
            ["pseudonymized_no_provision", "appi-41-6"]
        ]
        retired = client.post(
            f"/console/deid/datasets/{dataset_id}/retire?lang=en", data={"csrf": csrf}, follow_redirects=False
        )
        assert retired.status_code == 303
        with workspace.db.session() as session:
            assert reg.dataset(session, dataset_id).status == "retired"


def test_appi_26b_the_office_opens_a_breach_of_datasets_in_the_console_and_the_register_decides(
    ws: Workspace,
) -> None:
    import re

    from fastapi.testclient import TestClient

    from mamoru.incidents.tables import Incident
    from mamoru.server import create_app
    from tests.demo_copies import demo_copy

    demo_copy(ws, 3, password="correct horse battery")
    pseudo = _dataset(ws, PSEUDO)
    with TestClient(create_app(ws)) as client:
        login = client.get("/console/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', login)
        assert token is not None
        client.post(
            "/console/login",
            data={"login": "pm01", "password": "correct horse battery", "csrf": token.group(1)},
        )
        page = client.get("/console/deid?lang=ja")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None and "加工したデータセットの漏えい等" in page.text
        csrf = found.group(1)
        with ws.db.session() as session:
            before = session.scalar(select(func.count()).select_from(Incident))
        # nothing chosen: the reason beside the field, and no incident
        refused = client.post(
            "/console/deid/breach?lang=ja",
            data={"csrf": csrf, "aware_at": "2026-11-20T10:00", "overview": "USBメモリの紛失"},
        )
        assert refused.status_code in (200, 422) and 'id="datasets-error"' in refused.text
        with ws.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Incident)) == before
        opened = client.post(
            "/console/deid/breach?lang=ja",
            data={
                "csrf": csrf,
                "datasets": pseudo,
                "aware_at": "2026-11-20T10:00",
                "overview": "USBメモリの紛失",
            },
            follow_redirects=False,
        )
        assert opened.status_code == 303 and opened.headers["location"].startswith("/console/incidents/INC-")
        mixed = client.post(
            "/console/deid/breach?lang=ja",
            data={
                "csrf": csrf,
                "datasets": pseudo,
                "other_data": "true",
                "aware_at": "2026-11-20T10:00",
                "overview": "共有フォルダの誤設定",
            },
            follow_redirects=False,
        )
        assert mixed.status_code == 303
    refs = [r.headers["location"].split("/")[3].split("?")[0] for r in (opened, mixed)]
    with ws.db.session() as session:
        only, other = (session.scalar(select(Incident).where(Incident.ref == ref)) for ref in refs)
        assert only is not None and other is not None
        assert incidents.classification(only).exemption == "pseudonymized"
        assert incidents.classification(other).exemption != "pseudonymized"
