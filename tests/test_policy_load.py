"""Loading policy files: the reference pack is valid; each broken file fails with its line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamoru.cli.main import app
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import load_policy, pack_source, parse_policy

from .conftest import CASES

BROKEN = sorted(p for p in CASES.glob("*.yaml") if p.name != "minimal.yaml")
runner = CliRunner()


def _expectation(path: Path) -> tuple[int, str]:
    match = re.search(r"^# expect: line (\d+) field (\S+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} lacks its '# expect:' line"
    return int(match.group(1)), match.group(2)


def test_reference_pack_is_valid_and_publishable(tmp_path: Path) -> None:
    pack = tmp_path / "reference.yaml"
    pack.write_text(pack_source(), encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(pack)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_reference_pack_has_the_nine_purposes_and_the_two_my_number_uses() -> None:
    policy = parse_policy(pack_source()).policy
    assert [p.id for p in policy.general_purposes()] == [
        "services",
        "announcements",
        "research",
        "patent_data",
        "partners",
        "liaison",
        "collaborators",
        "personnel",
        "security",
    ]
    assert {p.id for p in policy.my_number_purposes()} == {"my_number_staff", "my_number_payees"}


def test_minimal_case_is_valid() -> None:
    load_policy(CASES / "minimal.yaml")


def test_the_broken_files_cover_each_kind_of_mistake() -> None:
    # Syntax, types, structure, language, the JIS-5 and APPI-17a rules, the My Number rules and fees:
    # the parametrized tests below run on every one of these (and on any file added beside them).
    assert {p.stem for p in BROKEN} >= {
        "bad_yaml",
        "duplicate_key",
        "bad_date",
        "unknown_field",
        "unknown_category",
        "duplicate_purpose_id",
        "missing_ja_text",
        "missing_revision_date",
        "missing_inquiry_contact",
        "vague_purpose",
        "my_number_without_affairs",
        "my_number_outside_affairs",
        "consent_provision_of_my_number",
        "fee_on_erasure",
        "fee_on_unknown_kind",
    }


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_when_policy_file_is_broken_then_check_exits_2_naming_file_line_and_field(path: Path) -> None:
    line, field = _expectation(path)
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:{line}: {field}:" in result.stderr


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_when_policy_file_is_broken_then_loader_raises_policy_error_with_line(path: Path) -> None:
    line, field = _expectation(path)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert any(issue.line == line and issue.field == field for issue in caught.value.issues)


def test_check_json_lists_issues() -> None:
    import json

    result = runner.invoke(app, ["policy", "check", "--json", str(CASES / "fee_on_erasure.yaml")])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["issues"][0]["field"] == "requests.fees.erase"


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="must be a YAML mapping"):
        load_policy(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (CASES / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("categories: [contact]", "categories: [nope]").replace("disclosure: 500", "erase: 1")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    fields = {issue.field for issue in caught.value.issues}
    assert {"purposes[0].categories[0]", "requests.fees.erase"} <= fields
