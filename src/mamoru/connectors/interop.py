"""Making dataset maps from an Ethyca Fides dataset file (a draft from a live database is
``mamoru.scan.draft``: it needs the scanner).

Fides datasets are read in their published YAML format (``dataset: [{fides_key, collections: …}]``)
without the ``fideslang`` package: it pins pydantic below 2.13 and mamoru runs on a newer one. Fides
data categories are translated into the policy's categories by the longest matching prefix; anything
left untranslated is reported, and nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from mamoru.errors import MamoruError
from mamoru.policy.model import Policy
from mamoru.yamlsafe import AnchorRefused, safe_load

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
        data = safe_load(source)
    except AnchorRefused as exc:
        raise InteropFailed(exc.reason) from None
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


def to_yaml(data: dict[str, Any], note: str) -> str:
    return f"# {note}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
