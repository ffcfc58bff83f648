"""The checkpoint layout: save and load, refusals that name what is wrong, the tiny builder,
sizes on the meta device, batching, and gradients."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from synth.internvlu import CheckpointError, InternVLU, check_checkpoint
from synth.internvlu.model import build_components
from synth.internvlu.presets import make_tiny, release_configs
from synth.internvlu.transformer import HeadInputs
from tests.cli_runner import invoke

OFFICIAL = Path(__file__).resolve().parent.parent / "data" / "ivu" / "tiny"  # written by the official classes


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny(tmp_path_factory.mktemp("ivu") / "tiny", seed=0)


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tiny_is_deterministic_and_checks(tiny, tmp_path):
    again = make_tiny(tmp_path / "again", seed=0)
    assert files_of(again) == files_of(tiny)
    other = make_tiny(tmp_path / "other", seed=1)
    assert files_of(other)["vlm/model.safetensors"] != files_of(tiny)["vlm/model.safetensors"]
    assert check_checkpoint(tiny)[1] == []
    result = invoke("model", "info", str(tiny))
    assert result.exit_code == 0, result.output
    assert "layout check: OK" in result.output and "generation_decoder.head" in result.output


@pytest.mark.parametrize("source", ["official", "ours"])
def test_save_then_load_is_tensor_identical(source, tiny, tmp_path):
    root = OFFICIAL if source == "official" else tiny
    model = InternVLU.from_pretrained(root)
    model.save_pretrained(tmp_path / "copy")
    back = InternVLU.from_pretrained(tmp_path / "copy")
    for name in ("vlm", "generation_decoder", "vae"):
        a, b = getattr(model, name).state_dict(), getattr(back, name).state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    for name in ("vlm/config.json", "generation_decoder/config.json", "vae/config.json"):
        assert json.loads((root / name).read_text()) == json.loads((tmp_path / "copy" / name).read_text())


def broken_copy(tmp_path: Path, tiny: Path) -> Path:
    root = tmp_path / "broken"
    shutil.copytree(tiny, root)
    return root


def refusal(root: Path) -> str:
    with pytest.raises(CheckpointError) as e:
        InternVLU.from_pretrained(root)
    return str(e.value)


def test_refuses_truncated_weights(tiny, tmp_path):
    root = broken_copy(tmp_path, tiny)
    path = root / "generation_decoder" / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])
    assert "generation_decoder" in (msg := refusal(root)) and "truncated" in msg


def test_refuses_missing_component(tiny, tmp_path):
    root = broken_copy(tmp_path, tiny)
    shutil.rmtree(root / "vae")
    msg = refusal(root)
    assert "vae/config.json is missing" in msg


def test_refuses_wrong_shape_and_missing_tensor(tiny, tmp_path):
    from safetensors.torch import load_file, save_file

    root = broken_copy(tmp_path, tiny)
    path = root / "vlm" / "model.safetensors"
    state = load_file(str(path))
    state["mlp1.1.weight"] = torch.zeros(3, 3)
    del state["special_token_embedding.weight"]
    save_file(state, str(path))
    msg = refusal(root)
    assert "mlp1.1.weight has shape [3, 3]" in msg and "special_token_embedding.weight" in msg


def test_refuses_pickles_and_unknown_class(tiny, tmp_path):
    root = broken_copy(tmp_path, tiny)
    (root / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    (root / "vae" / "diffusion_pytorch_model.bin").write_bytes(b"not read")
    index = json.loads((root / "model_index.json").read_text())
    index["vae"] = ["diffusers", "AutoencoderKL"]
    (root / "model_index.json").write_text(json.dumps(index))
    msg = refusal(root)
    assert "expected class AutoencoderKLQwenImage" in msg
    result = invoke("model", "info", str(root))
    assert result.exit_code == 1 and "problem" in result.output


def test_release_sizes_on_meta():
    """The released architecture without memory: total within 1% of the published 4B, the ViT
    of InternViT-300M and the LLM of Qwen3-1.7B (tied embeddings)."""
    configs = release_configs()
    with torch.device("meta"):
        components = build_components(configs)
    counts = InternVLU(configs, components, {}).parameter_counts()
    assert all(p.is_meta for m in components.values() for p in m.parameters())
    assert abs(sum(counts.values()) / 4.0e9 - 1) < 0.01
    assert abs(counts["vlm.vision_model"] / 304e6 - 1) < 0.01
    assert abs(counts["vlm.language_model"] / 1.72e9 - 1) < 0.01
    assert 1.7e9 < counts["generation_decoder.head"] < 1.85e9


def test_batch_equals_rows_one_at_a_time(tiny):
    """The VLM on a left-padded batch and the head on samples of different sizes and lengths."""
    model = InternVLU.from_pretrained(tiny)
    tok = model.tokenizer
    texts = ["<|im_start|>system\nhi<|im_end|><|im_start|>user\na red cube<|im_end|><img>",
             "<|im_start|>system\nhi<|im_end|><|im_start|>user\na small blue sphere on a table<|im_end|><img>"]  # fmt: skip
    rows = [torch.tensor(tok(t)["input_ids"]) for t in texts]
    n = max(len(r) for r in rows)
    ids = torch.stack([torch.cat([torch.full((n - len(r),), tok.pad_token_id), r]) for r in rows])
    mask = torch.stack([torch.cat([torch.zeros(n - len(r)), torch.ones(len(r))]) for r in rows]).long()
    layers = model.generation_decoder.config.vlm_select_layer
    with torch.no_grad():
        conds, _ = model.vlm.condition(ids, mask, model.vlm.hidden_states(ids, mask), layers)
        for i, r in enumerate(rows):
            one, _ = model.vlm.condition(r[None], torch.ones(1, len(r)).long(), model.vlm.hidden_states(r[None], torch.ones(1, len(r)).long()), layers)  # fmt: skip
            assert float((conds[i] - one[0]).abs().max() / one[0].abs().max()) < 1e-5
        cond, cmask, _ = model.generation_decoder.project(conds)
        latents = [torch.randn(16, 8, 8), torch.randn(16, 6, 10)]
        t = torch.tensor([700.0, 30.0])
        batch = model.generation_decoder.decoder(HeadInputs(latents, t, cond, cmask))
        for i in range(2):
            one = model.generation_decoder.decoder(
                HeadInputs([latents[i]], t[i : i + 1], cond[i : i + 1], cmask[i : i + 1])
            )
            assert float((batch[i] - one[0]).abs().max() / one[0].abs().max()) < 1e-5


def test_gradients_reach_the_head(tiny):
    """Every head parameter gets a gradient from the image loss, the gates included, except the
    last block's text-only outputs: text tokens leave the last block unread (by design)."""
    model = InternVLU.from_pretrained(tiny)
    head = model.generation_decoder.decoder.train()
    cond = torch.randn(2, 12, head.config.joint_attention_dim)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 7:] = False
    out = head(
        HeadInputs([torch.randn(16, 8, 8), torch.randn(16, 8, 8)], torch.tensor([500.0, 100.0]), cond, mask)
    )
    sum(o.square().mean() for o in out).backward()
    last = f"transformer_blocks.{head.config.num_layers - 1}."
    text_only = (
        f"{last}attn.add_q_proj",
        f"{last}attn.norm_added_q",
        f"{last}attn.to_add_out",
        f"{last}txt_mlp",
    )
    for name, p in head.named_parameters():
        reached = p.grad is not None and bool(p.grad.abs().sum() > 0)
        assert reached != name.startswith(text_only), name
