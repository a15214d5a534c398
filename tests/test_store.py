"""The store on SQLite and PostgreSQL: migrations, published notice versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mamoru.errors import MamoruError, Refusal
from mamoru.policy.load import LoadedPolicy, parse_policy
from mamoru.policy.service import VersionConflict, current_notice, is_current, notice_versions, publish
from mamoru.schema import metadata
from mamoru.store.db import Database

from .conftest import CASES


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from mamoru.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(Database("sqlite://"))).get_current_head()
    assert head is not None
    return head


HEAD_REVISION = _head_revision()


def test_migrations_reach_head_and_match_the_models(db: Database) -> None:
    assert db.current_revision() == HEAD_REVISION
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_migrating_twice_changes_nothing(db: Database) -> None:
    db.migrate()
    assert db.current_revision() == HEAD_REVISION


def test_publish_keeps_each_version_with_hash_and_effective_date(
    db: Database, reference: LoadedPolicy
) -> None:
    with db.session() as session:
        first = publish(session, reference, "tester")
    second_source = (CASES / "minimal.yaml").read_text(encoding="utf-8")
    second = parse_policy(second_source)
    with db.session() as session:
        publish(session, second, "tester")
    with db.session() as session:
        versions = notice_versions(session)
        assert [v.policy_sha256 for v in versions] == [second.sha256, reference.sha256]
        assert versions[1].effective_from == reference.policy.effective_from
        assert versions[1].id == first.id
        current = current_notice(session)
        assert current is not None and current.policy_sha256 == second.sha256
        assert current.published_at.tzinfo is not None
        assert current.published_at <= datetime.now(UTC)
        assert is_current(session, second) and not is_current(session, reference)


def test_publishing_the_same_text_again_is_a_no_op(db: Database, reference: LoadedPolicy) -> None:
    with db.session() as session:
        a = publish(session, reference, "tester")
    with db.session() as session:
        b = publish(session, reference, "tester")
        assert a.id == b.id and len(notice_versions(session)) == 1


def test_changed_content_under_a_published_version_label_is_refused(
    db: Database, reference: LoadedPolicy
) -> None:
    with db.session() as session:
        publish(session, reference, "tester")
    changed = parse_policy(reference.source.replace("Weekdays 9:30-17:30", "Weekdays 10:00-17:00"))
    with pytest.raises(VersionConflict), db.session() as session:
        publish(session, changed, "tester")
    with db.session() as session:
        assert len(notice_versions(session)) == 1


@pytest.mark.parametrize(("error", "kept"), [(Refusal("refused"), True), (MamoruError("bad"), False)])
def test_a_refusal_commits_what_audited_it_and_any_other_error_rolls_back(
    db: Database, reference: LoadedPolicy, error: MamoruError, kept: bool
) -> None:
    with pytest.raises(type(error)), db.session() as session:
        publish(session, reference, "test")
        raise error
    with db.session() as session:
        assert (current_notice(session) is not None) is kept


def test_the_revision_is_read_without_alembic_and_two_recorded_revisions_are_refused(
    db: Database,
) -> None:
    from sqlalchemy import text

    from mamoru.errors import ConfigurationError

    assert db.current_revision() == HEAD_REVISION
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('other')"))
    with pytest.raises(ConfigurationError, match="2 schema revisions"):
        db.current_revision()
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = 'other'"))
    assert Database("sqlite://").current_revision() is None
