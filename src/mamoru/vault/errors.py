from __future__ import annotations

from mamoru.errors import MamoruError


class DecryptionFailed(MamoruError):
    """A ciphertext did not open under its subject's key and binding (wrong row, field or key)."""

    http_status = 409
