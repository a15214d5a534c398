"""The policy enforced is the policy published (APPI-32, JIS-5): a changed file is published or refused at
start and at reload, with the difference; and the notice's foreign environment section (APPI-23, the
PPC guideline 10-7; APPI-28) is made per country from what the policy lists, never written by hand."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mamoru.cli.main import app as cli
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import LoadedPolicy, parse_policy
from mamoru.policy.notice import handling_countries, render_notice
from mamoru.policy.service import PolicyNotPublished
from mamoru.server import create_app
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.test_console import csrf_of, sign_in
from tests.test_purpose_change import changed
from tests.test_serve_e2e import MAMORU, _free_port, initialized
from tests.tokens_helpers import bearer, staff_token

PASSWORD = "correct horse battery"


def _variant(source: str, edit: Any) -> str:
    data = yaml.safe_load(source)
    edit(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _section(html: str) -> str:
    found = re.search(r'<section id="foreign-environment">(.*?)</section>', html, re.S)
    assert found is not None
    return found.group(1)


# --- the foreign environment section ---


def test_appi_23_the_foreign_environment_names_each_country_with_what_the_policy_keeps_there(
    reference: LoadedPolicy,
) -> None:
    """The reference pack sends announcement e-mails through a US processor: the notice says so, with the
    US system, and never that the data stays in Japan."""
    assert [c.code for c in handling_countries(reference.policy)] == ["JP", "US"]
    ja = _section(render_notice(reference.policy, "ja"))
    en = _section(render_notice(reference.policy, "en"))
    assert "アメリカ合衆国" in ja and "電子メール配信サービス事業者（米国）" in ja
    assert "包括的な連邦の個人情報保護法はなく" in ja
    assert "United States" in en and "E-mail delivery service (United States)" in en
    assert "国内データセンター（東京）" in ja  # the storage locations the policy lists
    assert "日本国内でのみ" not in ja and "Japan only" not in en


def test_appi_23_a_policy_handled_only_in_japan_says_so(reference: LoadedPolicy) -> None:
    def domestic(data: dict[str, Any]) -> None:
        data["processors"] = [p for p in data["processors"] if p["country"] == "JP"]

    policy = parse_policy(_variant(reference.source, domestic)).policy
    assert [c.code for c in handling_countries(policy)] == ["JP"]
    assert "日本国内でのみ保管し" in _section(render_notice(policy, "ja"))
    assert "Japan only" in _section(render_notice(policy, "en"))


def test_appi_23_a_storage_location_abroad_is_listed_with_the_countrys_system(
    reference: LoadedPolicy,
) -> None:
    place = {"id": "backup_sg", "name": {"ja": "バックアップ（シンガポール）", "en": "Backup in Singapore"}}
    place["country"] = "SG"

    def without_system(data: dict[str, Any]) -> None:
        data["storage"].append(dict(place))

    with pytest.raises(PolicyError, match=re.escape("storage[2].country_system")):
        parse_policy(_variant(reference.source, without_system), "sg.yaml")

    def with_system(data: dict[str, Any]) -> None:
        data["storage"].append(
            dict(
                place,
                country_system={"ja": "個人データ保護法（PDPA）があります。", "en": "The PDPA applies."},
            )
        )

    policy = parse_policy(_variant(reference.source, with_system)).policy
    section = _section(render_notice(policy, "ja"))
    assert "シンガポール" in section and "バックアップ（シンガポール）" in section and "PDPA" in section


def test_appi_23_the_foreign_environment_cannot_be_written_by_hand(reference: LoadedPolicy) -> None:
    def handwritten(data: dict[str, Any]) -> None:
        data["security_measures"].append(
            {
                "area": "external_environment",
                "text": {"ja": "日本国内のみで保管します。", "en": "Japan only."},
            }
        )

    with pytest.raises(PolicyError, match="generated from the countries"):
        parse_policy(_variant(reference.source, handwritten), "handwritten.yaml")


def test_appi_23_the_markdown_notice_has_the_same_countries(reference: LoadedPolicy) -> None:
    md = render_notice(reference.policy, "en", "md")
    assert "## Where personal data is handled" in md and "**United States**" in md


# --- the policy enforced is the policy published ---


def test_appi_32_the_workspace_reloads_only_a_published_policy(workspace: Workspace) -> None:
    enforced = workspace.policy
    workspace.require_published()
    path = workspace.settings.resolved_policy_file
    path.write_text(changed(enforced.source, related=True), encoding="utf-8")
    with pytest.raises(PolicyNotPublished) as refused:
        workspace.reload_policy()
    assert workspace.policy is enforced  # still the published version
    assert "2026.11" in str(refused.value) and "2026.12" in str(refused.value)
    assert '-version: "2026.11"' in refused.value.diff or "-version: '2026.11'" in refused.value.diff
    path.write_text(enforced.source, encoding="utf-8")
    assert workspace.reload_policy().sha256 == enforced.sha256


def _cli(env: dict[str, str], *args: str) -> Result:
    """A `mamoru` command run in this process (the same command as the real one, without a second
    interpreter to start) with only ``env``'s MAMORU_ variables."""
    unset: dict[str, str | None] = {name: None for name in os.environ if name.startswith("MAMORU_")}
    return CliRunner().invoke(cli, list(args), env={**unset, **env})


def test_appi_32_the_server_refuses_to_start_with_an_unpublished_policy_and_shows_the_difference(
    tmp_path: Path, sqlite_initialized: Path
) -> None:
    env = initialized(tmp_path, sqlite_initialized)
    policy = tmp_path / "ws" / "policy.yaml"
    policy.write_text(changed(policy.read_text(encoding="utf-8"), related=True), encoding="utf-8")
    done = subprocess.run(
        [*MAMORU, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "differs from the published version 2026.11" in done.stderr
    assert "+    version: 2" in done.stderr  # the difference, line by line
    diff = _cli(env, "policy", "diff")
    assert diff.exit_code == 1 and "+    version: 2" in diff.stdout
    publish = _cli(env, "policy", "publish", "--by", "admin", "--json")
    assert publish.exit_code == 0, publish.output
    assert '"version": "2026.12"' in publish.stdout
    again = _cli(env, "policy", "diff")
    assert again.exit_code == 0, again.stdout
    changes = _cli(env, "policy", "changes", "--json")
    assert '"purpose": "services"' in changes.stdout and '"approved_by": "admin"' in changes.stdout


# --- the privacy office acts in the console and over the API ---


@pytest.fixture
def office(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 8, password=PASSWORD)
    return workspace


def test_appi_21c_the_officer_publishes_a_changed_purpose_and_records_the_notices_in_the_console(
    office: Workspace,
) -> None:
    office.settings.resolved_policy_file.write_text(
        changed(office.policy.source, related=True), encoding="utf-8"
    )
    with TestClient(create_app(office)) as client:
        assert sign_in(client, "pm01", PASSWORD) == 303
        page = client.get("/console/purposes?lang=ja")
        assert page.status_code == 200
        assert 'id="unpublished"' in page.text and "+    version: 2" in page.text
        published = client.post(
            "/console/purposes/publish?lang=ja", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert published.status_code == 303
        assert office.policy.policy.version == "2026.12"  # enforced from now on
        page = client.get("/console/purposes?lang=ja")
        assert 'id="published"' in page.text and "関連性あり" in page.text and "staff:pm01" in page.text
        sent = client.post(
            "/console/purposes/services/2/delivered?lang=ja",
            data={"csrf": csrf_of(page.text), "channel": "email"},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        assert "未送付 0" in client.get("/console/purposes?lang=ja").text


def test_appi_21c_the_api_shows_the_difference_publishes_and_records_delivery(office: Workspace) -> None:
    token = staff_token(office, "pm01")
    office.settings.resolved_policy_file.write_text(
        changed(office.policy.source, related=False), encoding="utf-8"
    )
    with TestClient(create_app(office)) as client:
        status = client.get("/api/v1/policy/status", headers=bearer(token)).json()
        assert status["file_published"] is False and status["enforced_version"] == "2026.11"
        assert "+    version: 2" in status["difference"]
        refused = client.post("/api/v1/policy/reload", headers=bearer(token))
        assert refused.status_code == 409 and "differs from the published version" in refused.json()["detail"]
        published = client.post("/api/v1/policy/publish", headers=bearer(token))
        assert published.status_code == 200, published.text
        queued = published.json()["queued"]["services:2"]
        assert queued > 0
        (change,) = client.get("/api/v1/purposes/changes", headers=bearer(token)).json()
        assert (change["related"], change["needs"], change["pending"]) == (False, "consent", queued)
        bad = client.post(
            "/api/v1/purposes/services/versions/2/delivered", headers=bearer(token), json={"channel": "fax"}
        )
        assert bad.status_code == 422
        done = client.post(
            "/api/v1/purposes/services/versions/2/delivered", headers=bearer(token), json={"channel": "post"}
        )
        assert done.json() == {"delivered": queued}


def test_appi_32_sighup_reloads_only_a_published_policy(tmp_path: Path, sqlite_initialized: Path) -> None:
    import signal
    import time

    import httpx

    env = initialized(tmp_path, sqlite_initialized)
    policy = tmp_path / "ws" / "policy.yaml"
    port = _free_port()
    log = tmp_path / "serve.log"  # a file, not a pipe: the refusal logs the whole difference
    with log.open("w") as sink:
        server = subprocess.Popen(
            [*MAMORU, "serve", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except httpx.TransportError:
            assert server.poll() is None, log.read_text(encoding="utf-8")
            time.sleep(0.2)
    try:

        def enforced_after_hangup() -> str:
            before = server.pid
            server.send_signal(signal.SIGHUP)
            for _ in range(50):  # the handler runs between requests; ask until it has (no timing assumed)
                version = str(
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["policy_version"]
                )
                if version != "2026.11" or _ > 10:
                    break
                time.sleep(0.1)
            assert server.pid == before and server.poll() is None
            return version

        policy.write_text(changed(policy.read_text(encoding="utf-8"), related=True), encoding="utf-8")
        assert enforced_after_hangup() == "2026.11"  # refused: not published
        publish = _cli(env, "policy", "publish", "--by", "admin")
        assert publish.exit_code == 0, publish.output
        assert enforced_after_hangup() == "2026.12"
    finally:
        server.terminate()
        server.wait(timeout=10)
    output = log.read_text(encoding="utf-8")
    assert "policy reload refused" in output and "policy reloaded: version 2026.12" in output
