"""Near-duplicate grouping equals brute-force all-pairs grouping for every radius up to 10."""

from __future__ import annotations

import numpy as np
import pytest

from filters.phash import (
    MAX_RADIUS,
    candidate_pairs_for_tables,
    components,
    near_duplicate_groups,
    popcount,
    representatives,
    table_masks,
)


def brute_force_groups(hashes: np.ndarray, radius: int) -> np.ndarray:
    n = len(hashes)
    dist = popcount(hashes[:, None] ^ hashes[None, :])
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(np.triu(dist <= radius, k=1)), strict=True):
        parent[find(i)] = find(j)
    return np.array([find(i) for i in range(n)])


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return all(len(set(b[a == label])) == 1 for label in set(a)) and len(set(a)) == len(set(b))


def planted(rng: np.random.Generator, n: int, radius: int) -> np.ndarray:
    """Random hashes plus clusters of copies with up to radius+1 flipped bits (some in, some out)."""
    base = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) ^ (
        rng.integers(0, 2, n).astype(np.uint64) << np.uint64(63)
    )
    copies = []
    for h in base[: n // 3]:
        for _ in range(int(rng.integers(1, 4))):
            bits = rng.choice(64, size=int(rng.integers(0, radius + 2)), replace=False)
            copies.append(h ^ np.uint64(sum(1 << int(b) for b in bits)))
    return np.concatenate([base, np.array(copies, np.uint64)])


def test_popcount():
    x = np.array([0, 1, 3, 2**63, 2**64 - 1], np.uint64)
    assert popcount(x).tolist() == [0, 1, 2, 1, 64]


@pytest.mark.parametrize("radius", range(MAX_RADIUS + 1))
def test_groups_equal_brute_force(radius):
    rng = np.random.default_rng(radius)
    hashes = planted(rng, 300, radius)
    assert same_partition(near_duplicate_groups(hashes, radius), brute_force_groups(hashes, radius))


def test_tables_cover_every_pair_within_the_radius():
    # pigeonhole: for r=4 there are C(8,4)=70 tables of 32-bit keys
    masks = table_masks(4)
    assert len(masks) == 70 and all(bin(int(m)).count("1") == 32 for m in masks)


def test_int64_hashes_as_stored_in_parquet():
    h = np.array([-1, -2, 5], np.int64)  # -1 and -2 differ in one bit
    labels = near_duplicate_groups(h, radius=1)
    assert labels[0] == labels[1] != labels[2]


def test_representative_is_best_scored_then_smallest_id():
    labels = np.array([0, 0, 0, 1, 1])
    ids = ["c", "a", "b", "e", "d"]
    assert representatives(labels, ids).tolist() == [1, 1, 1, 4, 4]
    scores = np.array([1.0, 0.5, 2.0, 3.0, 3.0])
    assert representatives(labels, ids, scores).tolist() == [2, 2, 2, 4, 4]


def test_radius_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="0..10"):
        near_duplicate_groups(np.zeros(2, np.uint64), radius=11)


def test_phash_is_stable_under_resize_and_differs_across_photos():
    import cv2
    from skimage import data

    from filters.phash import phash

    coffee = data.coffee()
    small = cv2.resize(coffee, (300, 200), interpolation=cv2.INTER_AREA)
    a, b, c = phash(coffee), phash(small), phash(data.astronaut())
    assert -(2**63) <= a < 2**63
    dist = lambda x, y: bin((x ^ y) & (2**64 - 1)).count("1")  # noqa: E731
    assert dist(a, b) <= 4 and dist(a, c) > 10


def test_phash_of_a_pil_image_equals_the_hash_of_its_array_and_imagehash():
    """A PIL image (what decoding now hands on) hashes as its array did, and as ``imagehash.phash``:
    existing outputs keep their hashes."""
    import imagehash
    from PIL import Image
    from skimage import data

    from filters.phash import phash

    dist = lambda x, y: bin((x ^ y) & (2**64 - 1)).count("1")  # noqa: E731
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        pixels = getattr(data, name)()
        img = Image.fromarray(pixels)
        assert phash(img) == phash(pixels)
        assert dist(phash(pixels), int(str(imagehash.phash(img)), 16)) == 0


@pytest.mark.parametrize("radius", [1, 4, 9])
def test_cache_blocked_runs_find_the_same_pairs(radius):
    """Runs of a few buckets (chunk=40 forces many) find exactly the pairs of one run over all."""
    rng = np.random.default_rng(radius + 100)
    hashes = planted(rng, 400, radius).view(np.uint64)
    masks = table_masks(radius)
    whole = candidate_pairs_for_tables(hashes, masks, radius, chunk=1 << 30)
    blocked = candidate_pairs_for_tables(hashes, masks, radius, chunk=40)
    assert np.array_equal(whole, blocked) and len(whole) > 0
    assert same_partition(components(len(hashes), blocked), brute_force_groups(hashes, radius))
