"""The public notice: APPI Art. 32 items and JIS Q 15001 external-policy content, in both languages."""

from __future__ import annotations

import re
from html import unescape

import pytest

from mamoru.law.requests import RequestKind
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.notice import render_document, render_notice
from mamoru.words import word

ART_32_SECTIONS = ("organization", "purposes", "my-number", "requests", "security", "contact", "accredited")


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_appi_32_notice_contains_every_required_section(reference: LoadedPolicy, lang: str) -> None:
    html = render_notice(reference.policy, lang, "html")  # type: ignore[arg-type]
    for section in ART_32_SECTIONS:
        assert f'<section id="{section}">' in html, section


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_appi_32_notice_names_the_business_its_address_and_representative(
    reference: LoadedPolicy, lang: str
) -> None:
    org = reference.policy.organization
    text = _text(render_notice(reference.policy, lang, "html"))  # type: ignore[arg-type]
    for value in (org.name, org.address, org.representative):
        assert value.in_(lang) in text


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_appi_32_notice_lists_every_purpose_of_the_reference_pack(
    reference: LoadedPolicy, lang: str, fmt: str
) -> None:
    body = render_notice(reference.policy, lang, fmt)  # type: ignore[arg-type]
    text = _text(body) if fmt == "html" else re.sub(r"\s+", " ", body)
    for purpose in reference.policy.purposes:
        assert re.sub(r"\s+", " ", purpose.text.in_(lang)) in text, purpose.id


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_appi_32_notice_states_request_procedure_fees_security_and_complaint_contact(
    reference: LoadedPolicy, lang: str
) -> None:
    policy = reference.policy
    text = _text(render_notice(policy, lang, "html"))  # type: ignore[arg-type]
    assert policy.requests.where.in_(lang) in text
    assert policy.requests.identity_verification.in_(lang) in text
    for kind in RequestKind:
        assert word(f"notice_request_{kind.value}", lang) in text
    assert "1,000" in text
    for measure in policy.security_measures:
        assert measure.text.in_(lang) in text
    contact = policy.organization.inquiry_contact
    assert contact is not None and contact.desk.in_(lang) in text
    assert word("notice_accredited_none", lang) in text


def test_appi_32_notice_lists_the_statutory_affairs_of_each_my_number_purpose(
    reference: LoadedPolicy,
) -> None:
    html = render_notice(reference.policy, "ja", "html")
    section = html[html.index('<section id="my-number">') :]
    assert "源泉徴収票" in section and "支払調書の作成" in section


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_jis_5_notice_has_principles_top_management_dates_and_inquiry_contact(
    reference: LoadedPolicy, lang: str
) -> None:
    policy = reference.policy
    html = render_notice(policy, lang, "html")  # type: ignore[arg-type]
    text = _text(html)
    for principle in policy.principles:
        assert re.sub(r"\s+", " ", principle.in_(lang)) in text
    assert policy.organization.representative.in_(lang) in text
    assert f'datetime="{policy.enacted_on}"' in html
    assert f'datetime="{policy.revised_on}"' in html
    assert word("notice_enacted", lang) in text and word("notice_revised", lang) in text


def test_rendering_is_deterministic(reference: LoadedPolicy) -> None:
    assert render_notice(reference.policy, "ja") == render_notice(reference.policy, "ja")


def test_standalone_document_is_a_whole_page(reference: LoadedPolicy) -> None:
    page = render_document(reference.policy, "en")
    assert page.startswith("<!doctype html>") and '<html lang="en">' in page


def test_html_notice_escapes_markup_in_policy_text(reference: LoadedPolicy) -> None:
    org = reference.policy.organization.model_copy(
        update={"name": reference.policy.organization.name.model_copy(update={"en": "<script>x</script>"})}
    )
    policy = reference.policy.model_copy(update={"organization": org})
    html = render_notice(policy, "en", "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
