"""The stages of ``synth cad``: the shared diagram stages (draw with the edit mask, verify the
view titles and the locality, decide) over one kind per part, and a decision that also cuts the
independent re-derivations of every view."""

from __future__ import annotations

from pipelines.cad.config import CadConfig, CadThresholds
from pipelines.cad.kind import kinds
from pipelines.diagram.stages import build_stages as diagram_stages
from pipelines.diagram.stages import decide as diagram_decide
from synth.decision import Decision, Verdict
from synth.stage import Row, Stage


def decide(s: dict[str, float], row: Row, t: CadThresholds) -> Verdict:
    """The diagram's checks (structure, locality, titles), then the views against the mesh."""
    verdict = diagram_decide(s, row, t)
    if verdict:
        return verdict
    if s.get("silhouette_mismatch", 0.0) > t.max_silhouette_mismatch:
        return "verify_failed", (
            f"views: the shaded mesh's silhouette and the drawn outline disagree on "
            f"{s['silhouette_mismatch']:.2%} of the part (> {t.max_silhouette_mismatch:.2%})"
        )
    if s.get("bbox_error", 0.0) > t.max_bbox_error:
        return "verify_failed", f"views: extent off the mesh's by {s['bbox_error']:.4f} of the size"
    if s.get("volume_error", 0.0) > t.max_volume_error:
        return "verify_failed", f"volume: kernel vs mesh differ by {s['volume_error']:.2e} (relative)"
    return None


DECISION = Decision(decide, frozenset({"verify_failed", "ocr_mismatch"}), reads=("meta",))


def build_stages(cfg: CadConfig) -> list[Stage]:
    return diagram_stages(cfg, kinds(cfg), "cad", domain="spatial", decision=DECISION)
