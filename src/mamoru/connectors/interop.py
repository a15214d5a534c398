"""Making dataset maps: from an Ethyca Fides dataset file, or a draft from a live database.

Fides datasets are read in their published YAML format (``dataset: [{fides_key, collections: …}]``)
without the ``fideslang`` package: it pins pydantic below 2.13 and mamoru runs on a newer one. Fides
data categories are translated into the policy's categories by the longest matching prefix; anything
left untranslated is reported, and nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from sqlalchemy import create_engine, inspect

from mamoru.errors import MamoruError
from mamoru.policy.model import Policy

#: Fides taxonomy prefix -> the reference policy's category (override per run with --category).
FIDES_CATEGORIES: dict[str, str] = {
    "user.contact": "contact",
    "user.name": "identity",
    "user.unique_id": "identity",
    "user.account": "identity",
    "user.demographic": "identity",
    "user.government_id": "identity",
    "user.financial": "payment",
    "user.payment": "payment",
    "user.health_and_medical": "health",
    "user.workplace": "hr_record",
    "user.job_title": "hr_record",
    "user.authorization": "credentials",
    "user.behavior": "usage_log",
    "user.device": "usage_log",
    "user.location": "usage_log",
}
FIDES_IDENTITIES = {"email": "email", "phone_number": "phone", "phone": "phone"}


class InteropFailed(MamoruError):
    http_status = 422


def _category(key: str, table: dict[str, str]) -> str | None:
    if key.startswith("system.") or key == "user":
        return None
    best = max((p for p in table if key == p or key.startswith(p + ".")), key=len, default=None)
    return table[best] if best else None


def from_fides(
    source: str, *, url_env: str, policy: Policy, overrides: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every dataset of a Fides dataset file as a mamoru map (a dict ready to write as YAML)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise InteropFailed(f"not valid YAML: {exc}") from None
    datasets = data.get("dataset") if isinstance(data, dict) else None
    if not isinstance(datasets, list) or not datasets:
        raise InteropFailed("not a Fides dataset file: no top-level 'dataset' list")
    table = {**FIDES_CATEGORIES, **(overrides or {})}
    known = {c.id for c in policy.categories}
    unmapped: set[str] = set()
    maps = []
    for ds in datasets:
        key = str(ds.get("fides_key", "")).strip()
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", key):
            raise InteropFailed(f"dataset fides_key '{key}' cannot be a datastore name")
        tables = []
        for coll in ds.get("collections") or []:
            fields, identities, references, pk = [], {}, [], None
            for f in coll.get("fields") or []:
                meta = f.get("fides_meta") or {}
                name = str(f["name"])
                categories = []
                for c in f.get("data_categories") or []:
                    ours = _category(str(c), table)
                    if ours is None and not str(c).startswith("system."):
                        unmapped.add(str(c))
                    elif ours is not None and ours not in known:
                        unmapped.add(f"{c} -> {ours} (not a category of the policy)")
                    elif ours is not None and ours not in categories:
                        categories.append(ours)
                if meta.get("primary_key"):
                    pk = name
                if meta.get("identity") in FIDES_IDENTITIES:
                    identities[FIDES_IDENTITIES[meta["identity"]]] = name
                for ref in meta.get("references") or []:
                    target_dataset = ref.get("dataset")
                    target = str(ref.get("field", ""))
                    if target_dataset != key or target.count(".") != 1:
                        continue  # across datasets: each datastore's map stands alone
                    # Fides "from": the other collection is found first, this one from it (our child).
                    follow = "parent" if ref.get("direction") == "to" else "child"
                    references.append({"column": name, "to": target, "follow": follow})
                entry: dict[str, Any] = {"name": name}
                if categories:
                    entry["categories"] = categories
                    entry["erase"] = "mask"
                fields.append(entry)
            names = [f["name"] for f in fields]
            tables.append(
                {
                    "name": coll["name"],
                    "primary_key": pk or ("id" if "id" in names else names[0]),
                    **({"identities": identities} if identities else {}),
                    **({"references": references} if references else {}),
                    "fields": fields,
                }
            )
        maps.append(
            {
                "schema": "mamoru.dataset/1",
                "name": key,
                "url_env": url_env,
                "ledger_entries": [],
                "tables": tables,
            }
        )
    if unmapped:
        raise InteropFailed(
            "Fides data categories without a policy category (give --category FIDES=OURS): "
            + ", ".join(sorted(unmapped))
        )
    return maps


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
    from sqlalchemy import MetaData, Table, select

    from mamoru.scan.analyzer import Analyzer
    from mamoru.scan.columns import classify
    from mamoru.scan.gaps import suggest_categories

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
            references = [
                {
                    "column": fk["constrained_columns"][0],
                    "to": f"{fk['referred_table']}.{fk['referred_columns'][0]}",
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


def to_yaml(data: dict[str, Any], note: str) -> str:
    return f"# {note}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
