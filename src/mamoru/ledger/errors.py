from __future__ import annotations

from mamoru.errors import MamoruError


class AcquisitionRefused(MamoruError):
    """The law does not allow this acquisition as given (APPI Arts. 20, 21)."""

    http_status = 422


class NothingToNotify(MamoruError):
    """The acquisition has no purpose notice to give: its purposes were published in advance."""

    http_status = 409
