"""Batched sampling with InternVL-U: text to image, editing, text-then-image and text answers,
with the official pipeline's numbers (``sampler.py`` says how a batch runs)."""

from synth.internvlu.sample.request import GUIDANCE, MAX_NEW_TOKENS, MODES, Mode, Request, Result
from synth.internvlu.sample.sampler import Sampler

__all__ = ["GUIDANCE", "MAX_NEW_TOKENS", "MODES", "Mode", "Request", "Result", "Sampler"]
