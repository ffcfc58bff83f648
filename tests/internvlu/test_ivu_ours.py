"""Our own checkpoint layout in the official pipeline: ``synth model tiny``'s checkpoint (written by
``write_pretrained``, the path ``synth train``'s ``final/`` takes), run by the official code
(``tests/data/ivu/dump_sample.py`` -> ``oracle_ours.npz``), against our sampler on the same files.

Its random weights make the model generate special tokens (``<box>``) mid-answer, which the
official checkpoint's cases never did: the official decode loop embeds a generated token with the
plain table (special rows are replaced in the prompt only), and ours now does the same. Targets as
for ``test_ivu_sample.py``: ids exact, latents within 2e-5, the uint8 image within 1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from synth.internvlu.sample import Sampler

from .conftest import patch_time, stored_time_features
from .test_ivu_sample import check, request

DATA = Path(__file__).resolve().parent.parent / "data" / "ivu"
META = json.loads((DATA / "oracle_ours.json").read_text())
CASES = META["cases"]


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    from synth.internvlu.model import InternVLU
    from synth.internvlu.presets import make_tiny

    root = make_tiny(tmp_path_factory.mktemp("ours") / "tiny")
    for name, want in META["checkpoint"].items():  # the stored tensors were made from these files
        got = hashlib.sha256((root / name).read_bytes()).hexdigest()
        assert got == want, f"synth model tiny changed {name}: remake oracle_ours.* with dump_sample.py"
    torch.set_num_threads(1)
    return InternVLU.from_pretrained(root)


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA / "oracle_ours.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_our_checkpoint_equals_the_official_pipeline(ours, ref, case, monkeypatch):
    patch_time(monkeypatch, stored_time_features("oracle_ours.npz"))
    [result] = Sampler(ours, keep_steps=True)([request(case)])
    check(result, case, ref)


def test_a_generated_special_token_is_in_the_cases(ours, ref):
    """The cases exercise the decode-loop embedding: some answer holds a special token mid-way."""
    special = {ours.vlm.token_ids[t] for t in ("<box>", "</box>", "<ref>", "</ref>", "<quad>", "</quad>")}
    answers = [ref[f"{c['name']}.ids"].tolist()[:-1] for c in CASES if f"{c['name']}.ids" in ref]
    assert any(special & set(ids) for ids in answers)
