"""The held-out discovery corpus (bench/scan_heldout.py) is labelled consistently: what the lead reads as
the accuracy figure is only as honest as these labels. No accuracy threshold here."""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mamoru.law import corporate_number, mynumber

PATH = Path(__file__).resolve().parents[1] / "bench" / "scan_heldout.py"


@pytest.fixture(scope="module")
def heldout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scan_heldout", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scan_heldout"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs(heldout: ModuleType) -> list[Any]:
    return heldout.make_heldout_corpus(seed=7, target_bytes=120_000)


def digits(value: str) -> str:
    return re.sub(r"\D", "", value.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


# Loose shapes: what a value of each type must at least look like.
SHAPES = {
    "person": lambda s: not any(c.isdigit() for c in s) and "@" not in s and len(s.strip()) >= 1,
    "phone": lambda s: 9 <= len(digits(s)) <= 13 or s.startswith("+") or "x" in s,
    "email": lambda s: re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", s) is not None,
    "address": lambda s: len(s) >= 3,
    "postal_code": lambda s: len(digits(s)) in (5, 7, 9),
    "birth_date": lambda s: re.search(r"\d|[０-９]|元", s) is not None,
    "my_number": lambda s: mynumber.is_valid(s),
    "credit_card": lambda s: 14 <= len(digits(s)) <= 16,
    "bank_account": lambda s: 7 <= len(digits(s)) <= 13,
    "passport": lambda s: re.fullmatch(r"[A-Z]{2}\d{7}|\d{9}", s) is not None,
    "drivers_license": lambda s: re.fullmatch(r"\d{12}", s) is not None,
    "health_insurance": lambda s: len(s) >= 1 and any(c.isdigit() for c in s),
    "special_care": lambda s: len(s) >= 2 and digits(s) != s,
    "corporate_number": lambda s: corporate_number.is_valid(s),
    "invoice_registration": lambda s: s.startswith("T") and corporate_number.is_valid(digits(s)),
}


def test_when_generated_twice_with_one_seed_then_the_corpus_is_the_same(heldout: ModuleType) -> None:
    a = heldout.make_heldout_corpus(seed=3, target_bytes=20_000)
    b = heldout.make_heldout_corpus(seed=3, target_bytes=20_000)
    assert [(d.text, d.labels) for d in a] == [(d.text, d.labels) for d in b]


def test_when_generated_then_every_label_is_inside_the_text_nonempty_and_of_a_known_type(
    heldout: ModuleType,
    docs: list[Any],
) -> None:
    for doc in docs:
        for start, end, entity in doc.labels:
            assert entity in heldout.TYPES, (doc.kind, entity)
            assert 0 <= start < end <= len(doc.text), (doc.kind, entity)
            value = doc.text[start:end]
            assert value.strip() == value and value, (doc.kind, entity)
            assert "\n" not in value, (doc.kind, entity)


def test_when_generated_then_labels_do_not_overlap(docs: list[Any]) -> None:
    for doc in docs:
        spans = sorted(doc.labels)
        for (_, end, a), (start, _, b) in itertools.pairwise(spans):
            assert end <= start, (doc.kind, a, b)


def test_when_generated_then_every_label_has_its_type_s_shape(docs: list[Any]) -> None:
    bad = [
        (doc.kind, entity)
        for doc in docs
        for start, end, entity in doc.labels
        if not SHAPES[entity](doc.text[start:end])
    ]
    assert bad == []


def test_when_csv_then_every_cell_offset_points_at_its_value(docs: list[Any]) -> None:
    csvs = [d for d in docs if d.header is not None]
    assert csvs
    for doc in csvs:
        for row in doc.rows:
            assert len(row) == len(doc.header)
            for offset, value in row:
                assert doc.text[offset : offset + len(value)] == value
        for start, end, _ in doc.labels:
            assert any(o <= start and end <= o + len(v) for row in doc.rows for o, v in row)


def test_when_generated_then_every_type_is_labelled_and_traps_are_not(docs: list[Any]) -> None:
    seen = {entity for doc in docs for _, _, entity in doc.labels}
    assert seen == set(SHAPES)
    for doc in docs:
        labelled = {doc.text[s:e] for s, e, _ in doc.labels}
        for order in re.findall(r"注文番号 ?(\d{12})", doc.text):
            assert mynumber.is_valid(order) and order not in labelled
