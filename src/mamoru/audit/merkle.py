"""RFC 6962 / RFC 9162 Merkle trees over audit-entry hashes: roots, inclusion and consistency proofs.

Pure functions over leaf hashes (``SHA-256(0x00 || leaf)``), so anyone can check a proof with this
file and a copy of a signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def _subtree(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    k = _split(end - start)
    return node_hash(_subtree(leaves, start, start + k), _subtree(leaves, start + k, end))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): the audit path proving leaf ``index`` is in the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} outside a tree of size {len(leaves)}")
    path: list[bytes] = []
    start, end, m = 0, len(leaves), index
    stack: list[bytes] = []
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            stack.append(_subtree(leaves, start + k, end))
            end = start + k
        else:
            stack.append(_subtree(leaves, start, start + k))
            start, m = start + k, m - k
    path.extend(reversed(stack))
    return path


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): proves the tree of the first ``first`` leaves is a prefix of the tree of ``leaves``."""
    n = len(leaves)
    if not 0 <= first <= n:
        raise ValueError(f"first size {first} outside 0..{n}")
    if first in (0, n):
        return []
    out: list[bytes] = []

    def sub(m: int, start: int, end: int, whole: bool) -> None:
        if m == end - start:
            if not whole:
                out.append(_subtree(leaves, start, end))
            return
        k = _split(end - start)
        if m <= k:
            sub(m, start, start + k, whole)
            out.append(_subtree(leaves, start + k, end))
        else:
            sub(m - k, start + k, end, False)
            out.append(_subtree(leaves, start, start + k))

    sub(first, 0, n, True)
    return out


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not path
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class Frontier:
    """The right edge of a growing tree: O(log n) state, O(1) amortized hashes per appended leaf."""

    __slots__ = ("_hashes", "_heights", "size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []
        self._heights: list[int] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        hashes, heights = self._hashes, self._heights
        hashes.append(leaf)
        heights.append(0)
        while len(heights) > 1 and heights[-1] == heights[-2]:
            right = hashes.pop()
            height = heights.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            heights[-1] = height + 1
        self.size += 1

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        r = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            r = node_hash(h, r)
        return r
