"""OCR backends behind one interface: full detection+recognition, and recognition of known crops.

Images are RGB ``uint8`` arrays (H, W, 3). Every backend loads from local files only:
``rapidocr`` uses the PP-OCR ONNX models inside its wheel (English and Chinese, the offline
default); ``paddleocr`` needs local model folders; ``tesseract`` needs the Debian binary.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import numpy as np
from PIL import Image
from pydantic import Field

from synth.config import Strict


class OcrSetupError(RuntimeError):
    """The backend cannot start here; the message says what to install or configure."""


@dataclass(frozen=True)
class OcrText:
    text: str
    polygon: list[float]  # [x0, y0, x1, y1, ...] clockwise, pixels of the input image
    confidence: float


class OcrConfig(Strict):
    backend: Literal["rapidocr", "paddleocr", "tesseract"] = "rapidocr"
    det_model_dir: str | None = Field(None, description="paddleocr: local detection model folder")
    rec_model_dir: str | None = Field(None, description="paddleocr: local recognition model folder")
    tesseract_langs: str = "eng+chi_sim"
    rec_batch: int = Field(16, ge=1)
    threads: int = Field(1, ge=1, description="inference threads per worker")


class OcrVerifyConfig(Strict):
    """The ``verify`` section of a domain that reads its own drawings back by OCR; domains that
    also count or sample more extend it."""

    ocr: OcrConfig = OcrConfig()


class OcrBackend(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[OcrText]: ...

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]: ...


def _bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[..., ::-1])


class RapidOcrBackend:
    name = "rapidocr"

    def __init__(self, cfg: OcrConfig):
        from rapidocr import RapidOCR

        threads = cfg.threads
        self._engine = RapidOCR(
            params={
                "Global.log_level": "error",
                "Rec.rec_batch_num": cfg.rec_batch,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def detect(self, image: np.ndarray) -> list[OcrText]:
        res = self._engine(_bgr(image))
        if res.txts is None or res.boxes is None:
            return []
        return [
            OcrText(t, [float(v) for v in np.asarray(b).reshape(-1)], float(s))
            for t, b, s in zip(res.txts, res.boxes, res.scores, strict=True)
        ]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        res = self._engine.recognize_txt([_bgr(c) for c in crops])
        return [(t, float(s)) for t, s in zip(res.txts, res.scores, strict=True)]


class TesseractBackend:
    """Tesseract through its command line (TSV output): no Python binding to build."""

    name = "tesseract"

    def __init__(self, cfg: OcrConfig):
        self._bin = shutil.which("tesseract")
        if not self._bin:
            raise OcrSetupError(
                "ocr.backend=tesseract needs the tesseract binary: apt-get install tesseract-ocr"
            )
        self._langs = cfg.tesseract_langs

    def _run(self, image: np.ndarray, psm: int) -> list[dict[str, str]]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "in.png"
            Image.fromarray(image).save(path)
            out = subprocess.run(
                [self._bin, str(path), "stdout", "-l", self._langs, "--psm", str(psm), "tsv"],
                capture_output=True,
                timeout=60,
                check=True,
            ).stdout.decode("utf-8", "replace")
        return [r for r in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE)]

    def detect(self, image: np.ndarray) -> list[OcrText]:
        lines: dict[tuple, list[dict[str, str]]] = {}
        for r in self._run(image, psm=3):
            if r.get("level") == "5" and r.get("text", "").strip():
                lines.setdefault((r["block_num"], r["par_num"], r["line_num"]), []).append(r)
        result = []
        for words in lines.values():
            x0 = min(int(w["left"]) for w in words)
            y0 = min(int(w["top"]) for w in words)
            x1 = max(int(w["left"]) + int(w["width"]) for w in words)
            y1 = max(int(w["top"]) + int(w["height"]) for w in words)
            text = " ".join(w["text"] for w in words)
            conf = float(np.mean([float(w["conf"]) for w in words])) / 100
            result.append(OcrText(text, [x0, y0, x1, y0, x1, y1, x0, y1], conf))
        return result

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        out = []
        for crop in crops:
            words = [r for r in self._run(crop, psm=7) if r.get("level") == "5" and r.get("text", "").strip()]
            text = " ".join(w["text"] for w in words)
            conf = float(np.mean([float(w["conf"]) for w in words])) / 100 if words else 0.0
            out.append((text, conf))
        return out


class PaddleOcrBackend:
    """PaddleOCR 3.x from local model folders (it would otherwise download models at first use)."""

    name = "paddleocr"

    def __init__(self, cfg: OcrConfig):
        missing = [k for k in ("det_model_dir", "rec_model_dir") if not getattr(cfg, k)]
        if missing:
            raise OcrSetupError(
                f"ocr.backend=paddleocr needs local model folders: set {', '.join('ocr.' + m for m in missing)} "
                "to PaddleOCR inference-format folders (inference.json/.pdmodel + .pdiparams); "
                "nothing is downloaded at run time"
            )
        for key in ("det_model_dir", "rec_model_dir"):
            if not Path(getattr(cfg, key)).is_dir():
                raise OcrSetupError(f"ocr.{key}: {getattr(cfg, key)} is not a folder")
        try:
            from paddleocr import PaddleOCR
        except ImportError:
            raise OcrSetupError("ocr.backend=paddleocr needs: pip install paddleocr paddlepaddle") from None
        self._engine = PaddleOCR(
            text_detection_model_dir=cfg.det_model_dir,
            text_recognition_model_dir=cfg.rec_model_dir,
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
        )

    def detect(self, image: np.ndarray) -> list[OcrText]:
        result = []
        for page in self._engine.predict(_bgr(image)):
            for text, poly, score in zip(
                page["rec_texts"], page["rec_polys"], page["rec_scores"], strict=True
            ):
                result.append(OcrText(text, [float(v) for v in np.asarray(poly).reshape(-1)], float(score)))
        return result

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        out = []
        for crop in crops:
            found = self.detect(crop)
            out.append((" ".join(f.text for f in found), min((f.confidence for f in found), default=0.0)))
        return out


BACKENDS = {"rapidocr": RapidOcrBackend, "tesseract": TesseractBackend, "paddleocr": PaddleOcrBackend}


def make_ocr(cfg: OcrConfig) -> OcrBackend:
    """Build the configured backend, or raise :class:`OcrSetupError` saying what is missing."""
    return BACKENDS[cfg.backend](cfg)


K = TypeVar("K", bound=Hashable)


def recognize_crops(
    ocr: OcrBackend, crops: Iterable[tuple[K, np.ndarray]]
) -> dict[K, list[tuple[str, float]]]:
    """Recognise crops of known text places, gathered from many rows, in one batched call, and
    hand each owner key its (text, confidence) reads in the order its crops came: the read every
    verifier of a drawing does (recognition at known boxes costs a few times the drawing; one
    detection pass costs far more). An owner with no crops gets no entry; e.g. crops keyed
    ``(row, "new")`` come back as ``{(row, "new"): [(text, conf), ...]}``."""
    owners, images = [], []
    for key, crop in crops:
        owners.append(key)
        images.append(crop)
    by_owner: dict[K, list[tuple[str, float]]] = {}
    if not images:
        return by_owner
    for key, read in zip(owners, ocr.recognize(images), strict=True):
        by_owner.setdefault(key, []).append(read)
    return by_owner
