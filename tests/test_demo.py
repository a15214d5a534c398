"""The demo organization: deterministic, every subject kind present, nothing personal in plaintext."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mamoru.demo import WorkspaceNotEmpty, load_demo, plan_demo
from mamoru.ledger.tables import DataSubject
from mamoru.people.tables import Role, Staff
from mamoru.policy.load import LoadedPolicy
from mamoru.workspace import Workspace


def test_same_seed_same_organization(reference: LoadedPolicy) -> None:
    assert plan_demo(reference.policy, 7) == plan_demo(reference.policy, 7)
    assert [p.values for p in plan_demo(reference.policy, 7).all_people()] == [
        p.values for p in plan_demo(reference.policy, 7).all_people()
    ]


def test_different_seed_different_people(reference: LoadedPolicy) -> None:
    a = plan_demo(reference.policy, 1).subjects[0].values["name"]
    b = plan_demo(reference.policy, 2).subjects[0].values["name"]
    assert a != b


def test_every_subject_kind_of_the_policy_is_present(reference: LoadedPolicy) -> None:
    kinds = {p.kind for p in plan_demo(reference.policy, 1).subjects}
    assert kinds == {k.id for k in reference.policy.subject_kinds}


def test_staff_cover_the_protection_and_audit_roles(reference: LoadedPolicy) -> None:
    roles = {role for member in plan_demo(reference.policy, 1).staff for role in member.roles}
    assert {Role.PROTECTION_MANAGER, Role.AUDIT_MANAGER, Role.MY_NUMBER_HANDLER} <= roles


def test_demo_loads_once_and_keeps_personal_values_out_of_the_database_file(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        plan = load_demo(session, workspace.vault, workspace.policy.policy, 5)
    with workspace.db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Staff)) == len(plan.staff) + 1
        )  # + admin from init
        assert session.scalar(select(func.count()).select_from(DataSubject)) == len(plan.all_people())
        with pytest.raises(WorkspaceNotEmpty):
            load_demo(session, workspace.vault, workspace.policy.policy, 5)
    workspace.db.dispose()
    raw = b"".join(p.read_bytes() for p in workspace.settings.home.glob("mamoru.db*"))
    for person in plan.all_people():
        for field, value in person.values.items():
            if field in {"birth_date", "employee_number"}:
                continue
            assert value.encode("utf-8") not in raw, field


def test_the_full_demo_audit_log_holds_no_personal_value(workspace: Workspace) -> None:
    """Every leaf of the log after `mamoru demo`: none of the demo's values, no My Number-shaped number."""
    from sqlalchemy import text

    from mamoru.law.mynumber import find_candidates

    with workspace.db.session() as session:
        plan = load_demo(session, workspace.vault, workspace.policy.policy, 11)
    with workspace.db.engine.connect() as conn:
        leaves = [bytes(leaf) for (leaf,) in conn.execute(text("SELECT leaf FROM audit_entries"))]
    assert len(leaves) > len(plan.all_people())
    blob = b"\n".join(leaf[40:] for leaf in leaves)
    for person in plan.all_people():
        for field, value in person.values.items():
            if field == "birth_date":
                continue
            assert value.encode("utf-8") not in blob, field
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert find_candidates(uuid.sub("<ref>", blob.decode("utf-8"))) == []
