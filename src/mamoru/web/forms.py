"""Back to the form: the pages' one answer to :class:`~mamoru.errors.Invalid`.

Two ways back, chosen by the route:

- A form whose typed values must survive (a portal form, the ledger editor) calls :func:`again` with
  how to show itself once more; the handler shows it with status 422, the values still in it.
- Any other form names the page it came from with ``dependencies=[back_to("/console/x/{ref}")]``;
  the handler redirects there (303) with ``?error=<field>:<type>`` for each problem.

Either way the page shows each problem beside its field and all of them in a summary at the top of the
form, in the page's language (``err_<type>`` in the catalogs). A redirect carries field paths and
catalog keys only, never a value nor a free text: nobody can make a page of ours say something by
crafting a link, and no personal value lands in a URL or a log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from mamoru.errors import Invalid, Problem, as_loc
from mamoru.policy.notice import Lang
from mamoru.web.i18n import catalog, choose_lang


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (reading it is waiting on the network), so that the route
    taking it can be a plain function, which FastAPI runs in its thread pool: the database and the mail
    a route calls never block the loop that every other request is served from."""
    return await request.form()


#: A form with fields the route reads by name, lists or files; the route itself stays ``def``.
PostedForm = Annotated[FormData, Depends(posted_form)]

#: How a form shows itself once more, with the problems beside its fields.
FormAgain = Callable[[list[Problem]], HTMLResponse]

#: What a redirect may carry: a field path of names and indexes, and a catalog key.
_FIELD = re.compile(r"^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,7}$")
_TYPE = re.compile(r"^[a-z0-9_]{1,64}$")
#: At most this many problems travel in a redirect.
MAX_CARRIED = 20


@dataclass(frozen=True, slots=True)
class Shown:
    """One problem as a page shows it: the field path and the text in the page's language."""

    field: str
    text: str

    @property
    def anchor(self) -> str:
        return self.field.replace(".", "-") or "form"


@dataclass(frozen=True, slots=True)
class FormErrors:
    """The problems a page shows: iterate for the summary, :meth:`at` for the text beside a field."""

    items: tuple[Shown, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Shown]:
        return iter(self.items)

    def at(self, field: str) -> str:
        """The text beside ``field``: its own problems and those of its parts (``corrections.0.field``)."""
        texts = [s.text for s in self.items if s.field == field or s.field.startswith(field + ".")]
        return " ".join(dict.fromkeys(texts))

    def beside(self, field: str) -> Markup:
        """The error text to put under the field's input (DADS: label, input, then the error)."""
        found = self.at(field)
        if not found:
            return Markup("")
        return Markup('<span class="field-error" id="{}-error">{}</span>').format(field, found)


def text(lang: Lang, type: str, msg: str = "") -> str:
    """A problem's text: the catalog's ``err_<type>``, else the domain's own words, else a generic one."""
    labels = catalog(lang)
    specific = labels.get(f"err_{type}") if type != "invalid" else None
    return specific or msg or labels["err_invalid"]


def shown(problems: Iterable[Problem], lang: Lang) -> FormErrors:
    """The problems as a page shows them."""
    return FormErrors(tuple(Shown(p.field, text(lang, p.type, p.msg)) for p in problems))


def from_query(request: Request, lang: Lang) -> FormErrors:
    """The problems a redirect brought back (``?error=<field>:<type>``); anything else is ignored."""
    problems = []
    for raw in request.query_params.getlist("error")[:MAX_CARRIED]:
        field, _, type = raw.rpartition(":")
        if not field:
            field, type = type, "invalid"
        if _FIELD.match(field) and _TYPE.match(type):
            problems.append(Problem(as_loc(field), "", type))
    return shown(problems, lang)


def again(request: Request, render: FormAgain) -> None:
    """Declare how this route's form shows itself again if the service finds the input invalid."""
    request.state.form_again = render


def back_to(path: str) -> Any:
    """A route dependency naming the page to go back to, ``{name}`` filled from the path parameters."""

    def remember(request: Request) -> None:
        request.state.form_back = path.format(**request.path_params)

    return Depends(remember)


def answer(request: Request, exc: Invalid) -> Response | None:
    """Back to the form with the problems; ``None`` when the route named no form (the caller answers)."""
    render: FormAgain | None = getattr(request.state, "form_again", None)
    if render is not None:
        response = render(exc.problems)
        response.status_code = 422
        return response
    back: str | None = getattr(request.state, "form_back", None)
    if back is None:
        return None
    carried = [
        f"{field}:{p.type}"
        for p in exc.problems
        if _FIELD.match(field := p.field or "form") and _TYPE.match(p.type)
    ]
    query = urlencode([("lang", choose_lang(request)), *(("error", c) for c in carried[:MAX_CARRIED])])
    return RedirectResponse(f"{back}?{query}", status_code=303)


#: Where FastAPI says a problem was; a page names the field alone.
_SOURCES = ("body", "query", "path", "form", "header", "cookie")


def unreadable(request: Request, errors: Iterable[Any]) -> Response | None:
    """A posted form FastAPI could not read (a field missing, too long, not a number): back to the form
    like :func:`answer`, else back to the page the form was on (its own address, from ``Referer`` when
    it is this site's) with the problems in the query; ``None`` when there is no such page."""
    problems = []
    for e in errors:
        loc = [p for p in e.get("loc", ()) if p not in _SOURCES] if isinstance(e, dict) else []
        problems.append(
            Problem(as_loc(loc), "", str(e.get("type", "invalid")) if isinstance(e, dict) else "invalid")
        )
    invalid = Invalid(problems)
    found = answer(request, invalid)
    if found is not None:
        return found
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path.startswith("/") or referer.netloc != request.url.netloc:
        return None
    request.state.form_back = referer.path
    return answer(request, invalid)
