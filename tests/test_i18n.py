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
