from __future__ import annotations

from mamoru.errors import MamoruError


class LedgerInvalid(MamoruError):
    """A ledger entry, channel, acquisition or consent is not valid; ``problems`` names each field."""

    http_status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


class AcquisitionRefused(MamoruError):
    """The law does not allow this acquisition as given (APPI Arts. 20, 21)."""

    http_status = 422


class NothingToNotify(MamoruError):
    """The acquisition has no purpose notice to give: its purposes were published in advance."""

    http_status = 409
