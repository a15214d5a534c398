"""One page of a long list: its rows, where it stands, and how many rows there are in all (counted in
the database), so that list pages stay fast at any size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

PER_PAGE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 1-based
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the first row shown (1-based; 0 when there are none)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(
    session: Session, query: Select[Any], number: int, size: int = PER_PAGE
) -> tuple[list[Any], int, int]:
    """The rows of page ``number`` of ``query`` (ordered by the caller), the page actually shown (a page
    past the end shows the last one) and the total."""
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    last = max(1, -(-total // size))
    number = min(max(1, number), last)
    rows = list(session.execute(query.offset((number - 1) * size).limit(size)))
    return rows, number, total
