"""The error family. Every error mamoru raises on purpose derives from :class:`MamoruError`.

Messages name what went wrong, where and why; they never carry a personal value.
"""

from __future__ import annotations


class MamoruError(Exception):
    """Base of every deliberate mamoru error."""

    #: HTTP status the API answers with; adapters map errors in one place.
    http_status = 400


class ConfigurationError(MamoruError):
    """The workspace, the settings or the keys are missing or unsafe; mamoru refuses to start."""

    http_status = 500


class KeyUnavailable(ConfigurationError):
    """No usable master key: missing, malformed, too open on disk, or a known placeholder."""


class NotFound(MamoruError):
    """A referenced object does not exist."""

    http_status = 404
