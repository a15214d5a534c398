"""Making dataset maps from an Ethyca Fides dataset file (a draft from a live database is
``mamoru.scan.draft``: it needs the scanner).

Fides datasets are read in their published YAML format (``dataset: [{fides_key, collections: …}]``)
without the ``fideslang`` package: it pins pydantic below 2.13 and mamoru runs on a newer one. Fides
data categories are translated into the policy's categories by the longest matching prefix; anything
left untranslated is reported, and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from mamoru.connectors.said import Said
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


class InteropFailed(Said):
    http_status = 422


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: Fides masking strategies -> a field's erase rule (``delete`` is the whole row: the table's rule).
_STRATEGIES = {
    "null_rewrite": "set_null",
    "string_rewrite": "mask",
    "random_string_rewrite": "mask",
    "hash": "mask",
    "hmac": "mask",
    "aes_encrypt": "mask",
}


def _category(key: str, table: dict[str, str]) -> str | None:
    """The policy category of a Fides data category: the longest prefix in ``table`` (the built-in
    translations and the run's ``--category`` ones, which may name any category, bare ``user`` too);
    ``system.*`` categories are not personal unless ``--category`` says so."""
    best = max((p for p in table if key == p or key.startswith(p + ".")), key=len, default=None)
    return table[best] if best else None


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    """``fides_meta``, or its older name ``fidesops_meta``."""
    meta = item.get("fides_meta")
    if meta is None:
        meta = item.get("fidesops_meta")
    return meta if isinstance(meta, dict) else {}


def _refuse(where: str, feature: str, **params: object) -> InteropFailed:
    """The one feature (``fides_<feature>`` of the catalog) a map cannot say, and where it is."""
    return InteropFailed(f"fides_{feature}", f"{where}: ", **params)


def _refuse_documents(key: str, collections: Any) -> None:
    """A dataset of a document database (nested fields, object and array types) is refused first."""
    for coll in collections if isinstance(collections, list) else []:
        for f in (coll.get("fields") or []) if isinstance(coll, dict) else []:
            if not isinstance(f, dict):
                continue
            data_type = str(_meta(f).get("data_type") or "")
            if f.get("fields") or data_type.startswith("object") or data_type.endswith("[]"):
                raise _refuse(f"{key}.{coll.get('name')}.{f.get('name')}", "documents")


@dataclass
class Imported:
    """One Fides dataset as a mamoru map (a dict ready to write as YAML), and what the import decided
    that a reviewer should know (written at the top of the file)."""

    map: dict[str, Any]
    notes: list[str]


def from_fides(
    source: str,
    *,
    url_env: str,
    policy: Policy,
    overrides: dict[str, str] | None = None,
    live_keys: dict[str, list[str]] | None = None,
) -> list[Imported]:
    """Every dataset of a Fides dataset file as a mamoru map. Refuses (:class:`InteropFailed`, naming the
    one feature and where it is) what a map cannot say: nested fields and document types (MongoDB and
    other non-SQL datastores), references to another dataset. ``live_keys`` (table -> primary key
    columns, read from the database) supplies the keys Fides does not declare."""
    from mamoru.connectors.maps import parse_map

    try:
        data = safe_load(source)
    except AnchorRefused as exc:
        raise InteropFailed("fides_yaml", detail=exc.reason) from None
    except yaml.YAMLError as exc:
        raise InteropFailed("fides_yaml", detail=exc) from None
    datasets = data.get("dataset") if isinstance(data, dict) else None
    if not isinstance(datasets, list) or not datasets:
        raise InteropFailed("fides_not_fides")
    table = {**FIDES_CATEGORIES, **(overrides or {})}
    known = {c.id for c in policy.categories}
    for fides, given in (overrides or {}).items():
        if given not in known:
            raise InteropFailed("mapissue_unknown_category", f"--category {fides}={given}: ", category=given)
    unmapped: set[str] = set()
    results = []
    for d, ds in enumerate(datasets):
        if not isinstance(ds, dict):
            raise _refuse(f"dataset {d + 1}", "dataset_shape")
        key = str(ds.get("fides_key", "")).strip()
        if not _NAME.match(key):
            raise InteropFailed("fides_key_name", name=key)
        notes: list[str] = []
        tables: list[dict[str, Any]] = []
        namespace = _meta(ds).get("namespace")
        schema = namespace.get("schema") if isinstance(namespace, dict) else None
        if schema is not None and not _NAME.match(str(schema)):
            raise _refuse(f"dataset {key}", "schema_name", schema=schema)
        _refuse_documents(key, ds.get("collections"))
        collections = ds.get("collections")
        if not isinstance(collections, list) or not collections:
            raise _refuse(f"dataset {key}", "no_collections")
        for c, coll in enumerate(collections):
            if not isinstance(coll, dict) or not _NAME.match(str(coll.get("name", ""))):
                raise _refuse(f"dataset {key}, collection {c + 1}", "collection_name")
            cname = str(coll["name"])
            where = f"{key}.{cname}"
            cmeta = _meta(coll)
            if cmeta.get("skip_processing"):
                notes.append(
                    f"collection {cname} left out: skip_processing in Fides (a request does not reach it)"
                )
                continue
            raw_fields = coll.get("fields")
            if not isinstance(raw_fields, list) or not raw_fields:
                raise _refuse(where, "no_fields")
            fields: list[dict[str, Any]] = []
            identities: dict[str, list[str]] = {}
            references: list[dict[str, Any]] = []
            pk: list[str] = []
            read_only_fields: set[str] = set()
            overrides_of: dict[str, str] = {}
            for k, f in enumerate(raw_fields):
                if not isinstance(f, dict) or not _NAME.match(str(f.get("name", ""))):
                    raise _refuse(f"{where}, field {k + 1}", "field_name")
                name = str(f["name"])
                meta = _meta(f)
                data_type = str(meta.get("data_type") or "")
                if f.get("fields") or data_type.startswith("object") or data_type.endswith("[]"):
                    raise _refuse(f"{where}.{name}", "documents")
                categories: list[str] = []
                for category in f.get("data_categories") or []:
                    ours = _category(str(category), table)
                    if ours is None and not str(category).startswith("system."):
                        unmapped.add(str(category))
                    elif ours is not None and ours not in known:
                        unmapped.add(f"{category} -> {ours} (not a category of the policy)")
                    elif ours is not None and ours not in categories:
                        categories.append(ours)
                if meta.get("primary_key"):
                    pk.append(name)
                identity = meta.get("identity") or meta.get("custom_request_field")
                if identity:
                    kind = FIDES_IDENTITIES.get(str(identity), str(identity))
                    if not _NAME.match(kind):
                        raise _refuse(f"{where}.{name}", "identity_name", identity=identity)
                    identities.setdefault(kind, []).append(name)
                    if kind not in ("email", "phone"):
                        notes.append(
                            f"{cname}.{name}: identity '{kind}' is kept, but a request starts only from a verified "
                            "e-mail or phone"
                        )
                if meta.get("read_only"):
                    read_only_fields.add(name)
                override = meta.get("masking_strategy_override")
                if isinstance(override, dict) and override.get("strategy"):
                    overrides_of[name] = str(override["strategy"])
                for ref in meta.get("references") or []:
                    target = str(ref.get("field", ""))
                    if ref.get("dataset") != key:
                        raise _refuse(f"{where}.{name}", "other_dataset", to=f"{ref.get('dataset')}.{target}")
                    if target.count(".") != 1:
                        raise _refuse(f"{where}.{name}", "nested_ref", to=target)
                    direction = ref.get("direction")
                    # Fides "from": the other collection is found first, this one from it (our child);
                    # no direction: Fides follows it both ways.
                    follow = {"to": "parent", "from": "child"}.get(str(direction), "both")
                    references.append({"column": name, "to": target, "follow": follow})
                entry: dict[str, Any] = {"name": name}
                if categories:
                    entry["categories"] = categories
                fields.append(entry)
            names = [f["name"] for f in fields]
            live = (live_keys or {}).get(f"{schema}.{cname}" if schema else cname)
            if not pk and live:
                pk = list(live)
                for column in pk:
                    if column not in names:
                        fields.append({"name": column})
                        names.append(column)
                notes.append(
                    f"{cname}: primary key {', '.join(pk)} read from the database (Fides names none)"
                )
            elif not pk:
                pk = ["id"] if "id" in names else list(names)
                notes.append(
                    f"{cname}: Fides names no primary key; taken as ({', '.join(pk)}). Check it with "
                    "`mamoru connectors check FILE --live`, or give the database URL when importing"
                )
            tables.append(
                {
                    "cname": cname,
                    "pk": pk,
                    "identities": identities,
                    "references": references,
                    "fields": fields,
                    "read_only": read_only_fields,
                    "overrides": overrides_of,
                    "strategy": str((cmeta.get("masking_strategy_override") or {}).get("strategy") or ""),
                }
            )
        # keys: every primary key column and both ends of every reference; an erasure never touches them
        keys: dict[str, set[str]] = {t["cname"]: set(t["pk"]) for t in tables}
        for t in tables:
            for r in t["references"]:
                keys[t["cname"]].add(r["column"])
                target, _, column = r["to"].partition(".")
                if target not in keys:
                    raise _refuse(f"{key}.{t['cname']}.{r['column']}", "ref_missing", to=r["to"])
                keys[target].add(column)
        out_tables = []
        for t in tables:
            cname, table_erase = t["cname"], "fields"
            identity_columns = {c for cols in t["identities"].values() for c in cols}
            if t["strategy"] == "delete":
                table_erase = "delete"
            elif t["strategy"] and t["strategy"] not in _STRATEGIES:
                raise _refuse(f"{key}.{cname}", "strategy", strategy=t["strategy"])
            elif set(t["pk"]) & identity_columns:
                table_erase = "delete"
                notes.append(
                    f"{cname}: erase: delete, as its key holds an identity ({', '.join(sorted(set(t['pk']) & identity_columns))}), "
                    "which is never masked"
                )
            for f in t["fields"]:
                name = f["name"]
                if name in t["read_only"]:
                    f["read_only"] = True
                    continue
                if table_erase != "fields" or not f.get("categories") or name in keys[cname]:
                    continue
                strategy = t["overrides"].get(name) or t["strategy"]
                if strategy and strategy not in _STRATEGIES:
                    raise _refuse(f"{key}.{cname}.{name}", "strategy", strategy=strategy)
                f["erase"] = _STRATEGIES.get(strategy, "mask")
            identities = {kind: cols[0] if len(cols) == 1 else cols for kind, cols in t["identities"].items()}
            out_tables.append(
                {
                    "name": cname,
                    **({"schema": str(schema)} if schema else {}),
                    "primary_key": t["pk"][0] if len(t["pk"]) == 1 else t["pk"],
                    **({"identities": identities} if identities else {}),
                    **({"references": t["references"]} if t["references"] else {}),
                    **({"erase": table_erase} if table_erase != "fields" else {}),
                    "fields": t["fields"],
                }
            )
        result = {
            "schema": "mamoru.dataset/1",
            "name": key,
            "url_env": url_env,
            "ledger_entries": [],
            "tables": out_tables,
        }
        if not unmapped:
            try:  # the written map passes `check`, always
                parse_map(to_yaml(result, ""), f"{key}.yaml", policy)
            except MamoruError as exc:
                raise InteropFailed("fides_invalid_map", f"dataset {key}: ", detail=exc) from None
        results.append(Imported(result, notes))
    if unmapped:
        raise InteropFailed("fides_unmapped", categories=", ".join(sorted(unmapped)))
    return results


def to_yaml(data: dict[str, Any], note: str, notes: list[str] | None = None) -> str:
    head = f"# {note}\n" + "".join(f"# - {n}\n" for n in notes or [])
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
