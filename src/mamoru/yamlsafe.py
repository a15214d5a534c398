"""The one YAML loader of mamoru's inputs (the policy, dataset maps, file shares, imports).

Safe YAML (no Python objects), with two more rules:
- anchors and aliases (``&name``, ``*name``) are refused: a few lines of them expand into billions of
  nodes (the "billion laughs" attack) and every walk over the document would never end. None of
  mamoru's files needs them; write the values out.
- dates stay text, so that a model reports a bad date with its field and line.
"""

from __future__ import annotations

from typing import Any

import yaml


class AnchorRefused(yaml.MarkedYAMLError):
    """The document uses an anchor or an alias. Carries the line (``problem_mark``) like a YAML error."""

    def __init__(self, what: str, name: str, mark: Any) -> None:
        super().__init__(
            problem=(
                f"{what} '{name}' is refused: mamoru's YAML files may not use anchors or aliases "
                "(&name, *name), which can expand into billions of values (the 'billion laughs' "
                "attack); write the values out instead"
            ),
            problem_mark=mark,
        )
        self.reason = str(self.problem)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML with dates as text."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _refuse_anchors(source: str) -> None:
    """Look at the events (the parser never expands an alias) for the first anchor or alias."""
    for event in yaml.parse(source, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise AnchorRefused("the alias", f"*{event.anchor}", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise AnchorRefused("the anchor", f"&{anchor}", event.start_mark)


def compose(source: str) -> tuple[yaml.Node | None, Any]:
    """The document's root node (for line numbers) and its value. Raises :class:`AnchorRefused` or
    another ``yaml.YAMLError`` with its line."""
    _refuse_anchors(source)
    loader = _Loader(source)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def safe_load(source: str) -> Any:
    """The document's value (``yaml.safe_load``, without anchors or aliases)."""
    return compose(source)[1]
