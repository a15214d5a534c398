"""Rules a policy must satisfy beyond its shape: APPI-17a, APPI-38, MN-1 and JIS-5."""

from __future__ import annotations

import pytest

from mamoru.law.requests import FEE_ALLOWED, RequestKind, fee_allowed
from mamoru.policy.errors import NoticeIncomplete, PolicyError
from mamoru.policy.load import parse_policy
from mamoru.policy.notice import render_notice
from mamoru.policy.rules import purpose_is_vague

from .conftest import CASES

MINIMAL = (CASES / "minimal.yaml").read_text(encoding="utf-8")
ORDERS_JA = "ご注文いただいた商品の発送及び代金の請求"
ORDERS_EN = "To ship the goods you order and to bill you for them"


def _issues(text: str, *, for_publication: bool = True) -> dict[str, str]:
    try:
        parse_policy(text, for_publication=for_publication)
    except PolicyError as exc:
        return {issue.field: issue.message for issue in exc.issues}
    return {}


@pytest.mark.parametrize(
    ("ja", "en"),
    [
        ("事業活動に用いるため", ORDERS_EN),
        ("業務のため", ORDERS_EN),
        (ORDERS_JA, "For business purposes."),
        (ORDERS_JA, "business use"),
        ("サービス向上", ORDERS_EN),
    ],
)
def test_appi_17a_vague_purpose_is_rejected(ja: str, en: str) -> None:
    text = MINIMAL.replace(ORDERS_JA, ja).replace(ORDERS_EN, en)
    issues = _issues(text)
    assert "purposes[0].text" in issues
    assert "APPI Art. 17(1)" in issues["purposes[0].text"]


def test_appi_17a_specific_purpose_is_accepted() -> None:
    assert purpose_is_vague(ORDERS_JA, ORDERS_EN) is None


def test_appi_17a_purpose_without_a_category_is_rejected() -> None:
    issues = _issues(MINIMAL.replace("categories: [contact]\n", "categories: []\n", 1))
    assert "purposes[0].categories" in issues


def test_appi_17a_purpose_without_a_subject_kind_is_rejected() -> None:
    issues = _issues(MINIMAL.replace("subject_kinds: [customer]\n", "subject_kinds: []\n", 1))
    assert "purposes[0].subject_kinds" in issues


@pytest.mark.parametrize(
    "kind", [RequestKind.CORRECTION, RequestKind.STOP_USE, RequestKind.ERASE, RequestKind.STOP_PROVISION]
)
def test_appi_38_fee_on_a_request_kind_other_than_notification_or_disclosure_is_a_configuration_error(
    kind: RequestKind,
) -> None:
    issues = _issues(
        MINIMAL.replace("    disclosure: 500\n", f"    disclosure: 500\n    {kind.value}: 100\n")
    )
    assert f"requests.fees.{kind.value}" in issues
    assert "Art. 38" in issues[f"requests.fees.{kind.value}"]


@pytest.mark.parametrize("kind", sorted(FEE_ALLOWED))
def test_appi_38_fee_on_notification_or_disclosure_is_allowed(kind: RequestKind) -> None:
    assert fee_allowed(kind)
    assert _issues(MINIMAL.replace("    disclosure: 500\n", f"    {kind.value}: 300\n")) == {}


def test_appi_38_zero_fee_on_erasure_is_not_a_fee() -> None:
    assert _issues(MINIMAL.replace("    disclosure: 500\n", "    disclosure: 500\n    erase: 0\n")) == {}


def test_mn_1_policy_refuses_a_my_number_purpose_outside_the_statutory_affairs() -> None:
    issues = _issues(MINIMAL.replace("affairs: [withholding_slip]", "affairs: [marketing]"))
    assert "purposes[1].my_number.affairs[0]" in issues
    assert "statutory affair" in issues["purposes[1].my_number.affairs[0]"]


def test_mn_1_policy_refuses_my_number_category_in_a_purpose_without_statutory_affairs() -> None:
    text = MINIMAL.replace("    categories: [contact]\n", "    categories: [contact, my_number]\n", 1)
    issues = _issues(text)
    assert "purposes[0].categories" in issues
    assert "MN-1" in issues["purposes[0].categories"]


def test_jis_5_publishing_without_a_revision_date_is_refused() -> None:
    text = MINIMAL.replace("revised_on: 2026-04-01\n", "")
    assert "revised_on" in _issues(text)
    draft = parse_policy(text, for_publication=False).policy
    with pytest.raises(NoticeIncomplete, match="revised_on"):
        render_notice(draft, "ja")


def test_jis_5_publishing_without_an_inquiry_contact_is_refused() -> None:
    start = MINIMAL.index("  inquiry_contact:")
    end = MINIMAL.index("principles:")
    text = MINIMAL[:start] + MINIMAL[end:]
    assert "organization.inquiry_contact" in _issues(text)
    draft = parse_policy(text, for_publication=False).policy
    with pytest.raises(NoticeIncomplete, match="inquiry_contact"):
        render_notice(draft, "en")


def test_jis_5_revision_before_enactment_is_an_error() -> None:
    assert "revised_on" in _issues(MINIMAL.replace("revised_on: 2026-04-01", "revised_on: 2020-01-01"))
