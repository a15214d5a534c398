"""Smoke benchmark: loading and checking the policy, and rendering the notice.

Peer: PyYAML's plain safe_load of the same file, the floor any YAML-based policy loader stands on.
Last line: JSON summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import yaml

from mamoru.policy.load import pack_source, parse_policy
from mamoru.policy.notice import render_notice


def per_second(fn: Callable[[], object], seconds: float = 1.0) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def main() -> None:
    source = pack_source()
    policy = parse_policy(source).policy
    raw_yaml = per_second(lambda: yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    load_check = per_second(lambda: parse_policy(source))
    render = per_second(lambda: render_notice(policy, "ja", "html"))
    print(f"yaml safe load (peer floor): {raw_yaml:10.1f} /s")
    print(f"mamoru parse+check:          {load_check:10.1f} /s")
    print(f"mamoru render notice (ja):   {render:10.1f} /s")
    summary = {
        "bench": "policy",
        "yaml_safe_load_per_s": round(raw_yaml, 1),
        "load_check_per_s": round(load_check, 1),
        "render_per_s": round(render, 1),
        "ratio_load_check_vs_safe_load": round(load_check / raw_yaml, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
