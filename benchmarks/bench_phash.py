"""Time and exactness of the near-duplicate grouping in ``filters/phash.py`` on synthetic 64-bit hashes.

Each dataset has planted clusters (``--planted`` of the hashes, in clusters of 2-5 copies of a random
centre with k random bits flipped, k uniform in 0..radius) and uniform random hashes for the rest.

Prints, from one run on this machine:
  * seconds for ``near_duplicate_groups(hashes, radius)`` at each ``--sizes`` (the headline time), the
    process RSS before, at peak during and after the call, and the groups found
  * candidate pairs before popcount verification and verified pairs, from a separate untimed pass over
    the same tables (sizes <= ``--count-max-size``), with that pass's seconds per phase
  * growth time(largest) / time(smallest): target <= 12x for 10x the hashes at radius 4
  * recall against brute-force all-pairs on ``--recall-subset`` planted hashes (whole clusters): must be
    1.0, and whether the two partitions are identical
  * with ``--extra-radii``: the same time (and exactness on a subset) at ``--extra-sizes`` for radii above
    4, where DESIGN expects the cost to grow faster; configurations whose expected chance candidates
    exceed ``--max-candidates`` are skipped (one table's index pairs alone would need gigabytes), with
    the estimate printed

    python benchmarks/bench_phash.py --sizes 100000 1000000
    python benchmarks/bench_phash.py --extra-radii 6 8 10 --extra-sizes 100000 1000000 --json out/phash.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson

from filters import phash as phash_module
from filters.phash import _pairs_in_table, near_duplicate_groups, popcount, table_masks

U64_MAX = np.iinfo(np.uint64).max


def provenance() -> dict:
    """Which filters/phash.py was measured: its SHA-256 and the checkout's commit (and if it is edited)."""
    path = Path(phash_module.__file__)
    out = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}
    try:
        git = ["git", "-C", str(path.parent)]
        out["commit"] = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        out["edited"] = bool(
            subprocess.run(
                [*git, "status", "--porcelain", str(path)], capture_output=True, text=True
            ).stdout.strip()
        )
    except OSError:
        pass
    return out


def mib(nbytes: float) -> int:
    return round(nbytes / 2**20)


def rss() -> int:
    return psutil.Process().memory_info().rss


def max_rss() -> int:
    """Peak RSS of this process over its whole life (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRss:
    """Peak RSS of this process while the block runs, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def __enter__(self):
        self.peak = rss()

        def loop():
            while not self._stop.is_set():
                self.peak = max(self.peak, rss())
                time.sleep(self.interval)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


class Dataset:
    """``hashes`` (uint64) and ``cluster`` (planted cluster id per hash, -1 for uniform random ones)."""

    def __init__(self, hashes: np.ndarray, cluster: np.ndarray, sizes: np.ndarray):
        self.hashes, self.cluster, self.sizes = hashes, cluster, sizes


def flip_masks(rng: np.random.Generator, count: np.ndarray, radius: int) -> np.ndarray:
    """One uint64 per row with ``count[row]`` distinct random bits set (count <= radius), vectorised."""
    m = len(count)
    if radius == 0 or m == 0:
        return np.zeros(m, np.uint64)
    out = np.zeros(m, np.uint64)
    step = 1 << 20  # rows per chunk: 64 float32 + radius int64 each, ~0.4 GB at radius 10
    for lo in range(0, m, step):
        keys = rng.random((min(step, m - lo), 64), dtype=np.float32)
        pos = np.argpartition(keys, radius - 1, axis=1)[:, :radius]  # the radius smallest: a random set
        pos = np.take_along_axis(pos, np.argsort(np.take_along_axis(keys, pos, 1), axis=1), 1)  # random order
        use = np.arange(radius) < count[lo : lo + len(keys), None]
        bits = np.where(use, np.uint64(1) << pos.astype(np.uint64), np.uint64(0))
        out[lo : lo + len(keys)] = np.bitwise_or.reduce(bits, axis=1)
    return out


def make_dataset(n: int, radius: int, planted: float, seed: int) -> Dataset:
    """``n`` hashes; ``planted`` of them in clusters of 2-5, each member within ``radius`` of its centre."""
    rng = np.random.default_rng(seed)
    target = int(round(n * planted))
    sizes = rng.integers(2, 6, size=target // 2 + 1)
    ends = np.cumsum(sizes)
    sizes = sizes[: int(np.searchsorted(ends, target)) + 1].copy()
    if len(sizes):
        sizes[-1] -= int(sizes.sum()) - target
        if sizes[-1] < 2:
            sizes = sizes[:-1]
    n_clusters, n_planted = len(sizes), int(sizes.sum())
    centres = rng.integers(0, U64_MAX, size=n_clusters, dtype=np.uint64, endpoint=True)
    member_of = np.repeat(np.arange(n_clusters), sizes)
    flipped = flip_masks(rng, rng.integers(0, radius + 1, size=n_planted), radius)
    hashes = np.concatenate(
        [
            centres[member_of] ^ flipped,
            rng.integers(0, U64_MAX, size=n - n_planted, dtype=np.uint64, endpoint=True),
        ]
    )
    cluster = np.concatenate([member_of, np.full(n - n_planted, -1)])
    order = rng.permutation(n)
    return Dataset(hashes[order], cluster[order], sizes)


def expected_chance_candidates(n: int, radius: int) -> float:
    """Candidate pairs expected from uniform random hashes alone: per table, n(n-1)/2 / 2^(key bits)."""
    return sum(n * (n - 1) / 2 / 2.0 ** int(m).bit_count() for m in table_masks(radius))


def expected_buckets(n: int, radius: int, min_size: int) -> float:
    """Keys held by ``min_size`` or more of ``n`` uniform random hashes, summed over the tables."""
    total = 0.0
    for m in table_masks(radius):
        buckets = 2.0 ** int(m).bit_count()
        total += buckets * float(poisson.sf(min_size - 1, n / buckets))
    return total


def groups_summary(labels: np.ndarray) -> dict:
    counts = np.bincount(np.unique(labels, return_inverse=True)[1])
    multi = counts[counts > 1]
    return {
        "groups": int(len(counts)),
        "groups_of_2_or_more": int(len(multi)),
        "hashes_in_such_groups": int(multi.sum()),
        "largest_group": int(counts.max()) if len(counts) else 0,
    }


def timed_groups(hashes: np.ndarray, radius: int, repeat: int = 1) -> tuple[np.ndarray, dict]:
    """The headline: only ``near_duplicate_groups`` is inside the timer (best of ``repeat`` calls)."""
    before = rss()
    runs = []
    with PeakRss() as mem:
        for _ in range(repeat):
            t0 = time.perf_counter()
            labels = near_duplicate_groups(hashes, radius)
            runs.append(time.perf_counter() - t0)
    return labels, {
        "seconds": round(min(runs), 3),
        "all_seconds": [round(x, 3) for x in runs],
        "rss_before_mb": mib(before),
        "rss_peak_during_mb": mib(mem.peak),
        "rss_after_mb": mib(rss()),
        "max_rss_so_far_mb": mib(max_rss()),
    }


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` by sorting: numpy 2.4 answers plain ``np.unique`` of integers from a hash table,
    ~100x slower than a sort at 10M mostly-distinct values (21.8 s against 0.2 s here)."""
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]]


def run_lengths(sorted_x: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    return np.diff(np.r_[starts, len(sorted_x)])


def best_of(figures: dict) -> str:
    runs = figures["all_seconds"]
    return f" (best of {len(runs)}: {', '.join(f'{x:.3f}' for x in runs)})" if len(runs) > 1 else ""


def count_pairs(hashes: np.ndarray, radius: int) -> dict:
    """Untimed pass doing what ``near_duplicate_groups`` does (equal hashes merged, then every table's
    candidates from ``_pairs_in_table``, verified by popcount, deduplicated as one int64 per pair),
    counting what it discards. Candidates are counted once per table that produces them (what the
    popcount verifies), verified pairs likewise and again after deduplication; also the keys shared
    by 2+ hashes. Seconds per phase, for the profile."""
    phase = {"distinct": 0.0, "tables": 0.0, "dedup": 0.0}
    t0 = time.perf_counter()
    distinct = sorted_unique(hashes.astype(np.uint64))
    phase["distinct"] = time.perf_counter() - t0
    n = np.int64(len(distinct))
    masks = table_masks(radius)
    candidates = verified = shared = 0
    found = []
    for mask in masks:
        t0 = time.perf_counter()
        codes, checked = _pairs_in_table(distinct, mask, radius)
        phase["tables"] += time.perf_counter() - t0
        counts = run_lengths(np.sort(distinct & mask))  # not timed: only for the counts
        shared += int((counts > 1).sum())
        candidates += checked
        verified += len(codes)
        found.append(codes)
    t0 = time.perf_counter()
    unique = len(sorted_unique(np.concatenate(found))) if found else 0
    phase["dedup"] = time.perf_counter() - t0
    return {
        "distinct_hashes": int(n),
        "tables": len(masks),
        "candidate_pairs": candidates,
        "expected_chance_candidates": round(expected_chance_candidates(int(n), radius)),
        "shared_keys": shared,
        "expected_chance_shared_keys": round(expected_buckets(int(n), radius, 2)),
        "verified_pairs_with_repeats": verified,
        "verified_pairs_unique": unique,
        "candidates_per_verified_unique": round(candidates / unique, 2) if unique else None,
        "pass_seconds": {k: round(v, 3) for k, v in phase.items()},
    }


def brute_force_pairs(hashes: np.ndarray, radius: int, chunk_bytes: float = 2.5e8) -> np.ndarray:
    """Every pair (i < j) within ``radius``, comparing all pairs in row chunks (a few chunk-sized
    temporaries live at once: ~1.3 GB at the default)."""
    hashes = hashes.astype(np.uint64, copy=False)
    n = len(hashes)
    rows = max(1, int(chunk_bytes // (8 * max(n, 1))))
    found = []
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        close = popcount(hashes[lo:hi, None] ^ hashes[None, :]) <= radius
        i, j = np.nonzero(close)
        i += lo
        keep = i < j
        found.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), np.int64)


def canonical(labels: np.ndarray) -> np.ndarray:
    """Each index mapped to the first index of its group: equal arrays iff equal partitions."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return first[inverse]


def recall_subset(data: Dataset, size: int, seed: int) -> np.ndarray:
    """Indices of whole planted clusters, in random order, up to ``size`` hashes."""
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(data.sizes))
    take = chosen[: int(np.searchsorted(np.cumsum(data.sizes[chosen]), size, side="right"))]
    return np.flatnonzero(np.isin(data.cluster, take))


def exactness(
    data: Dataset, radius: int, size: int, seed: int, full_labels: np.ndarray | None = None
) -> dict:
    """Brute force on a subset of whole planted clusters vs ``near_duplicate_groups`` on that subset."""
    idx = recall_subset(data, size, seed)
    sub = data.hashes[idx]
    t0 = time.perf_counter()
    pairs = brute_force_pairs(sub, radius)
    brute_s = time.perf_counter() - t0
    n = len(sub)
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    brute = connected_components(graph, directed=False)[1]
    labels = near_duplicate_groups(sub, radius)
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    out = {
        "subset": n,
        "planted_clusters": int(len(np.unique(data.cluster[idx]))),
        "brute_force_pairs": int(len(pairs)),
        "brute_force_seconds": round(brute_s, 3),
        "recall": float(same.mean()) if len(pairs) else 1.0,
        "partitions_equal": bool(np.array_equal(canonical(labels), canonical(brute))),
        "groups_brute_force": groups_summary(brute)["groups_of_2_or_more"],
        "groups_near_duplicate_groups": groups_summary(labels)["groups_of_2_or_more"],
    }
    if full_labels is not None:  # the same pairs in the grouping of the whole dataset
        full = full_labels[idx]
        out["recall_in_full_dataset_grouping"] = float((full[pairs[:, 0]] == full[pairs[:, 1]]).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--radius", type=int, default=4)
    ap.add_argument("--planted", type=float, default=0.1, help="fraction of hashes in planted clusters")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="calls per size; the best time is reported")
    ap.add_argument(
        "--count-max-size",
        type=int,
        default=10_000_000,
        help="run the untimed candidate-counting pass only for sizes up to this (costs about one more call)",
    )
    ap.add_argument("--recall-subset", type=int, default=20_000, help="hashes (whole planted clusters)")
    ap.add_argument("--extra-radii", type=int, nargs="*", default=[], help="radii above 4 to report too")
    ap.add_argument("--extra-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--max-candidates",
        type=float,
        default=2e9,
        help="skip an extra-radius configuration whose expected chance candidates exceed this",
    )
    ap.add_argument("--json", help="write the figures here as JSON")
    args = ap.parse_args()

    result: dict = {
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "cores": psutil.cpu_count(logical=True),
        "memory_total_mb": mib(psutil.virtual_memory().total),
        "phash_py": provenance(),
        "sizes": {},
    }
    ph = result["phash_py"]
    print(
        f"near_duplicate_groups, radius {args.radius}, {args.planted:.0%} planted in clusters of 2-5; "
        f"filters/phash.py sha256 {ph['sha256']} at commit {ph.get('commit')}"
        f"{' (edited)' if ph.get('edited') else ''}; {result['cores']} cores"
    )
    # the recall subset comes from the smallest size with enough planted hashes (else the largest)
    enough = [n for n in args.sizes if n * args.planted >= args.recall_subset]
    recall_from = min(enough) if enough else max(args.sizes)
    source: tuple[Dataset, np.ndarray] | None = None
    for n in args.sizes:
        t0 = time.perf_counter()
        data = make_dataset(n, args.radius, args.planted, args.seed + n)
        gen_s = time.perf_counter() - t0
        labels, figures = timed_groups(data.hashes, args.radius, args.repeat)
        figures = {"generate_seconds": round(gen_s, 3), **figures, **groups_summary(labels)}
        figures["planted_clusters"] = int(len(data.sizes))
        print(
            f"  N={n:>11,}: {figures['seconds']:9.3f} s{best_of(figures)}  (generate {gen_s:.2f} s)  "
            f"RSS before "
            f"{figures['rss_before_mb']} MB, peak during {figures['rss_peak_during_mb']} MB, after "
            f"{figures['rss_after_mb']} MB  groups>=2 {figures['groups_of_2_or_more']:,} "
            f"(planted clusters {figures['planted_clusters']:,}, largest group {figures['largest_group']})"
        )
        if n <= args.count_max_size:
            c = count_pairs(data.hashes, args.radius)
            figures["counts"] = c
            ps = c["pass_seconds"]
            print(
                f"      {c['distinct_hashes']:,} distinct hashes, {c['tables']} tables: candidate pairs "
                f"{c['candidate_pairs']:,} (chance alone expected {c['expected_chance_candidates']:,}), "
                f"verified {c['verified_pairs_with_repeats']:,} with repeats, {c['verified_pairs_unique']:,} "
                f"unique (pairs of distinct hashes)"
            )
            print(
                f"      keys shared by 2+ hashes {c['shared_keys']:,} (chance alone expected "
                f"{c['expected_chance_shared_keys']:,}); untimed counting pass: distinct {ps['distinct']:.2f} s, "
                f"tables {ps['tables']:.2f} s, dedup {ps['dedup']:.2f} s"
            )
        else:
            figures["counts"] = None
            print(f"      candidate counts not computed above --count-max-size {args.count_max_size:,}")
        result["sizes"][str(n)] = figures
        if n == recall_from and source is None:
            source = (data, labels)
        del data, labels

    lo, hi = min(args.sizes), max(args.sizes)
    if hi > lo:
        growth = result["sizes"][str(hi)]["seconds"] / result["sizes"][str(lo)]["seconds"]
        slope = math.log(growth) / math.log(hi / lo)
        result["growth"] = {"sizes": [lo, hi], "ratio": round(growth, 3), "loglog_slope": round(slope, 3)}
        verdict = ""
        if hi == 10 * lo and args.radius == 4:
            verdict = "  MEETS target" if growth <= 12 else "  MISSES target"
        print(
            f"growth time(N={hi:,}) / time(N={lo:,}) = {growth:.2f}x for {hi / lo:g}x the hashes "
            f"(log-log slope {slope:.3f}); target <= 12x for 10x the hashes at radius 4{verdict}"
        )

    if source is not None and args.recall_subset > 0:
        data, labels = source
        ex = exactness(data, args.radius, args.recall_subset, args.seed, labels)
        result["exactness"] = {"drawn_from_size": len(data.hashes), **ex}
        print(
            f"exactness on {ex['subset']:,} planted hashes ({ex['planted_clusters']:,} whole clusters, from "
            f"N={len(data.hashes):,}): brute-force pairs {ex['brute_force_pairs']:,} "
            f"({ex['brute_force_seconds']} s), "
            f"recall {ex['recall']} (must be 1.0), partitions equal: {ex['partitions_equal']}, recall within "
            f"the full-dataset grouping {ex['recall_in_full_dataset_grouping']}"
        )
    source = None

    if args.extra_radii:
        result["extra_radii"] = {}
        print("radii above 4 (DESIGN: the cost grows faster)")
    for r in args.extra_radii:
        rows = result["extra_radii"][str(r)] = {}
        for n in args.extra_sizes:
            est = expected_chance_candidates(n, r)
            if est > args.max_candidates:
                per_table = max(n * (n - 1) / 2 / 2.0 ** int(m).bit_count() for m in table_masks(r))
                rows[str(n)] = {
                    "skipped": True,
                    "expected_chance_candidates": est,
                    "largest_table_expected_candidates": per_table,
                }
                print(
                    f"  r={r:>2} N={n:>11,}: skipped, {est:.3g} chance candidate pairs expected over "
                    f"{len(table_masks(r))} tables, {per_table:.3g} in the largest (each costs ~40 B of "
                    f"temporaries before verification: ~{per_table * 40 / 2**30:.0f} GiB) > "
                    f"--max-candidates "
                    f"{args.max_candidates:.3g}"
                )
                continue
            data = make_dataset(n, r, args.planted, args.seed + n + r)
            labels, figures = timed_groups(data.hashes, r, args.repeat)
            figures = {
                **figures,
                **groups_summary(labels),
                "expected_chance_candidates": round(est),
                "expected_chance_shared_keys": round(expected_buckets(n, r, 2)),
            }
            rows[str(n)] = figures
            print(
                f"  r={r:>2} N={n:>11,}: {figures['seconds']:9.3f} s{best_of(figures)}  "
                f"{len(table_masks(r))} tables, chance candidates expected {est:.3g}, "
                f"Python-loop groups expected "
                f"{figures['expected_chance_python_loop_groups']:,}, "
                f"RSS peak during {figures['rss_peak_during_mb']} MB, "
                f"groups>=2 {figures['groups_of_2_or_more']:,}"
            )
            del labels
        if args.recall_subset > 0:
            data = make_dataset(max(args.extra_sizes), r, args.planted, args.seed + r)
            ex = exactness(data, r, args.recall_subset, args.seed)
            rows["exactness"] = ex
            print(
                f"  r={r:>2} exactness on {ex['subset']:,} planted hashes: brute-force pairs "
                f"{ex['brute_force_pairs']:,}, recall {ex['recall']}, "
                f"partitions equal: {ex['partitions_equal']}"
            )
            del data

    result["max_rss_mb"] = mib(max_rss())
    print(f"peak RSS of this process over the run: {result['max_rss_mb']} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
