"""InternVL-U in our own code: the official checkpoint layout in and out, the official numerics.

``InternVLU.from_pretrained(dir)`` reads the released layout (``model_index.json``, ``vlm/``,
``generation_decoder/``, ``vae/``, ``scheduler/``, ``processor/``); ``save_pretrained`` writes it
so the official ``InternVLUPipeline`` loads it. One file per component:

  vision.py       InternViT and the pixel shuffle
  vlm.py          the VLM: ViT features, special-token rows, Qwen3, condition, greedy text
  transformer.py  the MMDiT generation head and its packing
  rope.py         token positions and the 3-axis RoPE rotations
  decoder.py      the condition projector and padding token around the head
  vae.py          diffusers' Qwen-Image VAE with the official normalisation and uint8 conversion
  checkpoint.py   the layout, safetensors header checks, reading and writing weights
  model.py        InternVLU: check, load, save, parameter counts
  fetch.py        a checkpoint from a folder or object storage, and its digest
  sample/         the batched sampler (text to image, editing, text then image, text)
"""

from typing import Any

from synth.internvlu.errors import CheckpointError

__all__ = ["CheckpointError", "InternVLU", "check_checkpoint"]


def __getattr__(name: str) -> Any:
    """``InternVLU`` and ``check_checkpoint`` on first use: importing this package (the CLI does,
    for ``CheckpointError``) does not import torch, transformers and diffusers."""
    if name in ("InternVLU", "check_checkpoint"):
        from synth.internvlu import model

        return getattr(model, name)
    raise AttributeError(f"module 'synth.internvlu' has no attribute {name!r}")
