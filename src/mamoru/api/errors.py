"""The API's answer to invalid input: 422 with every problem, its location and its type.

The same shape for a body FastAPI could not read and for an :class:`~mamoru.errors.Invalid` a service
raised, whichever router it came from::

    {"error": "Invalid", "detail": [{"loc": ["items", 2, "email"], "msg": "…", "type": "missing"}]}

Nothing that was sent is echoed back: it may be a personal value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mamoru.errors import Invalid, Problem, as_loc


def problems_out(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [{"loc": list(p.loc), "msg": p.msg, "type": p.type} for p in problems]


def invalid(exc: Invalid) -> JSONResponse:
    """422 with the problems of a service's :class:`~mamoru.errors.Invalid`."""
    return JSONResponse(
        {"error": type(exc).__name__, "detail": problems_out(exc.problems)}, status_code=exc.http_status
    )


def unreadable(exc: RequestValidationError) -> JSONResponse:
    """422 with the problems FastAPI found reading the request, in the same shape."""
    problems = [
        Problem(as_loc(e.get("loc", ())), str(e.get("msg", "")), str(e.get("type", "invalid")))
        for e in exc.errors()
    ]
    return invalid(Invalid(problems))
