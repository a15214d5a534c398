"""What a console list's template needs to sort, filter and page without script: the addresses of its
header links and pager (keeping the other parameters), its filter choices in words, and a sentence for
each parameter it set aside. The lists themselves are read in the services (``store.listing``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from mamoru.policy.notice import Lang
from mamoru.store.listing import ListQuery, ListSpec
from mamoru.store.paging import Page
from mamoru.web.i18n import labels


def asked(request: Request, spec: ListSpec) -> ListQuery:
    """The list query of ``request``'s parameters (the first value of each, cut short)."""
    params = {name: request.query_params.get(name, "")[:200] for name in spec.params}
    return spec.read(params)


@dataclass(frozen=True)
class Choice:
    """A select of the filter form: its parameter, its label and its (value, words) options."""

    name: str
    label: str
    options: Sequence[tuple[str, str]]
    #: the words of the "every one" option; None: the select has no such option
    every: str | None = None


@dataclass(frozen=True)
class Listing:
    """One list on a page: where it is, what was asked, the page read, and the filter form's parts."""

    path: str
    spec: ListSpec
    asked: ListQuery
    page: Page[Any]
    lang: Lang
    choices: Sequence[Choice] = ()
    #: the page's other parameters to keep in every link (another list's, ``lang``)
    keep: Mapping[str, str] = field(default_factory=dict)
    #: words for the search box's label (None: the list has none)
    search_label: str | None = None
    anchor: str = ""

    def _state(self) -> dict[str, str]:
        p = self.spec.param
        state = {k: v for k, v in self.keep.items() if v}
        state.update({p(k): v for k, v in self.asked.filters.items()})
        if self.asked.search:
            state[p("q")] = self.asked.search
        if self.asked.sort != self.spec.default:
            state[p("sort")] = self.asked.sort
        state["lang"] = self.lang
        return state

    def url(self, **changes: str) -> str:
        state = self._state()
        for name, value in changes.items():
            key = self.spec.param(name)
            if value:
                state[key] = value
            else:
                state.pop(key, None)
        anchor = f"#{self.anchor}" if self.anchor else ""
        return f"{self.path}?{urlencode(state)}{anchor}"

    def sort_url(self, key: str) -> str:
        """The header link of ``key``: ascending first, then the other way on the sorted column; the
        filters stay, the page goes back to the first."""
        on = self.asked.sort_key == key
        return self.url(sort=f"-{key}" if on and not self.asked.descending else key)

    def aria_sort(self, key: str) -> str | None:
        if self.asked.sort_key != key:
            return None
        return "descending" if self.asked.descending else "ascending"

    @property
    def clear_url(self) -> str:
        """The list without its filters and search (the sort stays)."""
        return self.url(q="", **dict.fromkeys(self.spec.filters, ""))

    @property
    def pager_url(self) -> str:
        """The list's address with its state, ready for ``page=`` (the pager template's contract)."""
        return self.url().split("#")[0] + "&" + self.spec.param("")

    @property
    def hidden(self) -> dict[str, str]:
        """The parameters the filter form carries unseen (the sort, a filter it has no select for, the
        other lists', the language)."""
        mine = {self.spec.param(n) for n in ("q", *(c.name for c in self.choices))}
        return {k: v for k, v in self._state().items() if k not in mine}

    @property
    def filtered(self) -> bool:
        return bool(self.asked.filters or self.asked.search)

    @property
    def notes(self) -> list[str]:
        """A sentence for each parameter set aside."""
        words = labels(self.lang)
        names = {self.spec.param(c.name): c.label for c in self.choices}
        names[self.spec.param("sort")] = words["list_param_sort"]
        names[self.spec.param("page")] = words["list_param_page"]
        return [
            words["list_ignored"].format(name=names.get(name, words["list_param_other"]))
            for name in self.asked.ignored
        ]


def listing(
    request: Request,
    path: str,
    spec: ListSpec,
    asked: ListQuery,
    page: Page[Any],
    lang: Lang,
    *,
    choices: Sequence[Choice] = (),
    search_label: str | None = None,
    keep: Sequence[ListSpec] = (),
    keep_extra: Mapping[str, str] | None = None,
    anchor: str = "",
) -> Listing:
    """A :class:`Listing` that keeps the parameters of the page's other lists (``keep``) and the page's
    own (``keep_extra``, already checked) in its links."""
    others = {name: request.query_params.get(name, "")[:200] for other in keep for name in other.params}
    others.update(keep_extra or {})
    return Listing(path, spec, asked, page, lang, choices, others, search_label, anchor)
