from __future__ import annotations

import pytest
from pydantic import ValidationError

from filters.resolution import ResolutionConfig, check_resolution
from synth.reasons import REASONS


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ((100, 400), "too_small"),
        ((20000, 8000), "too_large"),
        ((300, 300), "too_few_pixels"),
        ((2000, 300), "bad_aspect"),
        ((512, 512), None),
    ],
)
def test_each_bound_has_its_reason(size, reason):
    cfg = ResolutionConfig(min_side=256, max_side=16384, min_pixels=100_000, max_aspect=4)
    result = check_resolution(*size, cfg)
    assert (result[0] if result else None) == reason
    if result:
        assert result[0] in REASONS and str(size[0]) in result[1]


def test_inverted_bounds_are_config_errors():
    with pytest.raises(ValidationError, match="min_side"):
        ResolutionConfig(min_side=500, max_side=100)
