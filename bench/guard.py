"""Guard benchmark, in two parts, each repeated three times (medians):

1. Engine only: the same model — roles with domains (~1,000 rules), ~10,000 role assignments, purposes,
   consents and cessations — in pycasbin's FastEnforcer and in mamoru's engine (``guard.engine.decide``,
   no database). Both must give the same answer to every request; decisions/s, single-decision latency.
2. The product path (``bench/_guard_path.py``), on a workspace with the demo organization (SQLite):
   ``decide_and_record_async`` (what ``POST /api/v1/decisions`` runs) for one subject a call with its
   audit entry durably committed by the group-commit writer, from BENCH_GUARD_CALLERS coroutines
   (default 1,000) in one event loop, and ``decide_and_record`` from 32 threads, as ratios of the
   engine's rate; ``POST /api/v1/decisions`` through
   ``mamoru serve`` against a minimal FastAPI JSON endpoint served the same way, at 1 and 32 connections
   (requests/s, p99, errors; both servers up at once, their rounds alternated); and batches of 100
   subjects a call, durable. The heap is frozen after start-up, as ``mamoru serve`` does
   (``server.settle_heap``), before the engines and again before the product path are timed.

Last line: JSON with ``ratio_vs_pycasbin``, ``p99_us`` (engine), ``product_path_ratio_vs_engine``,
``http_ratio_vs_minimal_endpoint``, ``http_p99_ms_32conn``, ``http_errors`` and ``batch_durable_per_s``.
Knobs: BENCH_GUARD_SECONDS (per measurement, default 3); BENCH_GUARD_HTTP=0 leaves out the HTTP part (its
keys are then null), to profile or compare the in-process product path alone.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import casbin
from casbin.model.model_fast import FastModel

from mamoru.audit.writer import AuditWriter
from mamoru.guard.decision import Action
from mamoru.guard.engine import ActorState, Request, SubjectState, compile_policy, decide
from mamoru.guard.service import audit_events
from mamoru.policy.model import Policy
from mamoru.server import settle_heap
from mamoru.store.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _guard_path as guard_path

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PURPOSES, CATEGORIES, ROLES, USERS, SUBJECTS, REQUESTS = 20, 10, 50, 2000, 5000, 20000
ACTIONS = [Action.READ, Action.EXPORT, Action.CORRECT]

CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act, subj

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act \
    && g2(r.subj, "ok:" + r.dom + ":" + r.obj) && !g3(r.subj, "stop:" + r.dom)
"""


def text(value: str) -> dict[str, str]:
    return {
        "ja": f"{value}の利用目的の説明文です",
        "en": f"Purpose {value}: a specific description of the use",
    }


def build(rng: random.Random):  # type: ignore[no-untyped-def]
    purposes = {
        f"p{i:02d}": sorted(rng.sample([f"c{j}" for j in range(CATEGORIES)], 4)) for i in range(PURPOSES)
    }
    roles = {
        f"r{i:02d}": (sorted(rng.sample(sorted(purposes), 3)), sorted(rng.sample(ACTIONS, 2)))
        for i in range(ROLES)
    }
    users = {f"u{i:04d}": sorted(rng.sample(sorted(roles), 2)) for i in range(USERS)}
    policy = Policy.model_validate(
        {
            "schema": "mamoru.policy/1",
            "version": "bench",
            "effective_from": date(2020, 1, 1),
            "enacted_on": date(2020, 1, 1),
            "revised_on": date(2020, 1, 1),
            "organization": {k: text(k) for k in ("name", "address", "representative", "protection_manager")},
            "principles": [text("principle")],
            "categories": [{"id": f"c{j}", "name": text(f"c{j}")} for j in range(CATEGORIES)],
            "subject_kinds": [{"id": "person", "name": text("person")}],
            "purposes": [
                {
                    "id": p,
                    "text": text(p),
                    "subject_kinds": ["person"],
                    "categories": cats,
                    "effective_from": date(2020, 1, 1),
                    # assessed for improper use (APPI Art. 19), as every purpose in force must be
                    "improper_use": {
                        "version": 1,
                        "assessed_on": date(2020, 1, 1),
                        "assessed_by": "po01",
                        "conclusion": text(f"{p} assessed"),
                    },
                }
                for p, cats in purposes.items()
            ],
            "roles": [
                {"id": r, "name": text(r), "purposes": ps, "actions": [a.value for a in acts]}
                for r, (ps, acts) in roles.items()
            ],
            "requests": {k: text(k) for k in ("where", "how", "identity_verification", "agents")},
        }
    )
    subjects: dict[str, SubjectState] = {}
    for i in range(SUBJECTS):
        acquired = rng.sample(sorted(purposes), 2)
        notified: dict[str, set[str]] = {}
        for p in acquired:
            for c in purposes[p]:
                notified.setdefault(c, set()).add(p)
        beyond = {rng.choice(sorted(purposes))} if rng.random() < 0.1 else set()
        stopped = {rng.choice(acquired)} if rng.random() < 0.05 else set()
        subjects[f"s{i:05d}"] = SubjectState(
            id=f"s{i:05d}",
            notified={c: frozenset(ps) for c, ps in notified.items()},
            retain_until={c: None for c in notified},
            consents_beyond=frozenset(beyond),
            stopped_use=frozenset(stopped),
        )
    return policy, purposes, roles, users, subjects


class _FastModel(FastModel):
    """pycasbin 2.x's FastModel.add_def returns None, so only the first role definition (g) loads and
    g2, g3 are dropped. This mends the loading only; evaluation is FastEnforcer's own."""

    def add_def(self, sec, key, value):  # type: ignore[no-untyped-def]
        super().add_def(sec, key, value)
        return value != ""


class _FastEnforcer(casbin.FastEnforcer):
    def new_model(self, path="", text=""):  # type: ignore[no-untyped-def]
        model = _FastModel(self._cache_key_order)
        model.load_model(path) if path else model.load_model_from_text(text)
        return model


def casbin_enforcer(purposes, roles, users, subjects):  # type: ignore[no-untyped-def]
    conf = Path(tempfile.mkdtemp(prefix="mamoru-casbin-")) / "model.conf"
    conf.write_text(CASBIN_MODEL, encoding="utf-8")
    enforcer = _FastEnforcer(str(conf), cache_key_order=[1, 2])
    rules = [
        [r, p, c, a.value] for r, (ps, acts) in roles.items() for p in ps for c in purposes[p] for a in acts
    ]
    assignments = [[u, r, p] for u, rs in users.items() for r in rs for p in roles[r][0]]
    ok, stop = [], []
    for s in subjects.values():
        for c, ps in s.notified.items():
            ok += [[s.id, f"ok:{p}:{c}"] for p in ps]
            ok += [[s.id, f"ok:{p}:{c}"] for p in s.consents_beyond]
        stop += [[s.id, f"stop:{p}"] for p in s.stopped_use]
    enforcer.add_policies(rules)
    enforcer.add_named_grouping_policies("g", assignments)
    enforcer.add_named_grouping_policies("g2", ok)
    enforcer.add_named_grouping_policies("g3", stop)
    return enforcer, len(rules), len(assignments), len(ok), len(stop)


def main() -> None:
    rng = random.Random(2026)
    policy, purposes, roles, users, subjects = build(rng)
    tables = compile_policy(policy)
    enforcer, n_rules, n_assign, n_ok, n_stop = casbin_enforcer(purposes, roles, users, subjects)
    actors = {
        u: ActorState(f"staff:{u}", frozenset(rs), True, True, NOW - timedelta(days=30))
        for u, rs in users.items()
    }
    # Most requests are what staff really do (their own purpose, its data, a subject acquired for it);
    # the rest are random, so every rule gets exercised.
    acquired_for: dict[str, list[str]] = {}
    for state in subjects.values():
        for ps in state.notified.values():
            for p in ps:
                acquired_for.setdefault(p, []).append(state.id)
    user_ids, subject_ids = sorted(users), sorted(subjects)
    requests = []
    for _ in range(REQUESTS):
        user = rng.choice(user_ids)
        if rng.random() < 0.7:
            role = rng.choice(users[user])
            purpose = rng.choice(roles[role][0])
            action = rng.choice(roles[role][1])
            requests.append(
                (user, purpose, rng.choice(purposes[purpose]), action, rng.choice(acquired_for[purpose]))
            )
        else:
            category = f"c{rng.randrange(CATEGORIES)}"
            requests.append(
                (user, rng.choice(sorted(purposes)), category, rng.choice(ACTIONS), rng.choice(subject_ids))
            )
    prepared = [(Request(actors[u], p, (c,), a), subjects[s]) for u, p, c, a, s in requests]

    mismatches = 0
    allowed = 0
    for (u, p, c, a, s), (req, subject) in zip(requests, prepared, strict=True):
        ours = decide(tables, req, [subject], NOW)[0].allow
        theirs = enforcer.enforce(u, p, c, a.value, s)
        mismatches += ours != theirs
        allowed += ours
    assert mismatches == 0, f"{mismatches} requests answered differently"

    def casbin_once() -> float:
        start = time.perf_counter()
        for u, p, c, a, s in requests:
            enforcer.enforce(u, p, c, a.value, s)
        return REQUESTS / (time.perf_counter() - start)

    def engine_once() -> float:
        start = time.perf_counter()
        for req, subject in prepared:
            decide(tables, req, [subject], NOW)
        return REQUESTS / (time.perf_counter() - start)

    settle_heap()  # as `mamoru serve` does once built: both engines timed with the start-up heap frozen
    casbin_rate = statistics.median(casbin_once() for _ in range(3))
    mamoru_rate = statistics.median(engine_once() for _ in range(3))

    latencies = []
    for req, subject in prepared:
        t0 = time.perf_counter_ns()
        decide(tables, req, [subject], NOW)
        latencies.append((time.perf_counter_ns() - t0) / 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99)]

    batch_subjects = list(subjects.values())[:1000]
    start, batches = time.perf_counter(), 0
    while time.perf_counter() - start < 2:
        decide(tables, prepared[batches % len(prepared)][0], batch_subjects, NOW)
        batches += 1
    batch_rate = batches * len(batch_subjects) / (time.perf_counter() - start)

    # Engine plus the bare writer (no workspace, no state reads): what the audit costs by itself.
    folder = Path(tempfile.mkdtemp(prefix="mamoru-guard-bench-"))
    db = Database(f"sqlite:///{folder / 'audit.db'}")
    db.migrate()
    writer = AuditWriter(db, index_when_idle=False)
    done = [0]
    lock = threading.Lock()

    def caller(k: int) -> None:
        for i in range(25):
            req = prepared[(k * 25 + i) % len(prepared)][0]
            decisions = decide(tables, req, batch_subjects, NOW)
            writer.submit(audit_events(decisions), durable=True)
            with lock:
                done[0] += len(decisions)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    durable = done[0] / (time.perf_counter() - start)
    writer.close()

    print(
        f"model: {PURPOSES} purposes, {ROLES} roles, {n_rules} rules, {n_assign} role assignments (with domains),"
    )
    print(f"       {SUBJECTS} subjects, {n_ok} acquisition/consent grants, {n_stop} cessations")
    print(f"same answers on {REQUESTS} requests ({allowed} allowed): yes")
    print("ENGINE ONLY (no database, no audit; medians of 3):")
    print(f"  pycasbin FastEnforcer:          {casbin_rate:12,.0f} decisions/s")
    print(
        f"  mamoru engine, single requests: {mamoru_rate:12,.0f} decisions/s   (x{mamoru_rate / casbin_rate:.1f})"
    )
    print(f"  mamoru engine, batches of 1000: {batch_rate:12,.0f} decisions/s")
    print(f"  single-decision latency: p50 {p50:.1f} µs, p99 {p99:.1f} µs")
    print(
        f"  engine + bare audit writer (1000-subject batches, grouped entries): {durable:12,.0f} decisions/s"
    )

    seconds = float(os.environ.get("BENCH_GUARD_SECONDS", "3"))
    site = guard_path.make_site()
    settle_heap()  # the workspace and the demo organization, frozen as `mamoru serve` freezes its own
    callers = int(os.environ.get("BENCH_GUARD_CALLERS", "1000"))
    one_async = statistics.median(
        guard_path.product_path_async(site, callers=callers, seconds=seconds) for _ in range(3)
    )
    one = statistics.median(
        guard_path.product_path(site, threads=32, per_call=1, seconds=seconds) for _ in range(3)
    )
    batch100 = statistics.median(
        guard_path.product_path(site, threads=32, per_call=100, seconds=seconds) for _ in range(3)
    )
    site.ws.close()
    print("PRODUCT PATH (workspace on SQLite, demo organization, state cached by version, durable audit):")
    print(
        f"  decide_and_record_async (the API's path), 1 subject a call, {callers} coroutines: "
        f"{one_async:10,.0f} decisions/s ({one_async / mamoru_rate:.3f}x the engine)"
    )
    print(
        f"  decide_and_record, 1 subject a call, 32 threads: {one:10,.0f} decisions/s "
        f"({one / mamoru_rate:.3f}x the engine)"
    )
    print(f"  decide_and_record, 100 subjects a call, 32 threads: {batch100:10,.0f} decisions/s")

    http: dict[str, dict[str, float]] = {}
    bodies = guard_path.bodies_for(site)
    runs: dict[str, list[dict[str, float]]] = {}
    servers = (
        ("mamoru", lambda: guard_path.serve_mamoru(site)),
        ("minimal", guard_path.serve_minimal),
    )
    # Both servers up at once and their rounds alternated (mamoru, minimal, mamoru, ...), so that whatever
    # else the machine does falls on both sides alike.
    started: list[tuple[str, Any, int]] = []
    try:
        for name, serve in servers if os.environ.get("BENCH_GUARD_HTTP", "1") != "0" else ():
            process, port = serve()
            started.append((name, process, port))
            guard_path.load(port, bodies, site.token, connections=4, seconds=1)  # warm up
        for _ in range(3):
            for conns in (1, 32):
                for name, _, port in started:
                    runs.setdefault(f"{name}_{conns}", []).append(
                        guard_path.load(port, bodies, site.token, connections=conns, seconds=seconds)
                    )
    finally:
        for _, process, _ in started:
            process.terminate()
            process.wait(timeout=30)
    for key, measured in runs.items():
        http[key] = {m: statistics.median(r[m] for r in measured) for m in ("per_s", "p50_ms", "p99_ms")}
        http[key]["errors"] = sum(r["errors"] for r in measured)
    http_keys: dict[str, float | int | None] = dict.fromkeys(
        (
            "http_per_s_1conn",
            "http_per_s_32conn",
            "minimal_per_s_1conn",
            "minimal_per_s_32conn",
            "http_ratio_vs_minimal_endpoint",
            "http_ratio_vs_minimal_endpoint_1conn",
            "http_p99_ms_32conn",
            "http_errors",
        )
    )
    if http:
        print("HTTP (one uvicorn process each; POST /api/v1/decisions, one subject; medians of 3):")
        for key, r in http.items():
            print(
                f"  {key:12s} {r['per_s']:8,.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
                f"errors {int(r['errors'])}"
            )
        ratio_32 = http["mamoru_32"]["per_s"] / http["minimal_32"]["per_s"]
        ratio_1 = http["mamoru_1"]["per_s"] / http["minimal_1"]["per_s"]
        print(f"  mamoru / minimal endpoint: x{ratio_1:.2f} at 1 connection, x{ratio_32:.2f} at 32")
        http_keys = {
            "http_per_s_1conn": round(http["mamoru_1"]["per_s"]),
            "http_per_s_32conn": round(http["mamoru_32"]["per_s"]),
            "minimal_per_s_1conn": round(http["minimal_1"]["per_s"]),
            "minimal_per_s_32conn": round(http["minimal_32"]["per_s"]),
            "http_ratio_vs_minimal_endpoint": round(ratio_32, 2),
            "http_ratio_vs_minimal_endpoint_1conn": round(ratio_1, 2),
            "http_p99_ms_32conn": round(http["mamoru_32"]["p99_ms"], 1),
            "http_errors": int(http["mamoru_32"]["errors"] + http["mamoru_1"]["errors"]),
        }
    print(
        json.dumps(
            {
                "bench": "guard",
                "requests": REQUESTS,
                "mismatches": mismatches,
                "engine_only": {
                    "pycasbin_per_s": round(casbin_rate),
                    "mamoru_per_s": round(mamoru_rate),
                    "batch_per_s": round(batch_rate),
                    "p50_us": round(p50, 1),
                    "writer_durable_per_s": round(durable),
                },
                "ratio_vs_pycasbin": round(mamoru_rate / casbin_rate, 1),
                "p99_us": round(p99, 1),
                "product_path": f"decide_and_record_async, 1 subject a call, {callers} coroutines, durable",
                "product_path_per_s": round(one_async),
                "product_path_ratio_vs_engine": round(one_async / mamoru_rate, 3),
                "product_path_threads_per_s": round(one),
                "product_path_threads_ratio_vs_engine": round(one / mamoru_rate, 3),
                "batch_durable_per_s": round(batch100),
                **http_keys,
            }
        )
    )


if __name__ == "__main__":
    main()
