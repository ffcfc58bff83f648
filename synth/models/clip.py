"""The open_clip image tower from a local checkpoint: one L2-normalised embedding per image.

The text tower is dropped after loading (only ``model.visual`` stays in memory) unless ``text``
is asked for: ``synth eval generation``'s CLIPScore embeds prompts too, through the same loader
the curation filters use. Preprocessing is
open_clip's own for the model (resize, centre crop, the model's mean and std). OpenAI's ViT-L/14
weights need the ``ViT-L-14-quickgelu`` config: under ``ViT-L-14`` they load without error but
every embedding is wrong.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from synth.models import ModelSetupError
from synth.models.weights import require_file, resolve_device

WEIGHTS_HINT = (
    "Set filters.clip.weights to an open_clip checkpoint, e.g. open_clip_pytorch_model.bin or "
    "open_clip_model.safetensors from the model's Hugging Face repo (README: 'Model weights')."
)


class ClipImageEncoder:
    def __init__(
        self,
        model: str,
        weights: str,
        model_config: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        text: bool = False,
    ):
        import open_clip

        if model_config:
            open_clip.add_model_config(model_config)
        config = open_clip.get_model_config(model)
        if config is None:
            raise ModelSetupError(
                f"filters.clip.model: {model!r} is not an open_clip architecture (e.g. ViT-L-14-quickgelu, "
                "ViT-B-32); for a custom one give its JSON with filters.clip.model_json"
            )
        require_file(weights, "filters.clip.weights", WEIGHTS_HINT)
        self.device = resolve_device(device)
        try:
            clip, _, preprocess = open_clip.create_model_and_transforms(
                model, pretrained=weights, device=self.device, precision=precision, weights_only=True
            )
        except (RuntimeError, KeyError, ValueError, AssertionError) as e:  # open_clip asserts on shapes
            raise ModelSetupError(
                f"filters.clip.weights: {weights} does not load into open_clip {model!r} "
                f"({type(e).__name__}: {str(e)[:300]}). Check that the model name matches the checkpoint "
                "(OpenAI ViT-L/14 weights need ViT-L-14-quickgelu)."
            ) from None
        self.visual = clip.visual.eval()
        self.text_model = clip.eval() if text else None
        self.tokenizer = open_clip.get_tokenizer(model) if text else None
        self.preprocess = preprocess
        self.dtype = next(self.visual.parameters()).dtype
        self.dim = int(config["embed_dim"])
        self.forwards = 0  # batched forward calls, and images through them: the benchmark's proof
        self.images = 0

    @torch.inference_mode()
    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """(H, W, 3) uint8 images -> (N, D) float32, unit length."""
        batch = torch.stack([self.preprocess(Image.fromarray(im)) for im in images])
        feats = self.visual(batch.to(self.device, self.dtype))
        self.forwards += 1
        self.images += len(images)
        return F.normalize(feats.float(), dim=-1).cpu().numpy()

    @torch.inference_mode()
    def embed_text(self, texts: list[str]) -> np.ndarray:
        """Texts (truncated to the model's context) -> (N, D) float32, unit length; needs ``text=True``."""
        if self.text_model is None:
            raise ValueError("this encoder was loaded without its text tower (text=False)")
        tokens = self.tokenizer(texts).to(self.device)
        feats = self.text_model.encode_text(tokens)
        return F.normalize(feats.float(), dim=-1).cpu().numpy()
