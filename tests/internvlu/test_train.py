"""``synth train`` on the CPU with the tiny checkpoint: it learns, stage 1 freezes what it says,
gradients reach the head's gates, a killed run resumes to the same curve and weights, two gloo
processes under FSDP2 equal one, the export loads in our sampler, and Ray Train runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from synth.internvlu.model import InternVLU
from synth.internvlu.train.config import load_train_config
from synth.internvlu.train.loop import train
from tests.cli_runner import invoke, kill_when

ROOT = Path(__file__).resolve().parents[2]


def losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]


def weights(folder: Path) -> dict[str, torch.Tensor]:
    out = {}
    for part in ("vlm", "generation_decoder"):
        out.update({f"{part}.{k}": v for k, v in load_file(str(folder / part / "model.safetensors")).items()})
    return out


def module_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "synth.internvlu.train", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_tiny_stage1_learns_freezes_the_vlm_and_exports_a_loadable_checkpoint(runs, tiny_ckpt, tmp_path):
    """8 rows overfit (loss at least halved), every VLM tensor of final/ is the init's to the bit,
    and final/ loads and draws in our sampler."""
    out = tmp_path / "run"
    sets = ["data.global_batch=8", "data.mix={t2i: 1}", "data.dropout={t2i: {all: 0.0}}",
            "train.steps=150", "train.log_every=10", "train.save_every=150", "optim.lr=0.002"]  # fmt: skip
    result = invoke("train", "--config", "tiny", "--data", str(runs["text"]), "--init", str(tiny_ckpt),
                    "--out", str(out), *[a for s in sets for a in ("--set", s)])  # fmt: skip
    assert result.exit_code == 0, result.output
    curve = losses(out)
    assert curve[-1] <= curve[0] / 2, curve

    before, after = weights(tiny_ckpt), weights(out / "final")
    assert before.keys() == after.keys()
    vlm = [k for k in before if k.startswith("vlm.")]
    assert vlm and all(torch.equal(before[k], after[k]) for k in vlm)
    # every trainable tensor moved but those no target's loss reaches: the padding token (masked
    # out) and the last block's text-only outputs (text queries, text output and MLP of the last
    # block feed nothing after them)
    last = "generation_decoder.decoder.transformer_blocks.1."  # the tiny head has 2 blocks
    unreached = {"generation_decoder.encoder_padding_token"} | {
        last + n for n in ("attn.add_q_proj.weight", "attn.add_q_proj.bias", "attn.norm_added_q.weight",
                           "attn.to_add_out.weight", "attn.to_add_out.bias", "txt_mlp.net.0.proj.weight",
                           "txt_mlp.net.0.proj.bias", "txt_mlp.net.2.weight", "txt_mlp.net.2.bias")
    }  # fmt: skip
    unchanged = {
        k for k in before if k.startswith("generation_decoder.") and torch.equal(before[k], after[k])
    }
    assert unchanged == unreached

    from PIL import Image

    from synth.internvlu.sample import Request, Sampler

    model = InternVLU.from_pretrained(out / "final")
    [res] = Sampler(model)([Request("A sign that says OPEN", height=64, width=64, steps=2, noise_seed=1)])
    assert res.image.shape == (64, 64, 3)
    Image.fromarray(res.image)  # a real image
    tb = list((out / "tb").glob("events.out.tfevents.*"))
    assert tb, "no TensorBoard events"
    record = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    assert {"loss_fm", "loss_ntp", "lr", "grad_norm", "samples_per_s", "tokens_per_s", "skipped"} <= set(
        record
    )


def test_gradients_reach_the_head_gates(runs, tiny_ckpt):
    """Each block's query projections emit [q | gate] per head; the gate halves get gradient."""
    from synth.internvlu.train.batch import collate
    from synth.internvlu.train.data import DataConfig, Position, TrainData
    from synth.internvlu.train.loop import _noise, freeze
    from synth.internvlu.train.step import TrainModule, encode_latents

    model = InternVLU.from_pretrained(tiny_ckpt)
    module = TrainModule(model.vlm, model.generation_decoder, ntp=False)
    freeze(module, ["generation_decoder"])
    cfg = DataConfig.from_dict({"global_batch": 4, "mix": {"t2i": 1, "edit": 1}, "sizes": [64], "workers": 0,
                                "max_tokens": 4096})  # fmt: skip
    step = next(
        TrainData([str(runs["text"]), str(runs["edit"])], cfg, model.processor, 0).steps(Position.start())
    )
    batch = collate(step.examples, model.tokenizer.pad_token_id)
    latents = encode_latents(model.vae, batch, torch.device("cpu"), torch.float32)
    fm, _ = module(batch, latents, _noise(batch, latents, 0, 1, 0.0, 1.0, 3.0))
    fm.sum().backward()
    head = model.generation_decoder.decoder
    h, dh = head.config.num_attention_heads, head.config.attention_head_dim
    blocks = head.transformer_blocks
    # image queries in every block; text queries where text tokens feed a later block
    for proj in [b.attn.to_q for b in blocks] + [b.attn.add_q_proj for b in blocks[:-1]]:
        g = proj.weight.grad.view(h, 2, dh, -1)  # rows per head: [q ; gate]
        assert float(g[:, 1].abs().sum()) > 0, "no gradient reaches the output gates"
    assert all(p.grad is None for p in model.vlm.parameters())


def test_killed_run_resumes_to_the_same_curve_and_weights(runs, tiny_ckpt, tmp_path):
    """kill -9 after the step-8 checkpoint, rerun into the same --out: the logged losses and the
    final weights equal an uninterrupted run's, to the bit."""
    args = ["--config", "tiny", "--data", str(runs["text"]), str(runs["edit"]), "--init", str(tiny_ckpt),
            "--set", "train.steps=12", "--set", "train.save_every=4", "--set", "train.log_every=1",
            "--set", "data.global_batch=4", "--set", "train.micro_batch=2"]  # fmt: skip
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    subprocess.run(module_cmd(*args, "--out", str(whole)), check=True, env=env(), capture_output=True)
    done = kill_when(
        module_cmd(*args, "--out", str(broken)),
        lambda: (broken / "checkpoints" / "step-000008" / "state.json").exists(),
        env=env(),
    )
    assert done, "the run never reached its step-8 checkpoint"
    assert not (broken / "final").exists()
    subprocess.run(module_cmd(*args, "--out", str(broken)), check=True, env=env(), capture_output=True)
    assert losses(broken) == losses(whole)
    a, b = weights(whole / "final"), weights(broken / "final")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_two_gloo_processes_under_fsdp2_equal_one(runs, tiny_ckpt, tmp_path):
    """Stage 3 at the tiny size (the whole model trains, blocks sharded): the same global batches
    on 2 processes and on 1 give the same weights within 1e-5."""
    data = [str(runs[k]) for k in ("text", "edit", "cs", "cot")]
    args = ["--config", "tiny_stage3", "--data", *data, "--init", str(tiny_ckpt), "--set", "train.steps=3",
            "--set", "data.global_batch=8", "--set", "train.micro_batch=2", "--set", "data.workers=0"]  # fmt: skip
    one, two = tmp_path / "one", tmp_path / "two"
    subprocess.run(module_cmd(*args, "--out", str(one)), check=True, env=env(), capture_output=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                "-m", "synth.internvlu.train", *args, "--out", str(two)]  # fmt: skip
    proc = subprocess.run(torchrun, env=env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    a, b = weights(one / "final"), weights(two / "final")
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    moved = max(float((a[k] - weights(tiny_ckpt)[k]).abs().max()) for k in a)
    assert worst <= 1e-5 and moved > 1e-4, (worst, moved)
    assert np.allclose(losses(one), losses(two), rtol=1e-5, atol=1e-6)


def test_ray_train_runs_the_same_function(runs, tiny_ckpt, tmp_path, ray_session):
    from synth.internvlu.train.launch import Launch, run_on_ray

    out = tmp_path / "ray"
    launch = Launch("tiny", [str(runs["text"])], str(out), str(tiny_ckpt),
                    ["train.steps=2", "data.global_batch=2", "data.workers=0"])  # fmt: skip
    result = run_on_ray(launch, num_workers=1, gpus_per_worker=0.0)
    assert result["final"] and (out / "final" / "model_index.json").exists()
    assert len(losses(out)) >= 1


def test_config_errors_name_the_key():
    from synth.config import ConfigError

    with pytest.raises(ConfigError, match="lr"):
        load_train_config("tiny", ["optim.lr=-1"])
    with pytest.raises(ConfigError, match="mix"):
        load_train_config("tiny", ["data.mix={pictures: 1}"])
    with pytest.raises(ConfigError, match="shipped"):
        load_train_config("stage9")
    cfg = load_train_config("stage3")
    assert (
        cfg.loss.ntp == 1.0
        and cfg.loss.fm == 20.0
        and cfg.data["mix"] == {"t2i": 1, "edit": 1, "und": 2, "cot": 1}
    )


def test_resume_refuses_another_setup(runs, tiny_ckpt, tmp_path):
    from synth.internvlu.errors import TrainError

    out = tmp_path / "run"
    cfg = load_train_config("tiny", ["train.steps=1", "data.global_batch=2", "data.workers=0"])
    train(cfg, [str(runs["text"])], str(tiny_ckpt), out, progress=False)
    other = load_train_config(
        "tiny", ["train.steps=2", "data.global_batch=2", "data.workers=0", "optim.lr=0.5"]
    )
    with pytest.raises(TrainError, match="optim.lr"):
        train(other, [str(runs["text"])], str(tiny_ckpt), out, progress=False)
    longer = load_train_config("tiny", ["train.steps=2", "data.global_batch=2", "data.workers=0"])
    summary = train(longer, [], None, out, progress=False)  # data and init from the record
    assert summary.resumed_from == 1 and summary.steps == 2
