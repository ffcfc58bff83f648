"""Near-duplicate grouping of 64-bit perceptual hashes within a Hamming radius: exact at every radius.

Multi-index tables in the manner of Manku, Jain and Das Sarma (WWW 2007): split the 64 bits into
``b`` blocks; two hashes within ``r`` differing bits agree exactly on at least ``b - r`` blocks
(pigeonhole), so one table per choice of ``b - r`` blocks, keyed by those blocks' bits, finds
every pair within the radius. Candidates that share a key are verified by popcount, and groups are
the connected components of the verified pairs. Wide keys (b=8, 4 blocks = 32 bits at the default
r=4: 70 tables) keep chance candidates near linear in N. Above r=7 the keys narrow (12 blocks,
10 to 21 bits), chance candidates grow as N^2 / 2^bits per table, and large sets get slow: exact
still, but slower: ``benchmarks/bench_phash.py --extra-radii`` reports the cost at 100k and 1M.

Each table is one sort of packed (key, index) words plus vectorised verification, independent of
the others, so a dataset-wide pass runs one Ray task per batch of tables over the
shared hash array (:func:`candidate_pairs_for_tables`), then :func:`components` on the driver.
The tables run cache-blocked (runs of buckets of their first block, a few MiB each), and the
distinct hashes come with their inverse from one argsort, so the time grows near linearly: 10M
hashes take 10-11x the time of 1M at r=4 (``benchmarks/bench_phash.py``; figures in the README).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import imagehash
import numpy as np
from PIL import Image
from pydantic import Field

from synth.config import Strict

MAX_RADIUS = 10
HASH_SIDE = 32  # imagehash.phash's grey image: 8x8 hash bits times its highfreq_factor of 4
CHUNK = 1 << 18  # hashes per cache-sized run of buckets (2 MiB of uint64)


class PhashConfig(Strict):
    enabled: bool = True
    max_distance: int = Field(4, ge=0, le=MAX_RADIUS, description="Hamming radius of a near duplicate")


def phash(image: np.ndarray | Image.Image) -> int:
    """64-bit perceptual hash as a signed int64, the Parquet ``phash`` column, of (H, W, 3) uint8
    pixels or a PIL image of them: ``imagehash.phash`` exactly (the 32x32 grey image by Lanczos
    from full size). Pillow's ``reducing_gap=4`` would make that resize 4.5x faster, but moves
    4-7% of hashes by 2 bits: a change of output that needs a version bump (the version enters
    the content hash), so that a resumed run never mixes the two."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    small = img.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS)
    bits = imagehash.phash(small, hash_size=8, highfreq_factor=HASH_SIDE // 8).hash.flatten()
    value = int("".join("1" if b else "0" for b in bits), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def blocks_for(radius: int) -> int:
    """Blocks to split the hash into: 8 up to r=7 (keys of (8-r)*8 bits), 12 above."""
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"near-duplicate radius must be in 0..{MAX_RADIUS}, got {radius}")
    return 8 if radius < 8 else 12


def table_masks(radius: int) -> list[np.uint64]:
    """One bit mask per table: the union of ``b - r`` of the ``b`` blocks."""
    b = blocks_for(radius)
    edges = np.linspace(0, 64, b + 1).astype(int)
    block_masks = [sum(1 << i for i in range(lo, hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [np.uint64(sum(block_masks[i] for i in combo)) for combo in combinations(range(b), b - radius)]


def popcount(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 (SWAR, vectorised)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _runs(mask: int) -> list[tuple[int, int]]:
    """The (lowest bit, width) of each run of set bits in ``mask``."""
    runs, bit = [], 0
    while bit < 64:
        if mask >> bit & 1:
            width = 0
            while bit + width < 64 and mask >> (bit + width) & 1:
                width += 1
            runs.append((bit, width))
            bit += width
        else:
            bit += 1
    return runs


def _sorted_by_key(hashes: np.ndarray, mask: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted keys): positions that put equal keys next to each other. The table's key bits
    are packed into the high bits of one uint64 with the row index below them, so one plain
    ``np.sort`` (no argsort, no gather) does it; keys too wide to share a word fall back to argsort."""
    key, bits = np.zeros(len(hashes), np.uint64), 0
    for low, width in _runs(int(mask)):
        key |= ((hashes >> np.uint64(low)) & np.uint64((1 << width) - 1)) << np.uint64(bits)
        bits += width
    index_bits = max(1, (len(hashes) - 1).bit_length())
    if bits + index_bits > 64:
        order = np.argsort(key, kind="stable")
        return order, key[order]
    packed = np.sort((key << np.uint64(index_bits)) | np.arange(len(hashes), dtype=np.uint64))
    return (packed & np.uint64((1 << index_bits) - 1)).astype(np.int64), packed >> np.uint64(index_bits)


def _pairs_in_table(hashes: np.ndarray, mask: np.uint64, radius: int) -> tuple[np.ndarray, int]:
    """(verified pairs of one table as ``i * n + j`` codes with i < j, candidates checked). Pairs
    (p, p + d) of sorted positions with equal keys are made one offset d at a time and verified by
    popcount at once, so memory stays linear even where a key is shared by many hashes."""
    n = len(hashes)
    order, keys = _sorted_by_key(hashes, mask)
    same = keys[1:] == keys[:-1]
    start = np.flatnonzero(same)
    found, candidates, d = [], 0, 1
    while len(start):
        i, j = order[start], order[start + d]
        candidates += len(i)
        close = popcount(hashes[i] ^ hashes[j]) <= radius
        if close.any():
            found.append(np.minimum(i, j)[close] * np.int64(n) + np.maximum(i, j)[close])
        start = start[start + d < n - 1]
        start = start[same[start + d]]
        d += 1
    return (np.concatenate(found) if found else np.empty(0, np.int64)), candidates


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based unique of integers is far slower at 10M)."""
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]] if len(x) else x


def first_block(mask: np.uint64, radius: int) -> tuple[int, int]:
    """(lowest bit, width) of the first of the blocks that make up a table's mask."""
    edges = np.linspace(0, 64, blocks_for(radius) + 1).astype(int)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        block = sum(1 << i for i in range(lo, hi))
        if int(mask) & block == block:
            return int(lo), int(hi - lo)
    raise ValueError(f"mask {int(mask):#x} holds no whole block")


def _chunks(bucket_sizes: np.ndarray, target: int) -> list[tuple[int, int]]:
    """[start, end) runs of whole consecutive buckets, each about ``target`` long (a bucket larger
    than ``target`` is a run of its own)."""
    runs, start, size = [], 0, 0
    for count in bucket_sizes.tolist():
        if size and size + count > target:
            runs.append((start, start + size))
            start, size = start + size, 0
        size += count
    if size:
        runs.append((start, start + size))
    return runs


def candidate_pairs_for_tables(
    hashes: np.ndarray, masks: list[np.uint64], radius: int, chunk: int = CHUNK
) -> np.ndarray:
    """Verified pairs (k, 2) of indices within ``radius``, from the given tables (deduplicated).

    Cache-blocked: every pair a table finds agrees on the table's first block, so the hashes are
    partitioned once by that block's value (a linear radix pass, shared by every table starting
    with that block) and each table then runs over runs of whole buckets of about ``chunk`` hashes,
    which stay in cache; time grows with N, not N log N from cache misses of one global sort."""
    hashes = hashes.astype(np.uint64, copy=False)
    n = np.int64(max(len(hashes), 1))
    by_block: dict[tuple[int, int], list[np.uint64]] = {}
    for m in masks:
        by_block.setdefault(first_block(m, radius), []).append(m)
    found = []
    for (low, width), group in sorted(by_block.items()):
        bucket = ((hashes >> np.uint64(low)) & np.uint64((1 << width) - 1)).astype(np.uint8)
        order = np.argsort(bucket, kind="stable")  # radix sort of 8-bit keys: one linear pass
        part = hashes[order]
        sizes = np.bincount(bucket, minlength=1 << width)
        for start, end in _chunks(sizes, chunk):
            piece, local_n = part[start:end], np.int64(end - start)
            for m in group:
                codes = _pairs_in_table(piece, m, radius)[0]
                if len(codes):
                    i, j = order[start + codes // local_n], order[start + codes % local_n]
                    found.append(np.minimum(i, j) * n + np.maximum(i, j))
    codes = _sorted_unique(np.concatenate(found).astype(np.int64) if found else np.empty(0, np.int64))
    return np.stack([codes // n, codes % n], axis=1)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Group label per index: connected components of the pair graph."""
    if len(pairs) == 0:
        return np.arange(n)
    # here, not at the top: workers that only hash images never load scipy.sparse (0.2 s each)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


PairFinder = Callable[[np.ndarray, list[np.uint64], int], np.ndarray]


def near_duplicate_groups(
    hashes: np.ndarray, radius: int = 4, find_pairs: PairFinder | None = None
) -> np.ndarray:
    """Group labels for 64-bit hashes (int64 two's complement or uint64) within ``radius`` bits.
    Equal hashes are merged first (a crawl's thousand copies of one placeholder cost one entry),
    then ``find_pairs`` (default: :func:`candidate_pairs_for_tables` here; the curate pass fans
    the tables out over Ray) checks the tables over the distinct hashes."""
    hashes = np.asarray(hashes)
    hashes = hashes.view(np.uint64) if hashes.dtype == np.int64 else hashes.astype(np.uint64)
    distinct, inverse = _distinct_with_inverse(hashes)
    pairs = (find_pairs or candidate_pairs_for_tables)(distinct, table_masks(radius), radius)
    return components(len(distinct), pairs)[inverse]


def _distinct_with_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, position of each input among them), from one argsort. Looking the
    inputs up with ``np.searchsorted`` instead is random access: 60x slower at 10M than at 1M."""
    order = np.argsort(x)
    ordered = x[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(x) else np.empty(0, bool)
    inverse = np.empty(len(x), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def representatives(
    labels: np.ndarray,
    ids: np.ndarray | list[str],
    scores: np.ndarray | None = None,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Index of each row's group representative, the same on every run: rows marked ``first``
    (earlier outputs under --against) win, then the highest score (NaN counts as lowest), then the
    smallest sample id."""
    n = len(labels)
    if n == 0:
        return np.empty(0, np.int64)
    ids = np.asarray(ids, dtype=object).astype(str)
    score = np.zeros(n) if scores is None else np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    not_first = np.ones(n, bool) if first is None else ~np.asarray(first, bool)
    order = np.lexsort((ids, -score, not_first, labels))  # last key sorts first
    sorted_labels = labels[order]
    heads = order[np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]]
    rep_of_label = dict(zip(labels[heads].tolist(), heads.tolist(), strict=True))
    return np.array([rep_of_label[x] for x in labels.tolist()], dtype=np.int64)
