"""LaMa inpainting from a TorchScript file in IOPaint's big-lama.pt convention: model(image, mask),
RGB in [0, 1], mask 1 = hole, sizes padded to multiples of 8, output blended by the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synth.models import ModelSetupError
from synth.models.inpaint import MARGIN, LamaInpainter
from tests.conftest import TinyLama


@pytest.fixture(scope="module")
def lama_file(tiny_lama):
    return tiny_lama


def test_fills_only_the_hole_with_the_models_prediction(lama_file):
    path, module = lama_file
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (301, 517, 3), dtype=np.uint8)  # not multiples of 8
    mask = np.zeros((301, 517), np.uint8)
    mask[140:170, 200:320] = 255
    out = LamaInpainter(path, "cpu")(image, mask)
    hole = mask > 0
    assert np.array_equal(out[~hole], image[~hole])
    assert not np.array_equal(out[hole], image[hole])
    # the same computation by hand on the model's window: hole plus MARGIN, padded to 8 by reflection
    y0, y1, x0, x1 = 140 - MARGIN, 170 + MARGIN, 200 - MARGIN, 320 + MARGIN
    crop = image[y0:y1, x0:x1]
    ph, pw = -crop.shape[0] % 8, -crop.shape[1] % 8
    x = (
        torch.from_numpy(np.pad(crop, ((0, ph), (0, pw), (0, 0)), mode="symmetric")).permute(2, 0, 1)[None]
        / 255
    )
    m = torch.from_numpy(np.pad(hole[y0:y1, x0:x1], ((0, ph), (0, pw)), mode="symmetric"))[None, None].float()
    with torch.no_grad():
        ref = (module(x.float(), m)[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()
    assert np.array_equal(
        out[y0:y1, x0:x1][hole[y0:y1, x0:x1]], ref[: y1 - y0, : x1 - x0][hole[y0:y1, x0:x1]]
    )


def test_empty_mask_changes_nothing(lama_file):
    image = np.full((64, 64, 3), 90, np.uint8)
    assert np.array_equal(LamaInpainter(lama_file[0], "cpu")(image, np.zeros((64, 64), np.uint8)), image)


def test_wrong_files_are_clear_errors(tmp_path):
    with pytest.raises(ModelSetupError, match="no file"):
        LamaInpainter(str(tmp_path / "missing.pt"))
    state_dict = tmp_path / "weights.pth"
    torch.save(TinyLama().state_dict(), state_dict)
    with pytest.raises(ModelSetupError, match="not a TorchScript file"):
        LamaInpainter(str(state_dict))
