"""What the loader hands the training step: one :class:`Example` per usable row, collated into a
left-padded :class:`Batch` (left, as the processor pads at sampling, so a row's positions and
condition are the same in training and in sampling)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

#: Row kinds: text to image, editing, understanding (text answer), text then image (``cot``).
KINDS: tuple[str, ...] = ("t2i", "edit", "und", "cot")
#: Kinds whose row ends in ``<img>`` and has an image to generate (flow-matching loss).
GENERATION_KINDS: tuple[str, ...] = ("t2i", "edit", "cot")
IGNORE = -100  # label of a token without next-token loss


@dataclass
class Example:
    """One training row, ready for the model.

    ``input_ids``: the whole row (prompt, then any text target; generation kinds end in ``<img>``),
    image placeholders already expanded to ``<img><IMG_CONTEXT>...</img>``; ``labels``: same length,
    the token itself where next-token loss applies (an answer, a chain of thought and the token
    that ends it), ``IGNORE`` elsewhere; ``tiles``: [T, 3, S, S] ViT tiles of the row's images in
    order, or None; ``target``: [3, H, W] VAE pixels in [-1, 1] of the image to generate (H, W
    multiples of the generation stride), or None; ``reference``: [3, h, w] VAE pixels of an edit's
    source image where the row keeps it; ``drop``: the condition dropout applied (``none``,
    ``text``, ``all``)."""

    kind: str
    sample_id: str
    input_ids: list[int]
    labels: list[int]
    tiles: torch.Tensor | None = None
    target: torch.Tensor | None = None
    reference: torch.Tensor | None = None
    drop: str = "none"


@dataclass
class Batch:
    """Examples collated: ids, mask and labels [B, N] left-padded; tiles of all rows in row order."""

    input_ids: torch.Tensor  # [B, N]
    attention_mask: torch.Tensor  # [B, N]
    labels: torch.Tensor  # [B, N], IGNORE on padding
    pixels: torch.Tensor | None  # [T, 3, S, S]
    targets: list[torch.Tensor | None]  # per row [3, H, W] or None
    references: list[torch.Tensor | None]  # per row [3, h, w] or None
    kinds: list[str]
    sample_ids: list[str]
    drops: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def generating(self) -> list[int]:
        """Rows with an image to generate."""
        return [i for i, t in enumerate(self.targets) if t is not None]

    @property
    def text_tokens(self) -> int:
        """Tokens with next-token loss."""
        return int((self.labels != IGNORE).sum())


def collate(examples: list[Example], pad_id: int) -> Batch:
    n = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), n), dtype=torch.long)
    labels = torch.full((len(examples), n), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        k = len(e.input_ids)
        ids[i, n - k :] = torch.tensor(e.input_ids, dtype=torch.long)
        labels[i, n - k :] = torch.tensor(e.labels, dtype=torch.long)
        mask[i, n - k :] = 1
    tiles = [e.tiles for e in examples if e.tiles is not None]
    return Batch(
        input_ids=ids,
        attention_mask=mask,
        labels=labels,
        pixels=torch.cat(tiles) if tiles else None,
        targets=[e.target for e in examples],
        references=[e.reference for e in examples],
        kinds=[e.kind for e in examples],
        sample_ids=[e.sample_id for e in examples],
        drops=[e.drop for e in examples],
    )
