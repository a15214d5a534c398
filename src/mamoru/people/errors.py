"""The error every people and PMS function raises for bad input: each problem names its field."""

from __future__ import annotations

from mamoru.errors import MamoruError


class Refused(MamoruError):
    """Bad input or a rule broken; nothing was changed. ``problems`` holds (field, why) pairs."""

    http_status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def require(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise Refused(problems)
