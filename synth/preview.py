"""``synth preview``: a static HTML gallery of a sample of rows, kept and rejected.

Every text shown is HTML-escaped; images are written as PNG/JPEG thumbnails, never inlined as
markup (an SVG program is shown only as its rendered image)."""

from __future__ import annotations

import html
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from synth.imageio import DecodeError, decode_image
from synth.report import collect, summary_line
from synth.schema import scores_of
from synth.writer import OutputDir, read_table

THUMB = 384
STYLE = """
body{font-family:system-ui,sans-serif;margin:20px;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:16px}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px;font-size:13px}
.card img{max-width:100%;border:1px solid #eee}
.rejected{border-color:#d33}.error{border-color:#e90}
.reason{color:#b00;font-weight:bold}.meta{color:#666}
.rep{color:#555;margin-top:6px}.rep img{max-width:45%}
.note{background:#fff3cd;border:1px solid #e6c65c;border-radius:6px;padding:8px}
details{margin-top:4px}pre{white-space:pre-wrap;word-break:break-all;font-size:11px}
"""


def _thumb(data: bytes) -> bytes | None:
    try:
        image = Image.fromarray(decode_image(data))
    except DecodeError:
        return None
    image.thumbnail((THUMB, THUMB))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def _sample_rows(out: OutputDir, folder: str, limit: int, spread: int = 1) -> list[dict[str, Any]]:
    """Up to ``limit`` rows spread over the shards (a few from each), in shard order. With
    ``spread`` > 1, ``spread`` times more rows are read and every reason gets its turn."""
    shards = out.list(folder, ".parquet")
    rows: list[dict[str, Any]] = []
    per_shard = max(1, -(-limit * spread // max(1, len(shards))))
    for shard in shards:
        table = read_table(out, shard)
        rows.extend(table.slice(0, per_shard).to_pylist())
        if len(rows) >= limit * spread:
            break
    if spread == 1:
        return rows[:limit]
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_reason.setdefault(row.get("reason") or "", []).append(row)
    picked: list[dict[str, Any]] = []
    while len(picked) < min(limit, len(rows)):
        for group in by_reason.values():
            if group and len(picked) < limit:
                picked.append(group.pop(0))
    return picked


def _rows_by_id(out: OutputDir, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Kept rows with these ids (the representatives that duplicates point at)."""
    found: dict[str, dict[str, Any]] = {}
    for shard in out.list("data", ".parquet") if ids else []:
        with out.fs.open_input_file(out.path(shard)) as f:  # the id column first; rows only on a match
            mask = pc.is_in(
                pq.read_table(f, columns=["sample_id"]).column("sample_id"), value_set=pa.array(sorted(ids))
            )
        if pc.any(mask).as_py():
            found.update({r["sample_id"]: r for r in read_table(out, shard).filter(mask).to_pylist()})
        if len(found) == len(ids):
            break
    return found


def _img(out: OutputDir, data: bytes | None, name: str, alt: str) -> str:
    thumb = _thumb(data) if data else None
    if not thumb:
        return ""
    out.write_bytes(f"preview/img/{name}.jpg", thumb)
    return f'<img src="img/{html.escape(name)}.jpg" alt="{html.escape(alt)}">'


def _card(out: OutputDir, row: dict[str, Any], rep: dict[str, Any] | None = None) -> str:
    e = html.escape
    parts = [f'<div class="card {e(row["status"])}">']
    cells = [("source_image", row.get("source_image"))]
    if row.get("task") == "edit" and row.get("aux_images"):  # the edit mask between the two
        cells.append(("mask", row["aux_images"][0]))
    cells.append(("target_image", row.get("target_image")))
    for key, cell in cells:
        if cell and cell.get("bytes"):
            parts.append(_img(out, cell["bytes"], f"{row['sample_id']}_{key}", key))
    if rep is not None:  # a duplicate beside the image it duplicates
        image = _img(out, (rep.get("target_image") or {}).get("bytes"), f"{rep['sample_id']}_rep", "kept")
        parts.append(f'<div class="rep">kept instead: {e(rep["sample_id"][:12])}<br>{image}</div>')
    where = row["target_image"]["path"] if row["task"] == "image" and row.get("target_image") else ""
    parts.append(
        f'<div class="meta">{e(row["sample_id"][:12])} · {e(row["subdomain"] or "")} · {e(row["language"] or "")}'
        f"{' · ' + e(where) if where else ''}</div>"
    )
    if row["status"] != "kept":
        parts.append(
            f'<div class="reason">{e(row["status"])}: {e(row["reason"] or "")}</div><div>{e(row["detail"] or "")}</div>'
        )
    if row.get("instruction"):
        parts.append(f"<p>{e(row['instruction'])}</p>")
    if row.get("response"):  # the computed answer of an understanding row
        parts.append(f"<p><b>answer:</b> {e(row['response'])}</p>")
    if row.get("cot"):  # reasoning before the image
        parts.append(f"<details><summary>reasoning</summary>{e(row['cot'])}</details>")
    for v in row.get("instructions") or []:
        parts.append(
            f"<details><summary>{e(v['style'])} / {e(v['language'])}</summary>{e(v['text'])}</details>"
        )
    if row.get("texts"):
        lines = "\n".join(f"[{t['role']}] {t['text']}  ({t['font']}, {t['color']})" for t in row["texts"])
        parts.append(
            f"<details><summary>texts ({len(row['texts'])})</summary><pre>{e(lines)}</pre></details>"
        )
    if row.get("scores"):
        scores = ", ".join(f"{k}={v:.3g}" for k, v in scores_of(row).items())
        parts.append(f'<div class="meta">{e(scores)}</div>')
    parts.append("</div>")
    return "".join(parts)


def write_preview(out_uri: str, kept: int = 36, rejected: int = 12) -> str:
    """Write ``OUT/preview/index.html`` and return its path."""
    out = OutputDir(out_uri)
    run = out.read_json("run.json")
    if run is None:
        raise FileNotFoundError(f"{out.uri} has no run.json: not a synth output folder")
    report = collect(out, run)
    sections = []
    for title, folder, limit in (("Kept", "data", kept), ("Rejected and errors", "rejected", rejected)):
        rows = _sample_rows(out, folder, limit, spread=1 if folder == "data" else 5)
        reps = _rows_by_id(out, {r["dup_of"] for r in rows if r.get("dup_of")})
        cards = [_card(out, r, reps.get(r.get("dup_of") or "")) for r in rows]
        sections.append(f"<h2>{title} ({len(cards)} shown)</h2><div class='grid'>{''.join(cards)}</div>")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(run['pipeline'])} preview</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(run['pipeline'])}</h1>"
        f"<p>{html.escape(summary_line(report))}</p>"
        f"{''.join(f'<p class=note>{html.escape(n)}</p>' for n in run.get('notes') or [])}"
        f"<details><summary>run config</summary><pre>{html.escape(json.dumps(run['config'], indent=2, ensure_ascii=False))}</pre></details>"
        f"{''.join(sections)}</body></html>"
    )
    out.write_bytes("preview/index.html", page.encode("utf-8"))
    return out.path("preview/index.html")
