"""Deterministic identity: sample ids, per-sample seeds and hashes of configs.

Every generated sample draws from its own RNG seeded by (run seed, split, global index), so the
unit size and the number of workers never change a sample.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

SPLITS = {"train": 0, "test": 1}


def digest(*parts: Any, length: int = 32) -> str:
    """Hex blake2b of the canonical JSON of ``parts``."""
    data = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(data, digest_size=length // 2).hexdigest()


def sample_seed(run_seed: int, split: str, index: int) -> int:
    """The sample's own seed (63-bit, fits int64): redraws this sample alone."""
    h = hashlib.blake2b(f"{run_seed}:{SPLITS[split]}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 1


def sample_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed])


def sample_id(pipeline: str, content_hash: str, run_seed: int, split: str, index: int) -> str:
    return digest(pipeline, content_hash, run_seed, split, index)


def file_digest(path: str, chunk: int = 1 << 20) -> str:
    """sha256 of a file, for weights and fonts recorded in run.json."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
