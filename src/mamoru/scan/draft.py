"""A draft dataset map of a live database: its keys and foreign keys as they are, each column's
categories from the discovery scanner, nothing erased until someone decides."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, inspect, select

from mamoru.policy.model import Policy
from mamoru.scan.analyzer import Analyzer
from mamoru.scan.columns import classify
from mamoru.scan.gaps import suggest_categories

#: Column-name hints for a draft, used where the scanner finds nothing in a column's sampled values.
_HINTS = (
    (r"mail", "contact"),
    (r"phone|tel|mobile", "contact"),
    (r"address|addr|postal|zip|city|street", "contact"),
    (r"name|kana", "identity"),
    (r"birth|dob|gender", "identity"),
    (r"salary|bank|account_no|card|iban", "payment"),
    (r"health|medical|diagnos", "health"),
)


def draft(url: str, *, name: str, url_env: str, policy: Policy) -> dict[str, Any]:
    """A draft map of every table of a live database: keys and foreign keys as they are, categories
    from the discovery scanner (each column classified from its name and a sample of its values; the
    column name alone where the values say nothing), nothing erased until someone decides (every
    field ``keep``)."""
    known = {c.id for c in policy.categories}
    analyzer = Analyzer()
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        meta = MetaData()
        tables = []
        for table in sorted(inspector.get_table_names()):
            columns = inspector.get_columns(table)
            pk = inspector.get_pk_constraint(table).get("constrained_columns") or [columns[0]["name"]]
            with engine.connect() as conn:
                reflected = Table(table, meta, autoload_with=conn)
                sample = conn.execute(select(reflected).limit(200)).all()
            names = [c.name for c in reflected.columns]
            fields: list[dict[str, Any]] = []
            identities: dict[str, str] = {}
            for col in columns:
                column = str(col["name"])
                entry: dict[str, Any] = {"name": column}
                i = names.index(column)
                values = [None if r[i] is None or isinstance(r[i], bytes) else str(r[i]) for r in sample]
                found = sorted(classify(analyzer, column, values).cells) if column not in pk else []
                suggested = suggest_categories(found, policy.categories)
                if suggested:
                    entry["categories"] = suggested
                else:
                    for pattern, category in _HINTS:
                        if (
                            category in known
                            and re.search(pattern, column, re.IGNORECASE)
                            and column not in pk
                        ):
                            entry["categories"] = [category]
                            break
                if re.fullmatch(r"e?_?mail(_address)?", column, re.IGNORECASE) or (
                    "email" in found and "email" not in identities
                ):
                    identities.setdefault("email", column)
                elif re.fullmatch(r"(phone|tel|mobile)(_number)?", column, re.IGNORECASE) or (
                    "phone" in found and "phone" not in identities
                ):
                    identities.setdefault("phone", column)
                fields.append(entry)
            nullable = {c["name"]: c.get("nullable", True) for c in inspector.get_columns(table)}
            references = [
                {
                    "column": fk["constrained_columns"][0],
                    "to": f"{fk['referred_table']}.{fk['referred_columns'][0]}",
                    # a row pointing at another row of its own table (a manager, a parent) is not
                    # thereby that person's: it is kept, and its pointer cleared when the other goes
                    **(
                        {
                            "follow": "none",
                            "on_erase": "set_null"
                            if nullable.get(fk["constrained_columns"][0])
                            else "restrict",
                        }
                        if fk["referred_table"] == table
                        else {}
                    ),
                }
                for fk in inspector.get_foreign_keys(table)
                if len(fk["constrained_columns"]) == 1
            ]
            tables.append(
                {
                    "name": table,
                    "primary_key": pk[0],
                    **({"identities": identities} if identities else {}),
                    **({"references": references} if references else {}),
                    "fields": fields,
                }
            )
    finally:
        engine.dispose()
    return {
        "schema": "mamoru.dataset/1",
        "name": name,
        "url_env": url_env,
        "ledger_entries": [],
        "tables": tables,
    }
