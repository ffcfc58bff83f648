"""Model loaders against files in the published formats (random weights, built in conftest)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from synth.models import ModelSetupError
from synth.models.clip import ClipImageEncoder
from synth.models.heads import load_aesthetic_head, load_nsfw_head
from synth.models.watermark import WatermarkDetector, preprocess


@pytest.fixture(scope="module")
def images():
    from synth.sources import PhotoPool

    return [PhotoPool._skimage_pixels(n) for n in ("astronaut", "coffee", "chelsea")]


@pytest.fixture(scope="module")
def encoder(tiny_models):
    m = tiny_models
    return ClipImageEncoder(m["clip_model"], m["clip"], m["clip_json"], device="cpu")


def test_clip_embedding_matches_open_clip(encoder, tiny_models, images):
    import open_clip

    emb = encoder.embed(images)
    assert emb.shape == (3, 32) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    model, _, preprocess_ref = open_clip.create_model_and_transforms(
        tiny_models["clip_model"], pretrained=tiny_models["clip"]
    )
    with torch.no_grad():
        ref = model.encode_image(
            torch.stack([preprocess_ref(Image.fromarray(im)) for im in images]), normalize=True
        )
    np.testing.assert_allclose(emb, ref.numpy(), atol=1e-5)
    assert not np.allclose(emb[0], emb[1])  # different photos, different embeddings
    np.testing.assert_array_equal(emb, encoder.embed(images))  # deterministic


def test_clip_safetensors_equals_state_dict(encoder, tiny_models, images, tmp_path):
    from safetensors.torch import save_file

    state = torch.load(tiny_models["clip"], weights_only=True)
    save_file(state, tmp_path / "open_clip_model.safetensors")
    other = ClipImageEncoder(
        tiny_models["clip_model"],
        str(tmp_path / "open_clip_model.safetensors"),
        tiny_models["clip_json"],
        "cpu",
    )
    np.testing.assert_allclose(other.embed(images), encoder.embed(images), atol=1e-6)


def test_clip_setup_errors(tiny_models, tmp_path):
    m = tiny_models
    with pytest.raises(ModelSetupError, match="not an open_clip architecture"):
        ClipImageEncoder("No-Such-Model", m["clip"])
    with pytest.raises(ModelSetupError, match="filters.clip.weights: no file"):
        ClipImageEncoder(m["clip_model"], str(tmp_path / "missing.bin"), m["clip_json"])
    with pytest.raises(ModelSetupError, match="does not load into open_clip 'ViT-B-32'"):
        ClipImageEncoder("ViT-B-32", m["clip"])


def test_pickled_module_is_refused(tmp_path):
    path = tmp_path / "whole_model.pth"
    torch.save(torch.nn.Linear(32, 1), path)  # a pickled module, not a state dict
    with pytest.raises(ModelSetupError, match="state dict"):
        load_aesthetic_head(str(path), 32)


def test_aesthetic_mlp_is_a_linear_stack(tiny_models):
    head = load_aesthetic_head(tiny_models["aesthetic"], 32)
    state = torch.load(tiny_models["aesthetic"], weights_only=True)
    x = torch.nn.functional.normalize(torch.randn(5, 32), dim=-1)
    ref = x
    for i in (0, 2, 4, 6, 7):  # no activations between the layers in LAION's predictor
        ref = ref @ state[f"layers.{i}.weight"].T + state[f"layers.{i}.bias"]
    with torch.no_grad():
        np.testing.assert_allclose(head(x).numpy(), ref.squeeze(-1).numpy(), rtol=1e-5, atol=1e-6)


def test_linear_aesthetic_head(tiny_models):
    head = load_aesthetic_head(tiny_models["aesthetic_linear"], 32)
    state = torch.load(tiny_models["aesthetic_linear"], weights_only=True)
    x = torch.randn(4, 32)
    with torch.no_grad():
        np.testing.assert_allclose(
            head(x).numpy(), (x @ state["weight"].T + state["bias"]).squeeze(-1).numpy(), rtol=1e-5
        )


def test_head_of_another_width_names_the_architecture(tiny_models):
    with pytest.raises(ModelSetupError) as exc:
        load_aesthetic_head(tiny_models["aesthetic_768"], 32)
    assert "D-1024-128-64-16-1" in str(exc.value) and "D=32" in str(exc.value)
    assert "layers.0.weight: file (1024, 768), expected (1024, 32)" in str(exc.value)
    with pytest.raises(ModelSetupError, match="linear_1..4"):
        load_nsfw_head(tiny_models["aesthetic"], 32)


def test_nsfw_head_is_keras_normalisation_then_mlp(tiny_models):
    head = load_nsfw_head(tiny_models["nsfw"], 32)
    s = {k: v.double() for k, v in torch.load(tiny_models["nsfw"], weights_only=True).items()}
    x = torch.nn.functional.normalize(torch.randn(6, 32), dim=-1)
    h = (x.double() - s["norm.mean"]) / torch.sqrt(s["norm.variance"])
    for i in (1, 2, 3):
        h = torch.relu(h @ s[f"linear_{i}.weight"].T + s[f"linear_{i}.bias"])
    ref = torch.sigmoid(h @ s["linear_4.weight"].T + s["linear_4.bias"]).squeeze(-1)
    with torch.no_grad():
        out = head(x)
    assert out.shape == (6,) and ((out >= 0) & (out <= 1)).all()
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-6)


def test_watermark_detector(tiny_models, images, tmp_path):
    det = WatermarkDetector(tiny_models["watermark"], device="cpu")
    probs = det.predict(images)
    assert probs.shape == (3,) and ((probs >= 0) & (probs <= 1)).all()
    with torch.no_grad():
        logits = det.model(torch.stack([preprocess(im) for im in images]))
    np.testing.assert_allclose(probs, torch.softmax(logits, 1)[:, 0].numpy(), rtol=1e-5)
    x = preprocess(images[0])
    assert x.shape == (3, 256, 256)
    # a plain timm classifier (no LAION head) is refused with the expected shape named
    import timm

    torch.save(
        timm.create_model("efficientnet_b0", pretrained=False, num_classes=2).state_dict(), tmp_path / "b0.pt"
    )
    with pytest.raises(ModelSetupError, match="1536-625-256-2"):
        WatermarkDetector(str(tmp_path / "b0.pt"), device="cpu")
