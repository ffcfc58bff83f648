"""Meme captions on template photos: a pure renderer (template, captions, style, fonts -> image and
the box of every drawn line), so the pipeline can check each caption by OCR against what it drew."""

from renderers.meme.caption import (
    Caption,
    CaptionFitError,
    DrawnLine,
    Meme,
    MemeFonts,
    draw_meme,
    fit,
    wrap,
)

__all__ = ["Caption", "CaptionFitError", "DrawnLine", "Meme", "MemeFonts", "draw_meme", "fit", "wrap"]
