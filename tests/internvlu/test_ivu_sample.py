"""The batched sampler against the official pipeline called one row at a time, without the
official code: ``oracle_sample.npz`` holds each mode's latents after every step, its image and its
ids (``tests/data/ivu/dump_sample.py``; official commit 018a59c1, float32, one thread).

Targets (issue 19): timesteps and sigmas equal, latents after each step within 1e-4 (held to
2e-5 here), the uint8
image within 1, text ids exact, for text to image (three sizes, one resized), editing (two
sizes), text-then-image and text; and the same within a batch as alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from synth.internvlu.sample import Request, Sampler
from synth.internvlu.sample.conditions import kept_reasoning
from synth.internvlu.sample.guidance import guide, initial_noise

from .test_ivu_parity import synthetic_image

DATA = Path(__file__).resolve().parent.parent / "data" / "ivu"
CASES = json.loads((DATA / "oracle_sample.json").read_text())["cases"]
# against the oracle, the head runs on the official time features of its machine (conftest.py)
official = pytest.mark.usefixtures("official_time")


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA / "oracle_sample.npz") as f:
        return {k: f[k] for k in f.files}


def request(case: dict) -> Request:
    image = synthetic_image(*case["image"]) if case["image"] else None
    mode = "edit" if case["mode"] == "image" and image is not None else case["mode"]
    kw = case["kwargs"]
    return Request(
        case["prompt"],
        mode,
        image,
        case["height"] or 512,
        case["width"] or 512,
        case["steps"] or 1,
        kw.get("all_cfg_scale"),
        kw.get("part_cfg_scale"),
        case["seed"],
        kw.get("max_new_tokens"),
    )


def check(result, case: dict, ref: dict) -> dict:
    """Every figure of one case against the oracle; returns them (the note quotes them)."""
    name, figures = case["name"], {}
    steps = sorted((k for k in ref if k.startswith(f"{name}.step.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    if steps:
        assert len(result.steps) == len(steps)
        diffs = [float(np.abs(result.steps[i].numpy() - ref[k]).max()) for i, k in enumerate(steps)]
        figures["latents"] = max(diffs)
        # the target is 1e-4; every case is within 5e-6, and a stricter bound catches what
        # 1e-4 let through (a resize that rounded unlike the official one gave 5.7e-5)
        assert figures["latents"] < 2e-5, diffs
    if f"{name}.image" in ref:
        assert result.image.shape == ref[f"{name}.image"].shape
        figures["uint8"] = int(np.abs(result.image.astype(int) - ref[f"{name}.image"]).max())
        assert figures["uint8"] <= 1
    if f"{name}.ids" in ref:
        assert result.ids == ref[f"{name}.ids"].tolist()
    return figures


@official
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_one_row_equals_the_official_pipeline(model, ref, case):
    [result] = Sampler(model, keep_steps=True)([request(case)])
    check(result, case, ref)


@official
def test_every_mode_in_one_batch_equals_the_official(model, ref):
    """Ten rows of four modes and six sizes in one call: bucketed, each as the official alone."""
    results = Sampler(model, keep_steps=True)([request(c) for c in CASES])
    for result, case in zip(results, CASES, strict=True):
        check(result, case, ref)


def test_rows_of_one_size_share_a_forward_and_match_alone(model):
    """Five prompts, two modes, one bucket: padding in the VLM and the head moves only rounding."""
    prompts = ["a red bicycle", 'A poster that says "OPEN"', "sunset over the sea!", "a cat", "two dogs"]
    reqs = [Request(p, "image", None, 64, 64, 3, noise_seed=i) for i, p in enumerate(prompts)]
    reqs.append(Request("make the block blue", "edit", synthetic_image(64, 64, 2), 64, 64, 3, noise_seed=9))
    sampler = Sampler(model, keep_steps=True)
    together = sampler(reqs)
    for req, res in zip(reqs, together, strict=True):
        [alone] = sampler([req])
        assert float((alone.steps[-1] - res.steps[-1]).abs().max()) < 1e-5
        assert int(np.abs(alone.image.astype(int) - res.image.astype(int)).max()) <= 1


def test_scheduler_of_each_case(model, ref):
    for case in CASES:
        if case["mode"] == "text":
            continue
        scheduler = model.scheduler(3.0)
        scheduler.set_timesteps(case["steps"])
        assert scheduler.timesteps.tolist() == ref[f"{case['name']}.timesteps"].tolist()
        assert np.allclose(scheduler.sigmas.numpy(), ref[f"{case['name']}.sigmas"], rtol=1e-6, atol=1e-7)


def test_noise_is_the_official_draw():
    want = torch.randn((1, 16, 8, 4), generator=torch.Generator("cpu").manual_seed(123456789))
    assert torch.equal(initial_noise(123456789, 16, 8, 4), want)


def test_guidance_rescale_divides_large_differences_only():
    u = torch.zeros(1, 2, 1, 2)
    p = torch.tensor([[[[3.0, 0.1]], [[4.0, 0.1]]]])  # channel norms 5 and 0.14
    c = p.clone()
    out = guide(c, p, u, 4.5, 2.0, rescale=True)
    assert torch.allclose(out[..., 0], 2.0 * p[..., 0] / 5**0.4)  # norm 5 > 1: damped
    assert torch.allclose(out[..., 1], 2.0 * p[..., 1])  # norm < 1: as is
    assert torch.allclose(guide(c, p, u, 4.5, 2.0, rescale=False), 2.0 * p)


@pytest.mark.parametrize(
    ("generated", "kept"),
    [
        ([7, 8, 9, 99], [1, 2, 7, 8]),  # stop at 3: the token before it goes too (official arithmetic)
        ([7, 8, 9, 10], [1, 2, 7, 8]),  # no stop: the last two go
        ([99], [1]),  # an immediate stop even drops the prompt's last token
        ([7, 98, 99], [1, 2]),  # <img> counts as a stop as well
    ],
)
def test_reasoning_row_keeps_what_the_official_keeps(generated, kept):
    assert kept_reasoning([1, 2], generated, {98, 99}) == kept
