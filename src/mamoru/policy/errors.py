"""Errors raised while loading, checking or publishing a policy."""

from __future__ import annotations

from dataclasses import dataclass

from mamoru.errors import MamoruError
from mamoru.words import word

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("purposes", 3, "text", "ja")`` → ``purposes[3].text.ja``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy file: where it is and why it is a problem. ``key`` and ``params`` (when
    given) name the words of the catalog that say it, ``mapissue_<key>``; ``message`` is the English."""

    path: Path
    message: str
    line: int | None = None
    key: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @property
    def field(self) -> str:
        return format_path(self.path)

    def text(self, lang: str = "en") -> str:
        """Why it is a problem, in ``lang`` (the English message when the catalog has no words for it)."""
        if not self.key:
            return self.message
        found = word(f"mapissue_{self.key}", lang, default="")
        return found.format(**dict(self.params)) if found else self.message

    def render(self, file: str, lang: str = "en") -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        return f"{where}: {self.field}: {self.text(lang)}"


def worded(path: Path, key: str, line: int | None = None, **params: object) -> PolicyIssue:
    """An issue whose words are ``mapissue_<key>`` of the catalog, formatted with ``params``."""
    values = tuple((k, str(v)) for k, v in params.items())
    message = word(f"mapissue_{key}", "en", default=key).format(**dict(values))
    return PolicyIssue(path, message, line, key, values)


class PolicyError(MamoruError):
    """A policy file is not a valid, publishable policy. ``issues`` lists every problem found."""

    def __init__(self, file: str, issues: list[PolicyIssue]) -> None:
        self.file = file
        self.issues = issues
        super().__init__("\n".join(issue.render(file) for issue in issues))

    def render(self, lang: str = "en") -> str:
        """Every problem, one a line with its file and line, in ``lang``."""
        return "\n".join(issue.render(self.file, lang) for issue in self.issues)


class NoticeIncomplete(MamoruError):
    """A notice lacks what APPI Art. 32 or JIS Q 15001 requires of a published policy."""

    http_status = 422

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("the notice cannot be published; missing: " + ", ".join(missing))
