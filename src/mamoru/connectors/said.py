"""Errors of the connectors that a person reads, in the words of the catalog (``mamoru.words``)."""

from __future__ import annotations

from mamoru.errors import MamoruError
from mamoru.policy.errors import PolicyError
from mamoru.words import word


class Said(MamoruError):
    """An error said with the catalog's words ``key``, formatted with ``params``; ``prefix`` (a datastore's
    name, a place in a file) comes before them. ``str()`` is the English; :meth:`text` any language."""

    def __init__(self, key: str, prefix: str = "", **params: object) -> None:
        self.key, self.prefix = key, prefix
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        return self.prefix + word(self.key, lang).format(**self.params)


def in_words(exc: BaseException, lang: str) -> str:
    """What went wrong, in ``lang``: a map's problems one a line with file and line, a connector's
    failure with its host and database; any other error as it says itself."""
    if isinstance(exc, PolicyError):
        return exc.render(lang)
    if isinstance(exc, Said):
        return exc.text(lang)
    return str(exc)
