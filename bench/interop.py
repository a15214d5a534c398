"""Interoperability with Ethyca Fides: every dataset file shipped in the pinned Fides release, and its
sample database, against hand-written SQL.

    .venv/bin/python bench/interop.py [--cache DIR]

The wheel of ethyca-fides==2.78.2 is fetched once with ``pip download --no-deps`` into the cache
(``$MAMORU_FIDES_CACHE``, default ``~/.cache/mamoru/fides``) and read from the archive; nothing of
Fides is installed or committed. Then:

1. each dataset file (``fides/data/**`` with a top-level ``dataset:``) is imported with
   ``--category user=identity`` and the other bare categories, and is either a map that passes
   ``check`` or refused with the one feature named;
2. ``postgres_sample.sql`` is loaded into a fresh PostgreSQL database (127.0.0.1:5432, user postgres);
   for each sample person the rows the imported map finds are compared with hand-written SQL, then the
   erasure: the person's personal fields are erased, keys untouched, every other row unchanged, the
   counts equal to the rows changed, a rerun changes nothing;
3. ``connectors draft`` on the same database: references proposed (the sample has no foreign keys)
   and personal fields classified, against the Fides dataset.

Exit 1 when a check fails. Needs PostgreSQL; about 10 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from mamoru.connectors import interop
from mamoru.connectors.maps import parse_map
from mamoru.connectors.sql import MASK, SqlConnector, primary_keys
from mamoru.policy.load import load_pack

RELEASE = "ethyca-fides==2.78.2"
WHEEL = "ethyca_fides-2.78.2-py2.py3-none-any.whl"
ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE = "fides/data/sample_project/postgres_sample.sql"
MAIN = "postgres_example_test_dataset"
#: the bare Fides categories of the sample files, as the operator would give them with --category
CATEGORIES = {"user": "identity", "user.sensor": "usage_log", "user.content": "usage_log"}
PEOPLE = ("jane@example.com", "customer-1@example.com", "customer-2@example.com", "employee-1@example.com")

failures: list[str] = []


def expect(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def wheel(cache: Path) -> zipfile.ZipFile:
    path = cache / WHEEL
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", RELEASE, "-d", str(cache)],
            check=True,
        )
    return zipfile.ZipFile(path)


def dataset_files(archive: zipfile.ZipFile) -> dict[str, str]:
    found = {}
    for name in sorted(archive.namelist()):
        if name.startswith("fides/data/") and name.endswith((".yml", ".yaml")):
            source = archive.read(name).decode("utf-8")
            if source.lstrip().startswith("dataset:") or "\ndataset:" in source:
                found[name] = source
    return found


# --- hand-written SQL: the rows of a person, table -> keys ----------------------------------------------

HAND = {
    "customer": "SELECT id FROM customer WHERE email = :e",
    "employee": "SELECT id FROM employee WHERE email = :e",
    "report": "SELECT id FROM report WHERE email = :e",
    "visit": "SELECT email, last_visit FROM visit WHERE email = :e",
    "login": "SELECT id FROM login WHERE customer_id IN (SELECT id FROM customer WHERE email = :e)",
    "orders": "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customer WHERE email = :e)",
    "payment_card": "SELECT id FROM payment_card WHERE customer_id IN (SELECT id FROM customer WHERE email = :e)",
    "order_item": "SELECT order_id, item_no FROM order_item WHERE order_id IN "
    "(SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customer WHERE email = :e))",
    "product": "SELECT id FROM product WHERE id IN (SELECT product_id FROM order_item WHERE order_id IN "
    "(SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customer WHERE email = :e)))",
    "service_request": "SELECT id FROM service_request WHERE email = :e OR alt_email = :e OR employee_id IN "
    "(SELECT id FROM employee WHERE email = :e)",
    "address": "SELECT id FROM address WHERE id IN ("
    " SELECT address_id FROM customer WHERE email = :e"
    " UNION SELECT address_id FROM employee WHERE email = :e"
    " UNION SELECT shipping_address_id FROM orders WHERE customer_id IN (SELECT id FROM customer WHERE email = :e)"
    " UNION SELECT billing_address_id FROM payment_card WHERE customer_id IN"
    " (SELECT id FROM customer WHERE email = :e))",
}


def hand_rows(url: str, email: str) -> dict[str, set[tuple[Any, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t: {tuple(r) for r in conn.execute(text(q), {"e": email})} for t, q in HAND.items()}
    engine.dispose()
    return {t: keys for t, keys in found.items() if keys}


def snapshot(url: str, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {t: [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{t}"'))] for t in tables}
    engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("MAMORU_FIDES_CACHE", "~/.cache/mamoru/fides")).expanduser(),
    )
    args = parser.parse_args()
    policy = load_pack("reference").policy
    archive = wheel(args.cache)
    started = time.perf_counter()

    print(f"1. every dataset file of {RELEASE}")
    imported: dict[str, interop.Imported] = {}
    for name, source in dataset_files(archive).items():
        try:
            maps = interop.from_fides(source, url_env="FIDES_SAMPLE_URL", policy=policy, overrides=CATEGORIES)
        except interop.InteropFailed as exc:
            print(f"  refused  {name}: {exc}")
            expect(
                "MongoDB" in str(exc) and "mongo" in name,
                f"{Path(name).name} refused only for a document database",
            )
            continue
        for m in maps:
            parse_map(
                interop.to_yaml(m.map, "bench", m.notes), f"{m.map['name']}.yaml", policy
            )  # passes check
            imported[m.map["name"]] = m
            print(f"  imported {name}: {m.map['name']}, {len(m.map['tables'])} tables, {len(m.notes)} notes")
    expect(MAIN in imported, f"{MAIN} imports")

    print("2. the sample database against hand-written SQL")
    import psycopg

    db = f"mamoru_fides_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + db
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(archive.read(SAMPLE).decode("utf-8"))  # type: ignore[arg-type]
        live = primary_keys(url)
        main_map = interop.from_fides(
            dataset_files(archive)[f"fides/data/sample_project/sample_resources/{MAIN}.yml"],
            url_env="FIDES_SAMPLE_URL",
            policy=policy,
            overrides=CATEGORIES,
            live_keys=live,
        )[0]
        dataset = parse_map(interop.to_yaml(main_map.map, "bench", main_map.notes), f"{MAIN}.yaml", policy)
        expect(
            dataset.table("order_item").key == ("order_id", "item_no"), "order_item keeps its composite key"
        )
        expect(dataset.table("visit").key == ("email", "last_visit"), "visit keeps its composite key")
        references = sum(len(t.references) for t in dataset.tables)
        expect(references == 10, f"all 10 references of the dataset are in the map ({references})")
        tables = [t.name for t in dataset.tables]
        for email in PEOPLE:
            connector = SqlConnector(dataset, url)
            with connector.engine.connect() as conn:
                found = {t: set(k) for t, k in connector.find(conn, {"email": email}).keys.items() if k}
            expected = hand_rows(url, email)
            total = sum(len(v) for v in expected.values())
            expect(found == expected, f"{email}: the map finds the {total} rows of the hand-written SQL")
            before = snapshot(url, tables)
            result = connector.erase({"email": email})
            after = snapshot(url, tables)
            changed = 0
            for t in tables:
                key = dataset.table(t).key
                mine = expected.get(t, set())
                others_before = [r for r in before[t] if tuple(r[c] for c in key) not in mine]
                others_after = [r for r in after[t] if tuple(r[c] for c in key) not in mine]
                expect(
                    sorted(map(str, others_before)) == sorted(map(str, others_after)),
                    f"{email}: no other person's row of {t} changed",
                )
                keys_of = dataset.key_columns(t)
                for r in after[t]:
                    k = tuple(r[c] for c in key)
                    if k in mine:
                        old = next(b for b in before[t] if tuple(b[c] for c in key) == k)
                        if old != r:
                            changed += 1
                        for c in keys_of:
                            if old[c] != r[c]:
                                expect(False, f"{email}: key {t}.{c} changed")
                        for v in r.values():
                            if isinstance(v, str) and v.startswith(MASK):
                                expect(email not in v, f"{email}: an erase marker holds no personal value")
            deleted = sum(result["deleted_rows"].values())
            masked = sum(result["masked_rows"].values())
            gone = sum(len(before[t]) - len(after[t]) for t in tables)
            expect(deleted == gone, f"{email}: deleted_rows {deleted} = rows gone {gone}")
            expect(masked == changed, f"{email}: masked_rows {masked} = rows changed {changed}")
            again = connector.erase({"email": email})
            expect(
                sum(again["deleted_rows"].values()) + sum(again["masked_rows"].values()) == 0,
                f"{email}: a rerun changes nothing",
            )
            connector.dispose()

        print("3. a draft of the sample database (it declares no foreign key)")
        from mamoru.scan import draft

        with psycopg.connect(url, autocommit=True) as conn:  # the sample again, as it was
            conn.execute(
                "DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS backup_schema CASCADE"
            )
            conn.execute(archive.read(SAMPLE).decode("utf-8"))  # type: ignore[arg-type]
        data, notes = draft.draft(url, name="sample", url_env="FIDES_SAMPLE_URL", policy=policy)
        drafted = parse_map(interop.to_yaml(data, "draft", notes), "draft.yaml", policy)
        proposed = {(t.name, c, r.target) for t in drafted.tables for r in t.references for c in r.columns}
        wanted = {(t.name, r.columns[0], r.target) for t in dataset.tables for r in t.references}
        hit = len(wanted & proposed)
        expect(hit == len(wanted), f"draft proposes {hit} of the dataset's {len(wanted)} references")
        personal = {(t.name, f.name) for t in dataset.tables for f in t.fields if f.categories}
        classified = {
            (t.name, f.name) for t in drafted.tables for f in t.fields if f.categories and t.db_schema is None
        }
        hit = len(personal & classified)
        print(
            f"  draft classifies {hit} of the dataset's {len(personal)} personal fields; missed: "
            f"{sorted(personal - classified)}"
        )
        expect(hit >= len(personal) - 3, "draft classifies the personal fields (at most 3 missed)")
        backup = {t.name for t in drafted.tables if t.db_schema == "backup_schema"}
        public = {t.name for t in drafted.tables if t.db_schema is None}
        expect(
            bool(backup) and bool(backup & public),
            f"draft reads every schema: backup_schema's {len(backup)} tables mapped as backup_schema.<table>, "
            f"{len(backup & public)} of them beside public's table of the same name",
        )
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    print(f"{len(failures)} failed, {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
