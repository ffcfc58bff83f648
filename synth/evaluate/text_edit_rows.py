"""An edit as TextEdit benchmark rows (one per edited line), and the scores of one such row on a
predicted image: what ``synth text-edit export`` writes, what ``synth eval text-edit`` scores, and
what ``synth eval generation`` scores on the text-edit rows of a sampled run, from one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from synth.evaluate.text_edit import (
    Item,
    classic_metrics,
    correctness,
    in_region,
    items_from_ocr,
    placed,
    polygon_crop,
    psnr_outside,
)


def bbox(polygon: list[float]) -> tuple[float, float, float, float]:
    xs, ys = polygon[0::2], polygon[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def edit_rows(sources: list[dict], targets: list[dict]) -> list[dict[str, Any]]:
    """The benchmark rows of one edit. TextEdit's evaluator finds ``source_text`` among the lines
    OCR reads in the original and looks for ``target_text`` in that line's box, so a row must be
    one line: where the edited text has as many lines after as before, one row per line pair that
    changed (every pair for a style edit, whose text stays), and a deletion one row per line gone.
    Where the lines rewrap, one row holds the lines between the unchanged first and last ones
    (with a neighbour where a line was only added or only removed, so there is text to find),
    ``multi_line`` where either side spans lines. ``in_place`` rows have one line, drawn where OA
    looks for it (TextEdit's region test of the new line's box against the old one's)."""
    if not targets or len(sources) == len(targets):
        pairs = [(s, targets[k] if targets else None) for k, s in enumerate(sources)]
        changed = [(s, t) for s, t in pairs if t is None or s["text"] != t["text"]]
        return [_row([s], [t] if t else []) for s, t in changed or pairs]
    n, m = len(sources), len(targets)
    head = 0
    while head < min(n, m) and sources[head]["text"] == targets[head]["text"]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and sources[n - 1 - tail]["text"] == targets[m - 1 - tail]["text"]:
        tail += 1
    if head == n - tail or head == m - tail:  # a line only added or only removed
        head, tail = (head - 1, tail) if head else (head, tail - 1)
    return [_row(sources[head : n - tail], targets[head : m - tail])]


def _row(sources: list[dict], targets: list[dict]) -> dict[str, Any]:
    return {
        "source_text": " ".join(t["text"] for t in sources),
        "target_text": " ".join(t["text"] for t in targets),
        "source_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in sources],
        "target_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in targets],
        "multi_line": len(sources) > 1 or len(targets) > 1,
        "in_place": len(sources) == len(targets) == 1
        and in_region(bbox(targets[0]["polygon"]), bbox(sources[0]["polygon"])),
    }


@dataclass(frozen=True)
class Pair:
    """An original and a prediction (resized to the original's size, LANCZOS, as TextEdit's
    evaluator does) with the full OCR of each: read once per image, since an edit's rows share it."""

    original: np.ndarray
    predicted: np.ndarray
    found_original: list[Item]
    found_predicted: list[Item]


def fit_to(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``image`` resized (LANCZOS) to the height and width of ``like``, where they differ."""
    h, w = like.shape[:2]
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(Image.fromarray(image).resize((w, h), Image.LANCZOS))


def read_pair(original: np.ndarray, predicted: np.ndarray, ocr) -> Pair:
    predicted = fit_to(predicted, original)
    return Pair(
        original, predicted, items_from_ocr(ocr.detect(original)), items_from_ocr(ocr.detect(predicted))
    )


def score_sample(row: dict[str, Any], pair: Pair, ocr, mask: np.ndarray | None) -> dict[str, float]:
    """All metrics of one row: TextEdit's classic ones, and on our exports (which know where the
    text was and where it belongs) the placed OA, the verifier's correctness at the new lines and
    PSNR outside the edit mask."""
    scores = classic_metrics(
        pair.found_original, pair.found_predicted, row["source_text"], row["target_text"]
    )
    lines = row.get("target_lines")
    if lines is not None:
        scores["placed"] = placed(
            pair.found_original,
            pair.found_predicted,
            [bbox(t["polygon"]) for t in row.get("source_lines") or []],
            [bbox(t["polygon"]) for t in lines],
            row["source_text"],
            row["target_text"],
        )
    if lines:
        crops = [polygon_crop(pair.predicted, t["polygon"]) for t in lines]
        reads = [t for t, _ in ocr.recognize(crops)]
        scores["correctness_ned"] = correctness(
            [t["text"] for t in lines], reads, not row.get("case_sensitive")
        )
    if mask is not None:
        scores["preservation_psnr"] = psnr_outside(pair.original, pair.predicted, mask)
    return scores
