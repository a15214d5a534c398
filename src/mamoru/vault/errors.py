from __future__ import annotations

from mamoru.errors import ConfigurationError, MamoruError


class KeyUnavailable(ConfigurationError):
    """No usable master key: missing, malformed, too open on disk, or a known placeholder."""


class DecryptionFailed(MamoruError):
    """A ciphertext did not open under its subject's key and binding (wrong row, field or key)."""

    http_status = 409
