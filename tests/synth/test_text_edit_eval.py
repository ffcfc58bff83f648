"""TextEdit's classic OA and our placed OA on hand-made OCR reads: OA looks for the target where
the source line was, so a row must be one line; the placed OA scores edits that move text."""

from __future__ import annotations

import pytest

from synth.evaluate.text_edit import Item, classic_metrics, placed

TITLE = Item("Grand Opening", (100, 50, 400, 90))
BODY = [Item("first line of text", (100, 200, 500, 230)), Item("second line here", (100, 240, 480, 270))]
FOOTER = Item("call us today", (100, 500, 300, 530))


def test_oa_finds_one_line_not_a_block():
    """A style edit of two lines: each line as its own row scores 1; the joined lines are found
    at best as one of them (no OCR line holds both), and read there only half, which is why the
    export writes one row per line."""
    image = [TITLE, *BODY, FOOTER]
    for line in BODY:
        assert classic_metrics(image, image, line.text, line.text)["oa"] == pytest.approx(1.0)
    joined = " ".join(i.text for i in BODY)
    assert classic_metrics(image, image, joined, joined)["oa"] < 0.6


def box(item: Item) -> list[tuple[float, float, float, float]]:
    return [item.bbox]


def test_placed_move_reads_the_text_at_its_new_place():
    moved = Item(TITLE.text, (100, 350, 400, 390))
    assert classic_metrics([TITLE, FOOTER], [moved, FOOTER], TITLE.text, TITLE.text)["oa"] == 0.0
    assert placed(
        [TITLE, *BODY, FOOTER], [moved, FOOTER], box(TITLE), box(moved), TITLE.text, TITLE.text
    ) == pytest.approx(1.0)
    # the text left where it was: nothing at the new place, the old text still there
    assert (
        placed([TITLE, *BODY, FOOTER], [TITLE, FOOTER], box(TITLE), box(moved), TITLE.text, TITLE.text) == 0.0
    )
    # drawn at both places: read at the new one, but not gone from the old one
    assert (
        placed([TITLE, *BODY, FOOTER], [TITLE, moved, FOOTER], box(TITLE), box(moved), TITLE.text, TITLE.text)
        < 0.1
    )


def test_placed_delete_wants_the_old_text_gone():
    assert placed([TITLE, *BODY, FOOTER], [TITLE], box(FOOTER), [], FOOTER.text, "") == 1.0
    assert placed([TITLE, *BODY, FOOTER], [TITLE, FOOTER], box(FOOTER), [], FOOTER.text, "") < 0.1
    # a stray read there that is not the old text costs only its likeness
    assert (
        placed(
            [TITLE, *BODY, FOOTER], [TITLE, Item("x", (120, 505, 140, 525))], box(FOOTER), [], FOOTER.text, ""
        )
        > 0.9
    )


def test_placed_size_wants_the_new_size():
    """Redrawn around its centre: the same text read at its old size is the edit left undone.
    Reads are boxed wider than the drawn ink (as detectors do), more so for larger text."""
    ink = [(100.0, 50.0, 400.0, 90.0)]  # the drawn line
    read = Item(TITLE.text, (90, 38, 410, 102))  # its read, 10-12 px around the ink
    for scale in (1.25, 1.4, 0.75, 0.65):
        w, h = 150 * scale, 20 * scale
        new = [(250 - w, 70 - h, 250 + w, 70 + h)]
        done = Item(
            TITLE.text, (250 - w - 10 * scale, 70 - h - 12 * scale, 250 + w + 10 * scale, 70 + h + 12 * scale)
        )
        assert placed([read], [done], ink, new, TITLE.text, TITLE.text) == pytest.approx(1.0), scale
        assert placed([read], [read], ink, new, TITLE.text, TITLE.text) == pytest.approx(0.2), scale
    # the same text in another font, boxes about the same size: no size to check
    other = [(100.0, 48.0, 420.0, 92.0)]
    assert placed([read], [read], ink, other, TITLE.text, TITLE.text) == pytest.approx(1.0)


def test_placed_reflow_reads_the_rewrapped_lines():
    """A paragraph rewrapped to three lines: the target is read as all its lines, top to bottom."""
    new = [*BODY, Item("and a third", (100, 280, 300, 310))]
    target = " ".join(i.text for i in new)
    boxes = [i.bbox for i in new]
    assert placed(
        BODY, new, [i.bbox for i in BODY], boxes, " ".join(i.text for i in BODY), target
    ) == pytest.approx(1.0)
    assert placed(BODY, BODY, [i.bbox for i in BODY], boxes, " ".join(i.text for i in BODY), target) < 0.8
