"""Lists that sort, filter and page in the database.

A list declares what it may be sorted and filtered by (:class:`ListSpec`: a whitelist of columns); a
page's query parameters are read against it (:meth:`ListSpec.read`), anything else is set aside and
named, never passed on to SQL; the query then orders, narrows and pages in the database
(:func:`list_page`), so that a page costs the same at any size when its sort column is indexed.

Text search looks only in the columns a list names, which must hold codes and references (a request's
reference, a staff login), never an encrypted or personal value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from mamoru.store.paging import PER_PAGE, Page, page_of

#: the longest text search read; a longer one is cut
MAX_SEARCH = 64
#: the highest page number read (a page past the end shows the last one)
MAX_PAGE = 10**6
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

#: a column a list sorts, filters or searches by (a mapped attribute or an expression)
Column = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True)
class Filter:
    """One way a list may be narrowed: ``column = value``, or ``where(value)`` when the choice is not a
    column's value. ``values`` are the accepted ones (``None``: any short code)."""

    column: Column | None = None
    values: Collection[str] | None = None
    where: Callable[[str], ColumnElement[bool]] | None = None

    def accepts(self, value: str) -> bool:
        if self.values is not None:
            return value in self.values
        return bool(_TOKEN.match(value))

    def clause(self, value: str) -> ColumnElement[bool]:
        if self.where is not None:
            return self.where(value)
        assert self.column is not None, "a filter needs a column or a where"
        return self.column == value


@dataclass(frozen=True)
class ListQuery:
    """What a page asked of a list, once read against its :class:`ListSpec`."""

    sort: str  # a key of the spec's sorts, "-" first for the largest first
    filters: Mapping[str, str] = field(default_factory=dict)
    search: str = ""
    page: int = 1
    #: the names of the parameters that were set aside (an unknown column, a page that is no number)
    ignored: tuple[str, ...] = ()

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


@dataclass(frozen=True)
class ListSpec:
    """What one list may be sorted and filtered by.

    ``sorts`` maps a key to the columns it orders by; ``default`` is the key used when none (or an
    unknown one) is asked for; ``tiebreak`` makes the order total so that pages never overlap, and goes
    the sort's way (the largest first is the smallest first read backwards), so that one index on
    (sort column, tiebreak) serves a list both ways.
    ``prefix`` names the parameters (``<prefix>sort``, ``<prefix>page``, …) when a page shows more
    than one list."""

    sorts: Mapping[str, tuple[Column, ...]]
    default: str
    tiebreak: Column
    filters: Mapping[str, Filter] = field(default_factory=dict)
    search: tuple[Column, ...] = ()
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.default.lstrip("-") not in self.sorts:
            raise ValueError(f"default sort {self.default!r} is not one of {sorted(self.sorts)}")

    def param(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def params(self) -> tuple[str, ...]:
        """Every parameter this list reads."""
        names = ("sort", "page", "q", *self.filters) if self.search else ("sort", "page", *self.filters)
        return tuple(self.param(n) for n in names)

    def read(self, params: Mapping[str, str]) -> ListQuery:
        """The list query that ``params`` ask for; a value this list does not know is set aside and named
        in ``ignored`` (never an error: a stale bookmark still opens the list)."""
        ignored: list[str] = []
        sort = params.get(self.param("sort"), "").strip()
        if sort and sort.lstrip("-") not in self.sorts:
            ignored.append(self.param("sort"))
            sort = ""
        filters: dict[str, str] = {}
        for name, f in self.filters.items():
            value = params.get(self.param(name), "").strip()
            if not value:
                continue
            if f.accepts(value):
                filters[name] = value
            else:
                ignored.append(self.param(name))
        search = " ".join(params.get(self.param("q"), "").split())[:MAX_SEARCH] if self.search else ""
        raw_page = params.get(self.param("page"), "").strip()
        page = 1
        if raw_page:
            if raw_page.isdigit() and 1 <= int(raw_page) <= MAX_PAGE:
                page = int(raw_page)
            else:
                ignored.append(self.param("page"))
        return ListQuery(sort or self.default, filters, search, page, tuple(ignored))

    def apply(self, query: Select[Any], asked: ListQuery) -> Select[Any]:
        """``query`` narrowed by the filters and the search, and ordered by the sort, then the tiebreak
        (both the sort's way)."""
        for name, value in asked.filters.items():
            query = query.where(self.filters[name].clause(value))
        if asked.search and self.search:
            query = query.where(or_(*(c.contains(asked.search, autoescape=True) for c in self.search)))
        columns = self.sorts.get(asked.sort_key) or self.sorts[self.default.lstrip("-")]
        order = [c.desc() if asked.descending else c.asc() for c in (*columns, self.tiebreak)]
        return query.order_by(*order)


def list_page(
    session: Session,
    query: Select[Any],
    spec: ListSpec,
    asked: ListQuery,
    view: Callable[[Any], Any] = lambda row: row[0],
    size: int = PER_PAGE,
) -> Page[Any]:
    """One page of ``query`` as ``asked``: filtered, sorted and counted in the database; ``view`` turns
    each row into what the page shows."""
    rows, number, total = page_of(session, spec.apply(query, asked), asked.page, size)
    return Page([view(row) for row in rows], number, size, total)
