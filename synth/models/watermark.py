"""LAION's watermark detector (``watermark_model_v1.pt``): timm ``efficientnet_b3a`` whose classifier
is replaced by 1536-625-256-2 (ReLU, dropout), keys ``classifier.0/3/5``. Input: 256x256, ImageNet
mean and std. Softmax index 0 is the watermark class."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from PIL import Image
from torch import nn

from synth.models.weights import load_into, load_state_dict, require_file, resolve_device

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 256


def build_watermark_model(arch: str = "efficientnet_b3a") -> nn.Module:
    """The detector's architecture with random weights (timm never downloads with pretrained=False)."""
    import timm

    with warnings.catch_warnings():  # timm maps the deprecated name efficientnet_b3a to efficientnet_b3
        warnings.simplefilter("ignore", UserWarning)
        model = timm.create_model(arch, pretrained=False, num_classes=2)
    width = model.num_features
    model.classifier = nn.Sequential(
        nn.Linear(width, 625),
        nn.ReLU(),
        nn.Dropout(p=0.3),
        nn.Linear(625, 256),
        nn.ReLU(),
        nn.Linear(256, 2),
    )
    return model


def preprocess(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, 256, 256) float, as torchvision's Resize((256, 256)), ToTensor, Normalize."""
    resized = Image.fromarray(image).resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(resized, np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


class WatermarkDetector:
    def __init__(self, weights: str, arch: str = "efficientnet_b3a", device: str = "auto"):
        what = "filters.watermark.weights"
        require_file(weights, what, "Give LAION's watermark_model_v1.pt (README: 'Model weights').")
        self.device = resolve_device(device)
        model = build_watermark_model(arch)
        shape = f"timm {arch} with LAION's classifier ({model.num_features}-625-256-2, keys classifier.0/3/5)"
        self.model = load_into(model, load_state_dict(weights, what), what, weights, shape).to(self.device)

    @torch.inference_mode()
    def predict(self, images: list[np.ndarray]) -> np.ndarray:
        """Probability of the watermark class per image."""
        batch = torch.stack([preprocess(im) for im in images]).to(self.device)
        return torch.softmax(self.model(batch).float(), dim=1)[:, 0].cpu().numpy()
