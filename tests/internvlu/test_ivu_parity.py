"""Our InternVL-U against the official code's own numbers, without the official code.

``tests/data/ivu/tiny`` is a random-weight checkpoint written by the official classes, and
``oracle.npz`` the tensors the official pipeline computed on it (``../shared/ivu_oracle``,
official commit 018a59c1, float32, one thread: ``oracle.json`` says how). Targets from issue 18:
activations within 1e-5 relative (max abs difference over max abs value), generated ids exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from synth.internvlu import vae as V
from synth.internvlu.transformer import HeadInputs

DATA = Path(__file__).resolve().parent.parent / "data" / "ivu"
TOL = 1e-5
# the head runs on the official time features of the machine that made the tensors (conftest.py)
head_parity = pytest.mark.usefixtures("official_time")


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA / "oracle.npz") as f:
        return {k: torch.from_numpy(f[k]) for k in f.files}


def test_vlm_hidden_states_and_condition(model, ref):
    ids, mask = ref["t2i.proc.input_ids"], ref["t2i.proc.attention_mask"]
    with torch.no_grad():
        states = model.vlm.hidden_states(ids, mask)
        valid = mask.bool()
        for layer in (-2, -1):
            want = ref[f"t2i.vlm.hidden_states[{layer}]"]
            assert rel(states[layer][valid], want[valid]) < TOL
        layers = model.generation_decoder.config.vlm_select_layer
        conds, images = model.vlm.condition(ids, mask, states, layers)
        for i, cond in enumerate(conds):
            want = ref[f"t2i.cond.encoder_hidden_states.{i}"]
            assert cond.shape == want.shape  # second <|im_start|> through <img>, padding out
            assert rel(cond, want) < TOL
            assert not images[i].any()  # text-to-image: no image tokens in the condition
        projected, cond_mask, _ = model.generation_decoder.project(conds)
        assert rel(projected, ref["t2i.cond.projected"]) < TOL
        assert torch.equal(cond_mask, ref["t2i.cond.attention_mask"].bool())


@head_parity
@pytest.mark.parametrize("call", ["t2i.head.0", "t2i.head.1", "t2i.head.2", "t2i.head.3", "unit.head"])
def test_head_velocity(model, ref, call):
    """Three rows (condition, text dropped, all dropped) of different lengths in one batch."""
    inputs = HeadInputs(
        latents=list(ref[f"{call}.hidden_states"]),
        timestep=ref[f"{call}.timestep"],
        cond=ref["t2i.head.encoder_hidden_states"],
        cond_mask=ref["t2i.head.encoder_attention_mask"].bool(),
        cond_image_mask=ref["t2i.head.encoder_image_token_mask"].bool(),
    )
    with torch.no_grad():
        out = torch.stack(model.generation_decoder.decoder(inputs))
    assert rel(out, ref[f"{call}.out"]) < TOL


def test_vision_features(model, ref):
    with torch.no_grad():
        feats = model.vlm.image_features(ref["und_image.proc.pixel_values"].float())
    want = ref["und_image.vit_embeds"]
    assert rel(feats.reshape(want.shape), want) < TOL


@pytest.mark.parametrize("call", ["und_text", "und_image"])
def test_greedy_ids_exact(model, ref, call):
    pixels = ref.get(f"{call}.proc.pixel_values")
    out = model.vlm.generate(
        ref[f"{call}.proc.input_ids"],
        ref[f"{call}.proc.attention_mask"],
        None if pixels is None else pixels.float(),
        max_new_tokens=len(ref[f"{call}.generated_ids"].flatten()),
    )
    assert out == [ref[f"{call}.generated_ids"].flatten().tolist()]


def test_vae_decode_encode_and_uint8(model, ref):
    with torch.no_grad():
        assert rel(V.decode(model.vae, ref["unit.vae.latents"]), ref["unit.vae.pixels"]) < TOL
        assert rel(V.decode(model.vae, ref["t2i.final_latents"]), ref["t2i.vae.pixels"]) < TOL
        assert rel(V.encode(model.vae, ref["edit.vae.encode_in"]), ref["edit.vae.cond_latents"]) < TOL
    image = V.to_uint8(ref["t2i.vae.pixels"])[0]
    assert torch.equal(image, ref["t2i.image_uint8"])  # offset 128 and truncation, exactly


@pytest.fixture(scope="module")
def edit_ref():
    """The official editing call's first head step and VLM condition (``dump_edit.py``)."""
    with np.load(DATA / "oracle_edit.npz") as f:
        return {k: torch.from_numpy(f[k]) for k in f.files}


def test_edit_condition_with_image_tokens(model, edit_ref):
    r = edit_ref
    with torch.no_grad():
        states = model.vlm.hidden_states(
            r["proc.input_ids"], r["proc.attention_mask"], r["proc.pixel_values"]
        )
        conds, images = model.vlm.condition(r["proc.input_ids"], r["proc.attention_mask"], states, [-2, -1])
    for i, cond in enumerate(conds):
        assert rel(cond, r[f"cond.{i}"]) < TOL
        assert torch.equal(images[i], r[f"cond_image_mask.{i}"].bool())
    assert images[0].any() and not images[2].any()  # the all-dropped row has no image


@head_parity
def test_edit_head_with_references(model, edit_ref):
    """Reference latents as later frames, VLM image tokens at their own grid positions."""
    r = edit_ref
    rows = range(len(r["head.hidden_states"]))
    inputs = HeadInputs(
        latents=list(r["head.hidden_states"]),
        timestep=r["head.timestep"],
        cond=r["head.encoder_hidden_states"],
        cond_mask=r["head.encoder_attention_mask"].bool(),
        cond_image_mask=r["head.encoder_image_token_mask"].bool(),
        cond_image_grids=[[tuple(g) for g in r[f"head.image_fhw_cond.{i}"].tolist()] for i in rows],
        refs=[
            r[f"head.conditional_input.{i}"] if len(r[f"head.conditional_input.{i}"]) else None for i in rows
        ],
    )
    with torch.no_grad():
        out = torch.stack(model.generation_decoder.decoder(inputs))
    assert rel(out, r["head.out"]) < TOL


def test_time_features(model):
    """Our formula against the official features where the tensors were made: equal up to what
    a one-ulp difference of float32 exp makes of a phase near 1e6 rad (see conftest.py)."""
    from synth.internvlu.transformer import timestep_features

    from .conftest import stored_time_features

    table = stored_time_features()
    t = torch.tensor(sorted(table))
    ours, want = timestep_features(t), torch.stack([table[float(x)] for x in t])
    assert ours.shape == want.shape
    phase = 1000 * t[:, None] * torch.exp(-np.log(10000) * torch.arange(128) / 128)
    ulp = 1000 * t[:, None] * 2.0 ** (torch.floor(torch.log2(phase / (1000 * t[:, None]))) - 23)
    slack = 3 * torch.cat([ulp, ulp], dim=1) + 1e-5  # |d sin| <= |d phase|, a few ulp of exp
    assert bool(((ours - want).abs() <= slack).all())
    assert float(((ours - want).abs() <= 1e-5).float().mean()) > 0.9  # an ulp off is the exception


def synthetic_image(w: int, h: int, seed: int):
    """The oracle's test picture (``run_oracle.synthetic_image``): gradients and a red block."""
    from PIL import Image

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(2 * np.pi * (xx / w + seed * 0.1))
    img = np.stack([r, 255.0 * yy / max(h - 1, 1), 255.0 * ((xx + yy) % 17) / 16.0], -1)
    img[h // 4 : h // 2, w // 4 : w // 2] = [250, 20, 40]
    return Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8), "RGB")


def test_processor_text_to_image_rows(model, ref):
    batch = model.processor(
        ["a small red cube and a blue sphere on a wooden table, studio lighting"],
        mode="image",
        height=64,
        width=64,
    )
    for key in ("input_ids", "attention_mask", "generation_flags", "image_grid_thw_gen"):
        assert torch.equal(batch[key], ref[f"t2i.proc.{key}"]), key


def test_processor_understanding_rows(model, ref):
    text = model.processor(["Describe a sunny day."], mode="text")
    assert torch.equal(text["input_ids"], ref["und_text.proc.input_ids"])
    image = model.processor(["What is shown in the picture?"], [synthetic_image(56, 56, 1)], mode="text")
    assert torch.equal(image["input_ids"], ref["und_image.proc.input_ids"])
    assert torch.equal(image["pixel_values"], ref["und_image.proc.pixel_values"])


def test_processor_editing_rows(model, ref):
    """Three rows, the instruction's case kept (its ``<image>`` prefix comes first), both kinds
    of pixels bf16-rounded as the official processor returns them."""
    batch = model.processor(
        ["make the block blue"], [synthetic_image(64, 64, 2)], mode="image", height=64, width=64
    )
    for key in ("input_ids", "attention_mask", "generation_flags", "image_grid_thw_gen", "pixel_values",
                "pixel_values_gen"):  # fmt: skip
        assert torch.equal(batch[key], ref[f"edit.proc.{key}"]), key


@pytest.mark.parametrize("size", [(96, 64, 3), (200, 120, 5), (50, 90, 4)])
def test_processor_resizes_as_the_official_does(model, size):
    """Images the processor resizes: the ViT tile by torchvision's antialiased bicubic, the VAE's
    pixels by PIL's bicubic and a float64 rescale, both bf16-rounded, equal to the last bit."""
    with np.load(DATA / "oracle_sample.npz") as f:
        want = {
            k: torch.from_numpy(f[f"proc.{size[0]}x{size[1]}.{k}"])
            for k in ("pixel_values", "pixel_values_gen")
        }
    batch = model.processor(
        ["Remove the red square"], [synthetic_image(*size)], mode="image", height=64, width=96
    )
    for key, value in want.items():
        assert torch.equal(batch[key], value), key


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 8, 20])
def test_scheduler_timesteps_and_sigmas(model, steps):
    import json

    want = json.loads((DATA / "oracle.json").read_text())["unit_scheduler"][str(steps)]
    scheduler = model.scheduler()
    scheduler.set_timesteps(steps, device="cpu")
    assert scheduler.timesteps.tolist() == want["timesteps"]
    assert np.allclose(scheduler.sigmas.numpy(), want["sigmas"], rtol=1e-6, atol=1e-7)
