"""Vault benchmark: field encrypt+decrypt per second through mamoru's sealing (AES-256-GCM bound to
subject and field, versioned format), each subject with its own key as in the vault, against raw AES-GCM
with the same per-subject keys on the same values (the physical ceiling), in the same run, alternating,
three runs each, medians.

Last line: JSON summary; ``ratio_vs_raw`` is the goal metric (≥ 0.5).
"""

from __future__ import annotations

import json
import os
import statistics
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from faker import Faker

from mamoru.vault import crypto

ROUNDS = int(os.environ.get("BENCH_VAULT_ROUNDS", "2"))


def values(n: int) -> list[tuple[str, str, str]]:
    fake = Faker("ja_JP")
    fake.seed_instance(7)
    out = []
    for i in range(n):
        subject = f"{i:08x}-5d6a-4e3b-9c7d-1a2b3c4d5e6f"
        out += [
            (subject, "name", fake.name()),
            (subject, "email", fake.email()),
            (subject, "address", fake.address()),
        ]
    return out


def mamoru_rate(data: list[tuple[str, str, str]], keys: dict[str, bytes]) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for subject, field, value in data:
            key = keys[subject]
            blob = crypto.seal(key, subject, field, value)
            crypto.open_sealed(key, subject, field, blob)
    return ROUNDS * len(data) / (time.perf_counter() - start)


def raw_rate(data: list[tuple[str, str, str]], keys: dict[str, bytes]) -> float:
    aeads = {subject: AESGCM(key) for subject, key in keys.items()}  # the ceiling: ciphers made once
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for subject, _field, value in data:
            aead = aeads[subject]
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, value.encode("utf-8"), None)
            aead.decrypt(nonce, sealed, None).decode("utf-8")
    return ROUNDS * len(data) / (time.perf_counter() - start)


def main() -> None:
    data = values(20_000)
    keys = {subject: AESGCM.generate_key(bit_length=256) for subject, _, _ in data}
    # Alternate the two, three runs each, medians, so machine noise hits both alike.
    raws, ourses = [], []
    for _ in range(3):
        raws.append(raw_rate(data, keys))
        ourses.append(mamoru_rate(data, keys))
    raw, ours = statistics.median(raws), statistics.median(ourses)
    print(f"raw AES-256-GCM encrypt+decrypt, per-subject keys: {raw:12,.0f} fields/s")
    print(f"mamoru vault seal+open (bound AAD), same keys:    {ours:12,.0f} fields/s")
    print(
        json.dumps(
            {
                "bench": "vault",
                "fields": len(data) * ROUNDS,
                "subjects": len(keys),
                "raw_per_s": round(raw),
                "mamoru_per_s": round(ours),
                "ratio_vs_raw": round(ours / raw, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
