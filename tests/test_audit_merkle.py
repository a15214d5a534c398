"""RFC 6962 Merkle proofs: every inclusion and consistency proof verifies; tampered ones do not."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamoru.audit import merkle


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def reference_root(hashes: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, recursively."""
    if not hashes:
        return sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return merkle.node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100])
def test_frontier_root_equals_the_rfc_definition(n: int) -> None:
    assert merkle.root(leaves(n)) == reference_root(leaves(n))


@given(n=st.integers(1, 140), data=st.data())
@settings(max_examples=120)
def test_every_inclusion_proof_verifies(n: int, data: st.DataObject) -> None:
    hashes = leaves(n)
    index = data.draw(st.integers(0, n - 1))
    root = merkle.root(hashes)
    path = merkle.inclusion_proof(index, hashes)
    assert merkle.verify_inclusion(index, n, hashes[index], path, root)


@given(n=st.integers(2, 140), data=st.data())
@settings(max_examples=120)
def test_tampered_inclusion_proofs_fail(n: int, data: st.DataObject) -> None:
    hashes = leaves(n)
    index = data.draw(st.integers(0, n - 1))
    root = merkle.root(hashes)
    path = merkle.inclusion_proof(index, hashes)
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index))
    assert not merkle.verify_inclusion(index, n, hashes[other], path, root)
    assert not merkle.verify_inclusion(index, n, hashes[index], path, sha256(root).digest())
    if path:
        step = data.draw(st.integers(0, len(path) - 1))
        bad = [*path[:step], sha256(path[step]).digest(), *path[step + 1 :]]
        assert not merkle.verify_inclusion(index, n, hashes[index], bad, root)
    assert not merkle.verify_inclusion(n, n, hashes[index], path, root)


@given(n=st.integers(1, 140), data=st.data())
@settings(max_examples=120)
def test_every_consistency_proof_verifies(n: int, data: st.DataObject) -> None:
    hashes = leaves(n)
    m = data.draw(st.integers(0, n))
    proof = merkle.consistency_proof(m, hashes)
    assert merkle.verify_consistency(m, n, merkle.root(hashes[:m]), merkle.root(hashes), proof)


@given(n=st.integers(2, 140), data=st.data())
@settings(max_examples=120)
def test_consistency_fails_for_a_rewritten_history(n: int, data: st.DataObject) -> None:
    hashes = leaves(n)
    m = data.draw(st.integers(1, n - 1))
    changed = list(hashes)
    victim = data.draw(st.integers(0, m - 1))
    changed[victim] = sha256(b"forged").digest()
    proof = merkle.consistency_proof(m, changed)
    assert not merkle.verify_consistency(m, n, merkle.root(hashes[:m]), merkle.root(changed), proof)


def test_inclusion_proof_rejects_an_index_outside_the_tree() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, leaves(3))
