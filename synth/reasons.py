"""The closed list of reason codes. Every row that is not kept carries exactly one of these.

``rejected`` is final (the same input fails the same way); ``error`` may pass on another try,
and ``--retry-errors`` redoes the units that hold such rows.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    KEPT = "kept"
    REJECTED = "rejected"
    ERROR = "error"


# code -> (status, what it means). The docs and `synth inspect` read this table.
REASONS: dict[str, tuple[Status, str]] = {
    "decode_error": (
        Status.REJECTED,
        "the input bytes do not decode (as an image, a document or a CAD part)",
    ),
    "decompression_bomb": (Status.REJECTED, "the image has more pixels than the configured limit"),
    "too_small": (Status.REJECTED, "shorter side below the configured minimum"),
    "too_large": (
        Status.REJECTED,
        "above a configured maximum (an image's longer side; a CAD part's bytes, faces or triangles)",
    ),
    "cad_invalid": (Status.REJECTED, "the CAD part is not a valid closed solid (open mesh, bad B-rep)"),
    "too_few_pixels": (Status.REJECTED, "fewer pixels than the configured minimum"),
    "bad_aspect": (Status.REJECTED, "aspect ratio outside the configured bounds"),
    "duplicate_exact": (Status.REJECTED, "same decoded pixels as an earlier image"),
    "duplicate_near": (Status.REJECTED, "perceptual hash within the radius of a kept image"),
    "low_aesthetic": (Status.REJECTED, "aesthetic score below the configured minimum"),
    "nsfw": (Status.REJECTED, "NSFW probability above the configured maximum"),
    "watermark": (Status.REJECTED, "watermark probability above the configured maximum"),
    "ocr_mismatch": (Status.REJECTED, "OCR does not read back the rendered text"),
    "verify_failed": (Status.REJECTED, "a verifier check failed (detail names which)"),
    "no_text_found": (Status.REJECTED, "no usable text instance in the image"),
    "text_too_small": (Status.REJECTED, "text too small to edit or verify"),
    "text_at_border": (Status.REJECTED, "text touches the image border"),
    "translation_mismatch": (Status.REJECTED, "a translation broke quoted text"),
    "render_error": (Status.REJECTED, "the renderer could not draw this spec"),
    "unsafe_input": (Status.REJECTED, "the input asked for something unsafe (external resource, bomb)"),
    "missing_input": (
        Status.REJECTED,
        "the row lacks what the stage needs (a prompt, a source image, a seed)",
    ),
    "render_timeout": (Status.ERROR, "an external renderer ran past its timeout"),
    "ocr_error": (Status.ERROR, "the OCR backend failed on this image"),
    "io_error": (Status.ERROR, "reading or writing failed"),
    "model_error": (Status.ERROR, "a model failed on this image"),
    "llm_error": (Status.ERROR, "the LLM server failed or was unreachable"),
    "llm_invalid_output": (Status.ERROR, "the LLM answer failed its schema after retries"),
}


def status_of(reason: str) -> Status:
    """The status a reason code implies; unknown codes are a programming error."""
    try:
        return REASONS[reason][0]
    except KeyError:
        raise ValueError(f"unknown reason code {reason!r}; known: {sorted(REASONS)}") from None
