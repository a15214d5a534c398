"""The portal's and the console's labels come from Babel message catalogs, complete in both languages."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from mamoru.incidents.service import Stage
from mamoru.ledger.retention import SOURCES, EventKind
from mamoru.people import inquiries
from mamoru.people.permissions import Scope
from mamoru.people.staff import StaffKind
from mamoru.scan import gaps
from mamoru.web.i18n import LANGS, catalog

TEMPLATES = resources.files("mamoru.web").joinpath("templates")
#: Labels whose keys a template builds from a value: the prefix and every value it can take.

DYNAMIC = {
    "gap_": list(gaps.PROBLEMS),
    "gapd_": list(gaps.REASONS),
    "area_": ["legal", "risks", "controls", "collection_pages", "audits", "rules", "training"],
    "cat_": list(inquiries.CATEGORIES),
    "ch_": list(inquiries.CHANNELS),
    "kind_": list(inquiries.KINDS),
    "staff_": [k.value for k in StaffKind],
    "stage_": [s.value for s in Stage],
    "scope_": [s.value for s in Scope],
    "token_kind_": ["staff", "system"],
    "token_state_": ["active", "expired", "revoked"],
    "clock_": [
        "on_track",
        "prelim_warning",
        "prelim_overdue",
        "final_warning",
        "final_overdue",
        "not_reportable",
    ],
    "deid_kind_": ["pseudonymized", "anonymized"],
    "deid_status_": ["registered", "created", "retired"],
    "deid_run_": ["running", "completed", "refused"],
    "retention_event_": [k.value for k in EventKind],
    "retention_source_": list(SOURCES),
    "pc_needs_": ["notice", "consent"],
    "pc_channel_": ["email", "post", "portal", "in_person"],
}


def _template_texts() -> dict[str, str]:
    return {t.name: t.read_text(encoding="utf-8") for t in TEMPLATES.iterdir() if t.name.endswith(".j2")}


def test_both_catalogs_hold_the_same_keys_and_no_empty_text() -> None:
    ja, en = catalog("ja"), catalog("en")
    assert set(ja) == set(en) and len(ja) > 250
    assert all(v.strip() for v in (*ja.values(), *en.values()))


def test_most_labels_are_really_translated() -> None:
    ja, en = catalog("ja"), catalog("en")
    same = [k for k in ja if ja[k] == en[k]]
    assert len(same) < len(ja) * 0.05, same


@pytest.mark.parametrize("lang", LANGS)
def test_every_label_a_template_uses_is_in_the_catalog(lang: str) -> None:
    labels = catalog(lang)  # type: ignore[arg-type]
    missing = set()
    for name, text in _template_texts().items():
        for key in re.findall(r"\bT\.([a-z_][a-z0-9_]*)", text) + re.findall(r'\bT\["([a-z0-9_]+)"\]', text):
            if key not in labels:
                missing.add(f"{name}: {key}")
        for prefix in re.findall(r'\bT\["([a-z_]+)" *\+', text):
            for value in DYNAMIC[prefix]:
                if prefix + value not in labels:
                    missing.add(f"{name}: {prefix}{value}")
    assert not missing, sorted(missing)


def test_every_code_the_console_and_the_incident_reports_show_has_words_in_both_languages() -> None:
    """Codes a person would otherwise read (rule topics, what a scan found and how, an inquiry's
    outcome, the report items and routing answers of the PPC and PrivacyMark reports, a ledger entry's
    medium) each have a label in the one catalog, in both languages."""
    from mamoru.incidents import service as incidents
    from mamoru.law.breach import BreachCategory, MyNumberGround
    from mamoru.people import rules
    from mamoru.scan.recognizers import LABELS
    from mamoru.web.console import MEDIA

    families: dict[str, list[str]] = {
        "rule_topic_": list(rules.MANDATORY_TOPICS),
        "scan_entity_": list(LABELS),
        "scan_target_": ["files", "database"],
        "scan_basis_": ["text", "values", "header"],
        "inquiry_outcome_": list(inquiries.OUTCOMES),
        "tk_item_": list(incidents.REPORT_ITEMS),
        "report_kind_": [k.value for k in incidents.ReportKind],
        "report_title_": [k.value for k in incidents.ReportKind],
        "tk_mn_": list(incidents.MY_NUMBER_ANSWERS),
        "tk_org_": list(incidents.ORG_TYPES),
        "tk_medium_": list(incidents.MEDIA),
        "breach_cat_": [c.value for c in BreachCategory],
        "breach_mn_": [g.value for g in MyNumberGround],
        "ledger_medium_": list(MEDIA),
    }
    for lang in LANGS:
        labels = catalog(lang)
        missing = [p + code for p, codes in families.items() for code in codes if p + code not in labels]
        assert not missing, (lang, missing)


@pytest.mark.parametrize("lang", LANGS)
def test_the_printable_incident_report_reads_in_words_and_in_japan_time(lang: str) -> None:
    from mamoru.incidents.service import REPORT_ITEMS, render_report

    content = {
        "report_type": "pmark_final",
        "incident": "INC-2026-0001",
        "reporter_entity_name": "株式会社サンプル",
        "reporter_entity_name_en": "Sample K.K.",
        "routing": {
            "q1_contains_my_number": "no",
            "q2_org_type": "private_business",
            "q3_delegated_sector": False,
        },
        "aware_at": "2026-12-02T11:37:00+00:00",
        "occurred_at": "unknown",
        "categories": ["i", "iii"],
        "my_number_grounds": [],
        "suspected_only": True,
        "exemption": None,
        "deadlines": {
            "prelim_warning": "2026-12-05",
            "prelim_due": "2026-12-07",
            "final_conservative": "2027-01-01",
            "final_lenient": "2027-01-31",
        },
        "items": {item: "" for item in REPORT_ITEMS} | {"overview": "メールの誤送信"},
        "medium": "email",
        "stages": {"containment": "送信先に削除を依頼"},
    }
    page = render_report(content, lang)
    text = re.sub(r"<[^>]+>", " ", page.split("<body>")[1])
    codes = re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    assert not codes and "2026-12" not in text and "+00:00" not in text, codes
    labels = catalog(lang)
    assert labels["report_title_pmark_final"] in text and labels["tk_item_overview"] in text
    assert labels["tk_medium_email"] in text and labels["stage_containment"] in text
    if lang == "ja":
        # 11:37 UTC is 20:37 in Japan
        assert "2026年12月2日 20時37分" in text and "2026年12月7日" in text and 'lang="ja"' in page
    else:
        assert "2 Dec 2026, 20:37 JST" in text and 'lang="en"' in page


def test_every_scan_pattern_reads_in_words_on_a_japanese_page() -> None:
    """A finding's explanation names the pattern that matched: each name has a Japanese label, so a ja
    console page never shows the recognizer's English name (nor the column-header shape's)."""
    from mamoru.scan.recognizers import REGISTERED
    from mamoru.web.scans import _explained

    ja = catalog("ja")
    names = {p.name for r in REGISTERED for p in r.patterns} | {"SudachiPy 人名", "item under a record label"}
    english = [n for n in sorted(names) if _explained(n, ja) == n]
    assert not english
    said = _explained("postal_code shape under its header; context word '郵便番号'", ja)
    assert said == "列の見出しの下の郵便番号の形、前後の語「郵便番号」"
