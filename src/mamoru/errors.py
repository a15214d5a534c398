"""The error family. Every error mamoru raises on purpose derives from :class:`MamoruError`.

Messages name what went wrong, where and why; they never carry a personal value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class MamoruError(Exception):
    """Base of every deliberate mamoru error."""

    #: HTTP status the API answers with; adapters map errors in one place.
    http_status = 400


class ConfigurationError(MamoruError):
    """The workspace, the settings or the keys are missing or unsafe; mamoru refuses to start."""

    http_status = 500


class KeyUnavailable(ConfigurationError):
    """No usable master key: missing, malformed, too open on disk, or a known placeholder."""


class Refusal(MamoruError):
    """The guard refused a use, and the refusal's audit entry (and any signal it raised) is in the caller's
    transaction: ``Database.session`` commits that transaction before the error travels on, so a refused
    attempt stays in the log whatever the caller does next. Raise it before changing anything else."""

    http_status = 403


class NotFound(MamoruError):
    """A referenced object does not exist."""

    http_status = 404


#: Where a problem is: a field path such as ``("items", 2, "email")``.
Loc = tuple[str | int, ...]


def as_loc(where: str | Sequence[str | int]) -> Loc:
    """A field path from a dotted string (``"items.2.email"``) or a sequence; digits become indexes."""
    parts = where.split(".") if isinstance(where, str) else list(where)
    return tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in parts if p != "")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: where it is, why, and a key for the pages' catalogs.

    ``msg`` says in English what to do next; ``type`` is a stable key (``"missing"``, ``"invalid"``…)
    the web layer looks up as ``err_<type>`` in its message catalogs. Neither carries a value that was
    sent: a problem may be shown, logged and put in a URL.
    """

    loc: Loc
    msg: str
    type: str = "invalid"

    @property
    def field(self) -> str:
        """The path as one dotted string, ``"items.2.email"``."""
        return ".".join(str(p) for p in self.loc)


def problem(where: str | Sequence[str | int], msg: str, type: str = "invalid") -> Problem:
    return Problem(as_loc(where), msg, type)


class Invalid(MamoruError):
    """The input is not valid or breaks a rule; nothing was changed. ``problems`` names each field.

    A problem is a :class:`Problem` or a ``(field, message)`` pair whose field is a dotted path. The
    API answers 422 with the problems; the pages go back to the form with each beside its field.
    """

    http_status = 422

    def __init__(self, problems: Iterable[Problem | tuple[str | Sequence[str | int], str]]) -> None:
        self.problems: list[Problem] = [
            p if isinstance(p, Problem) else problem(p[0], p[1]) for p in problems
        ] or [Problem((), "the input is not valid")]
        super().__init__("; ".join(f"{p.field or 'input'}: {p.msg}" for p in self.problems))

    @classmethod
    def from_validation(cls, exc: ValidationError, *, missing: str | None = None) -> Invalid:
        """Every error pydantic found, keeping its location and type but never the input.

        ``missing`` replaces pydantic's text for a missing field.
        """
        return cls(
            Problem(
                as_loc(e["loc"]),
                missing if missing is not None and e["type"] == "missing" else e["msg"],
                e["type"],
            )
            for e in exc.errors(include_input=False, include_url=False)
        )


def require(problems: Iterable[Problem | tuple[str, str]]) -> None:
    """Raise :class:`Invalid` when there is any problem."""
    found = list(problems)
    if found:
        raise Invalid(found)
