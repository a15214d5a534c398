"""Errors raised while loading, checking or publishing a policy."""

from __future__ import annotations

from dataclasses import dataclass

from mamoru.errors import MamoruError

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
    """One problem in a policy file: where it is and why it is a problem."""

    path: Path
    message: str
    line: int | None = None

    @property
    def field(self) -> str:
        return format_path(self.path)

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        return f"{where}: {self.field}: {self.message}"


class PolicyError(MamoruError):
    """A policy file is not a valid, publishable policy. ``issues`` lists every problem found."""

    def __init__(self, file: str, issues: list[PolicyIssue]) -> None:
        self.file = file
        self.issues = issues
        super().__init__("\n".join(issue.render(file) for issue in issues))


class NoticeIncomplete(MamoruError):
    """A notice lacks what APPI Art. 32 or JIS Q 15001 requires of a published policy."""

    http_status = 422

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("the notice cannot be published; missing: " + ", ".join(missing))
