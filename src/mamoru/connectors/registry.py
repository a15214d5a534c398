"""The datastores a workspace reaches: every map in ``<home>/datasets/``, each with the URL from the
environment variable it names."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.connectors.maps import DatasetMap, load_maps
from mamoru.connectors.said import Said, in_words
from mamoru.connectors.sql import ForeignKeyLink, SqlConnector
from mamoru.errors import ConfigurationError, MamoruError
from mamoru.ledger.tables import LedgerEntry
from mamoru.workspace import Workspace


class UrlUnset(Said, ConfigurationError):
    """A map names an environment variable for its datastore's URL, and it is not set."""


_lock = threading.Lock()
_cache: dict[tuple[int, str], dict[str, SqlConnector]] = {}
_off: set[int] = set()


@contextmanager
def without_datastores(ws: Workspace) -> Iterator[None]:
    """Within it, requests of ``ws`` reach no datastore of ``<home>/datasets`` (the demo's synthetic
    people are not in the operator's databases, and the demo must never change them)."""
    _off.add(id(ws))
    try:
        yield
    finally:
        _off.discard(id(ws))


def datasets_dir(ws: Workspace) -> Path:
    return ws.settings.home / "datasets"


def _signature(folder: Path) -> str:
    if not folder.is_dir():
        return ""
    return ";".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.yaml")))


def connectors(ws: Workspace) -> dict[str, SqlConnector]:
    """The connectors of the maps in the workspace (reloaded when a map file changes)."""
    if id(ws) in _off:
        return {}
    folder = datasets_dir(ws)
    key = (id(ws), _signature(folder))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            return found
        for old in [k for k in _cache if k[0] == id(ws)]:
            for c in _cache.pop(old).values():
                c.dispose()
        found = {}
        for m in load_maps(folder, ws.policy.policy):
            url = os.environ.get(m.url_env)
            if not url:
                raise UrlUnset("conn_url_unset", f"{m.name}: ", env=m.url_env)
            found[m.name] = SqlConnector(m, url)
        _cache[key] = found
        return found


def ledger_links(ws: Workspace) -> dict[str, list[str]]:
    """Ledger entry code -> the datastores whose maps say they hold its data (the ledger's "where").
    A map that does not check is left out here; `mamoru connectors check` says why."""
    links: dict[str, list[str]] = {}
    try:
        maps = load_maps(datasets_dir(ws), ws.policy.policy)
    except MamoruError:
        return links
    for m in maps:
        for code in m.ledger_entries:
            links.setdefault(code, []).append(m.name)
    return links


@dataclass(frozen=True)
class DatastoreCheck:
    """One datastore as `mamoru connectors list` reports it: its map, the ledger entries it names that the
    ledger does not have, and how a test connection went (``None`` when not tested)."""

    name: str
    map: DatasetMap
    unknown_ledger_entries: list[str]
    tested_tables: int | None = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return not self.unknown_ledger_entries and self.failure is None


def check(session: Session, ws: Workspace, *, test: bool, lang: str = "en") -> list[DatastoreCheck]:
    """Every datastore: its map names only ledger entries that exist, and (with ``test``) it answers."""
    codes = set(session.scalars(select(LedgerEntry.code)))
    found = []
    for name, c in sorted(connectors(ws).items()):
        tables, failure = None, None
        if test:
            try:
                tables = c.test()
            except MamoruError as exc:
                failure = in_words(exc, lang)
        unknown = [e for e in c.map.ledger_entries if e not in codes]
        found.append(DatastoreCheck(name, c.map, unknown, tables, failure))
    return found


@dataclass(frozen=True)
class LiveCheck:
    """A map against its live database: the foreign keys the database has and the map does not declare."""

    name: str
    undeclared: list[ForeignKeyLink]
    failure: str | None = None
    wrong_keys: list[str] | None = None

    @property
    def ok(self) -> bool:
        return not self.undeclared and self.failure is None and not self.wrong_keys


def _live(name: str, connector: SqlConnector, lang: str) -> LiveCheck:
    try:
        connector.test()  # every mapped table and column is there
        return LiveCheck(name, connector.undeclared_foreign_keys(), wrong_keys=connector.key_mismatches())
    except MamoruError as exc:
        return LiveCheck(name, [], in_words(exc, lang))


def live_check(ws: Workspace, maps: list[DatasetMap] | None = None, lang: str = "en") -> list[LiveCheck]:
    """Each map (those of ``<home>/datasets/`` unless given) against the foreign keys of its live database."""
    if maps is None:
        return [_live(name, c, lang) for name, c in sorted(connectors(ws).items())]
    found = []
    for m in maps:
        url = os.environ.get(m.url_env)
        if not url:
            found.append(LiveCheck(m.name, [], UrlUnset("conn_url_unset", "", env=m.url_env).text(lang)))
            continue
        connector = SqlConnector(m, url)
        try:
            found.append(_live(m.name, connector, lang))
        finally:
            connector.dispose()
    return found
