"""The seeded draws every generator shares: deterministic whatever the order of a config's keys,
consuming the sample's RNG the same way everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError, field_validator

from synth.config import Strict
from synth.sampling import NotApplicable, check_weights, choice, pick


def test_choice_ignores_the_order_of_the_keys_and_follows_the_weights():
    a = [choice(np.random.default_rng(s), {"x": 1.0, "y": 3.0}) for s in range(400)]
    b = [choice(np.random.default_rng(s), {"y": 3.0, "x": 1.0}) for s in range(400)]
    assert a == b
    assert 0.65 < a.count("y") / len(a) < 0.85
    assert {choice(np.random.default_rng(s), {"x": 0.0, "y": 1.0}) for s in range(50)} == {"y"}


def test_pick_draws_one_integer_and_sorts_sets():
    items = ["c", "a", "b"]
    for s in range(20):
        rng, ref = np.random.default_rng(s), np.random.default_rng(s)
        assert pick(rng, items) == items[int(ref.integers(3))]
        assert rng.random() == ref.random()  # the same draws consumed
    assert pick(np.random.default_rng(1), {"b", "a", "c"}) == pick(np.random.default_rng(1), ["a", "b", "c"])
    with pytest.raises(NotApplicable):
        pick(np.random.default_rng(0), [])
    assert issubclass(NotApplicable, ValueError)


def test_check_weights_refuses_unusable_tables():
    class Weights(Strict):
        w: dict[str, float]
        _check = field_validator("w")(check_weights)

    assert Weights(w={"a": 0.0, "b": 2.0}).w == {"a": 0.0, "b": 2.0}
    for bad in ({}, {"a": -1.0, "b": 2.0}, {"a": 0.0}):
        with pytest.raises(ValidationError, match="non-negative and not all zero"):
            Weights(w=bad)
