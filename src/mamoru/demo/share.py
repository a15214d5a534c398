"""Demo files to scan: a small file share of the demo organization, with the file-shares.yaml that ties
its folders to ledger entries, and three things for the gap report to find (a My Number list kept in
the HR folder, a report in a folder declared to hold no personal data, an export left in downloads)."""

from __future__ import annotations

import csv
import random
from collections.abc import Collection
from pathlib import Path

from faker import Faker

from mamoru.demo.mynumber import synthetic_number
from mamoru.scan.shares import FILE_NAME

SHARE = "demo-share"


def _phone(r: random.Random) -> str:
    return f"0{r.choice('789')}0-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"


def _share_numbers(seed: int, avoid: Collection[str], count: int) -> list[str]:
    """Made-up numbers for the HR list, from a stream of their own and never one of ``avoid`` (the
    numbers the demo put in the My Number vault): a file share must not hold a number the vault holds."""
    rng = random.Random(f"mamoru-demo-share-numbers:{seed}")
    numbers: list[str] = []
    while len(numbers) < count:
        candidate = synthetic_number(rng)
        if candidate not in avoid and candidate not in numbers:
            numbers.append(candidate)
    return numbers


def write_demo_share(home: Path, seed: int = 1, *, avoid: Collection[str] = ()) -> Path:
    """Write ``<home>/demo-share/`` and ``<home>/file-shares.yaml`` (overwriting the demo's own files).

    ``avoid``: Individual Numbers that must not appear in the share (those in the demo's vault).
    """
    from docx import Document
    from fpdf import FPDF
    from openpyxl import Workbook

    r = random.Random(seed)
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    root = home / SHARE
    for sub in ("hr", "sales", "public", "downloads"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    numbers = _share_numbers(seed, avoid, 12)
    with (root / "hr" / "staff-list.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["社員番号", "氏名", "フリガナ", "生年月日", "電話番号", "メールアドレス", "マイナンバー"])
        for i in range(12):
            w.writerow(
                [
                    f"E{1001 + i}",
                    f"{fake.last_name()} {fake.first_name()}",
                    f"{fake.last_kana_name()} {fake.first_kana_name()}",
                    fake.date_of_birth(minimum_age=22, maximum_age=64).strftime("%Y/%m/%d"),
                    _phone(r),
                    f"staff{1001 + i}@example.jp",
                    numbers[i],
                ]
            )

    wb = Workbook()
    ws = wb.active
    ws.title = "健康診断2026"
    ws.append(["社員番号", "氏名", "受診日", "所見", "既往歴"])
    for i in range(8):
        ws.append(
            [f"E{1001 + i}", f"{fake.last_name()} {fake.first_name()}", "2026/06/12", "異常なし",
             r.choice(["なし", "高血圧症", "糖尿病", "なし", "喘息"])]
        )  # fmt: skip
    wb.save(root / "hr" / "health-checkups.xlsx")

    with (root / "sales" / "customers.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "name", "email", "phone", "postal_code", "address"])
        for i in range(15):
            w.writerow(
                [f"C{2001 + i}", f"{fake.last_name()} {fake.first_name()}", f"customer{2001 + i}@example.com",
                 _phone(r), fake.zipcode(), fake.address()]
            )  # fmt: skip

    doc = Document()
    doc.add_paragraph(f"{fake.last_name()} {fake.first_name()} 様")
    doc.add_paragraph("このたびは特許情報サービスのお見積りをご依頼いただき、ありがとうございます。")
    doc.add_paragraph(f"ご住所：〒{fake.zipcode()} {fake.address()}")
    doc.add_paragraph(f"ご連絡先：{_phone(r)}")
    doc.save(str(root / "sales" / "proposal.docx"))

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in (
        "Annual report 2026: patent information services",
        "Searches served: 1,204,331. Training sessions held: 14.",
        f"Press contact: {fake.first_romanized_name()} {fake.last_romanized_name()}, phone {_phone(r)}",
    ):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(root / "public" / "annual-report.pdf"))

    with (root / "downloads" / "export-2026-11.txt").open("w", encoding="utf-8") as fh:
        for _ in range(5):
            fh.write(
                f"{fake.last_name()} {fake.first_name()}様 {fake.zipcode()} {fake.address()} TEL {_phone(r)}\n"
            )

    (home / FILE_NAME).write_text(
        "# File shares of the demo organization and the ledger entries that cover them.\n"
        "# A share with no ledger entry is declared to hold no personal data.\n"
        "schema: mamoru.file-shares/1\n"
        "shares:\n"
        f"  - {{path: {SHARE}/hr, ledger_entries: [L-personnel]}}\n"
        f"  - {{path: {SHARE}/sales, ledger_entries: [L-services]}}\n"
        f"  - {{path: {SHARE}/public, ledger_entries: [], note: published material only}}\n",
        encoding="utf-8",
    )
    return root
