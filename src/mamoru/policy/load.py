"""Reading a policy file: YAML with line numbers, then the model, then the rules.

Every problem is reported with the file, the line and the field, all at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path as FsPath
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mamoru.policy.errors import Path, PolicyError, PolicyIssue, worded
from mamoru.policy.model import Policy
from mamoru.policy.rules import publication_issues, reference_issues
from mamoru.yamlsafe import AnchorRefused, compose

REFERENCE_PACK = "reference"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedPolicy:
    """A valid policy together with the exact text it came from and that text's SHA-256."""

    policy: Policy
    source: str
    sha256: str
    file: str


def _line_map(node: yaml.Node, path: Path, lines: dict[Path, int], issues: list[PolicyIssue]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                issues.append(worded(child, "duplicate_key", key_node.start_mark.line + 1))
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _line_map(value_node, child, lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines, issues)


def _line_of(path: Path, lines: dict[Path, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _pydantic_issues(error: ValidationError) -> list[PolicyIssue]:
    issues = []
    for item in error.errors():
        loc: Path = tuple(p for p in item["loc"] if isinstance(p, str | int) and p != "[key]")
        message = item["msg"]
        if item["type"] == "missing":
            issues.append(worded(loc, "missing"))
            continue
        if item["type"] == "extra_forbidden":
            issues.append(worded(loc, "unknown_field"))
            continue
        if item["type"] == "enum" and "affairs" in loc:
            message = (
                f"'{item.get('input')}' is not a statutory affair the Individual Number may be used for "
                f"(MN-1); {message[0].lower()}{message[1:]}"
            )
        elif item["type"] == "enum":
            message = f"{message} (got '{item.get('input')}')"
        else:
            issues.append(worded(loc, "invalid", detail=message))
            continue
        issues.append(PolicyIssue(loc, message))
    return issues


def parse_yaml_model(
    source: str, file: str, model: type[M], checks: Callable[[M], list[PolicyIssue]] | None = None
) -> M:
    """Any YAML file of mamoru (a policy, a dataset map) into its model, every problem with its line.
    Raises :class:`PolicyError` listing them all."""
    parsed: M = _parse(source, file, model, checks)
    return parsed


def parse_policy(source: str, file: str = "<policy>", *, for_publication: bool = True) -> LoadedPolicy:
    """Parse and check policy text. Raises :class:`PolicyError` listing every issue with its line.

    ``for_publication`` also requires what a published notice needs (revision date, inquiry contact,
    security measures); the product only ever runs on a publishable policy.
    """

    def rules(policy: Policy) -> list[PolicyIssue]:
        return reference_issues(policy) + (publication_issues(policy) if for_publication else [])

    policy = parse_yaml_model(source, file, Policy, rules)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return LoadedPolicy(policy=policy, source=source, sha256=digest, file=file)


def _parse(
    source: str, file: str, model: type[Any], checks: Callable[[Any], list[PolicyIssue]] | None
) -> Any:
    try:
        root, data = compose(source)
    except AnchorRefused as exc:
        mark = exc.problem_mark
        raise PolicyError(
            file, [worded((), "refused", mark.line + 1 if mark else None, detail=exc.reason)]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem += f" ({context} started on line {context_mark.line + 1})"
        raise PolicyError(file, [worded((), "yaml", line, detail=problem)]) from None
    if root is None or not isinstance(data, dict):
        raise PolicyError(file, [worded((), "not_mapping", 1)])

    lines: dict[Path, int] = {}
    issues: list[PolicyIssue] = []
    _line_map(root, (), lines, issues)
    parsed: Any = None
    if not issues:
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            issues.extend(_pydantic_issues(exc))
    if parsed is not None and checks is not None:
        issues.extend(checks(parsed))
    if issues or parsed is None:
        located = [replace(i, line=i.line or _line_of(i.path, lines)) for i in issues]
        located.sort(key=lambda i: (i.line or 0, i.field))
        raise PolicyError(file, located)
    return parsed


def load_policy(path: str | FsPath, *, for_publication: bool = True) -> LoadedPolicy:
    """Read and check a policy file from disk."""
    fs_path = FsPath(path)
    try:
        source = fs_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(str(path), [PolicyIssue((), "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise PolicyError(str(path), [PolicyIssue((), f"not UTF-8 text: {exc.reason}")]) from None
    return parse_policy(source, str(path), for_publication=for_publication)


def pack_source(name: str = REFERENCE_PACK) -> str:
    """The text of a policy pack shipped with mamoru."""
    return resources.files("mamoru.policy").joinpath("packs", f"{name}.yaml").read_text(encoding="utf-8")


def load_pack(name: str = REFERENCE_PACK) -> LoadedPolicy:
    """Load a policy pack shipped with mamoru (the reference organization by default)."""
    return parse_policy(pack_source(name), f"packs/{name}.yaml")
