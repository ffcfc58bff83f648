"""The stages of ``synth cad``: the shared diagram stages (draw with the edit mask, verify the
view titles and the locality, decide) over one kind per part, and a decision that also cuts the
independent re-derivations of every view."""

from __future__ import annotations

import hashlib

from pipelines.cad.config import CadConfig, CadThresholds
from pipelines.cad.kind import FileKind, add_file, kinds
from pipelines.diagram.stages import DrawDiagram
from pipelines.diagram.stages import build_stages as diagram_stages
from pipelines.diagram.stages import decide as diagram_decide
from renderers.cad.contain import CadReader
from renderers.cad.read import CadReject, ReadLimits, sniff
from synth.decision import Decision, Verdict
from synth.identity import sample_rng
from synth.sampling import choice
from synth.stage import Row, Stage, mark


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


class DrawCad(DrawDiagram):
    """The diagram draw stage, and for a file row first the file read in a child process with a
    timeout (a kernel hang or crash costs that row, never the worker)."""

    reads = ("seed", "meta", "_input")
    keeps_model = True  # the reader's child process and the GL context live as long as the worker

    def setup(self) -> None:
        super().setup()
        r = self.cfg.read
        self.limits = ReadLimits(r.max_bytes, r.max_faces, r.max_triangles, r.orient, r.sharp_angle_deg)
        self.reader = CadReader(r.timeout_s)

    def process_row(self, row: Row) -> Row:
        given = row.get("_input")
        if given is None:
            return super().process_row(row)
        meta = dict(row.get("meta") or {})
        try:
            suffix = given["suffix"] or sniff(given["bytes"])
            part = self.reader.read(given["bytes"], suffix, self.limits)
        except CadReject as e:  # a hang is an error (another try may pass); the rest are final
            return mark(row, "render_timeout" if e.reason == "timeout" else e.reason, e.detail)
        digest = hashlib.sha256(given["bytes"]).hexdigest()
        add_file(digest, part)
        kind = FileKind(self.cfg, {"file": given["key"], "origin": part.origin, "digest": digest})
        rng = sample_rng(row["seed"])
        task = choice(rng, self.cfg.tasks)
        op = None
        if task == "edit":
            if not kind.edits:
                return mark(row, "render_error", "a file part takes only view-completion edits: add "
                            "complete_view or complete_iso to edits, or drop the edit task")  # fmt: skip
            op = kind.edits[int(rng.integers(len(kind.edits)))]
        row = self.fill(row, rng, kind, task, op)
        row["meta"] = {**meta, **(row.get("meta") or {})}
        return row


def build_stages(cfg: CadConfig) -> list[Stage]:
    stages = diagram_stages(cfg, kinds(cfg), "cad", domain="spatial", decision=DECISION)
    return [DrawCad(cfg, kinds(cfg), "cad", "spatial"), *stages[1:]]
