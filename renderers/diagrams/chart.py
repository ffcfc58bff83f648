"""Charts through matplotlib, as SVG: a pure function of a chart spec.

Everything that places marks is in the spec and fixed across an edit pair: figure size, margins
(no tight layout), axis limits, and one slot per series for grouped bars, so changing one value
moves one bar. Every mark carries an SVG id (``bar0_3``, ``line1``, ``wedge2``, ``title``,
``legend``); text is written as ``<text>`` (``svg.fonttype: none``), so OCR boxes come from the SVG;
ids and metadata are fixed, so the same spec gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "unisynth",
    "font.family": "DejaVu Sans",
    "font.size": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MARGINS = {"left": 0.12, "right": 0.96, "bottom": 0.12, "top": 0.88}


def chart_svg(spec: dict[str, Any]) -> str:
    """SVG of a chart spec: ``{"chart": bar|line|pie|scatter, "title", "categories", "series":
    [{"name", "values", "color"}], "slots", "ylim", "xlim", "size": [w, h] inches}``."""
    with rc_context(RC):
        fig = Figure(figsize=tuple(spec["size"]), dpi=72)
        ax = fig.add_axes(
            (
                MARGINS["left"],
                MARGINS["bottom"],
                MARGINS["right"] - MARGINS["left"],
                MARGINS["top"] - MARGINS["bottom"],
            )
        )
        kind = spec["chart"]
        cats = spec.get("categories", [])
        if kind == "bar":
            slots = spec["slots"]
            width = 0.8 / slots
            for s in spec["series"]:
                for i, v in enumerate(s["values"]):
                    x = i + (s["slot"] - (slots - 1) / 2) * width
                    ax.bar(x, v, width * 0.92, color=s["color"], gid=f"bar{s['slot']}_{i}")
                    ax.text(x, v, f"{v:g}", ha="center", va="bottom", fontsize=10, gid=f"val{s['slot']}_{i}")
        elif kind == "line":
            for s in spec["series"]:
                xs = list(range(len(s["values"])))
                ax.plot(xs, s["values"], color=s["color"], marker="o", linewidth=2, gid=f"line{s['slot']}")
                for i, v in enumerate(s["values"]):
                    ax.text(
                        i,
                        v + spec["ylim"][1] * 0.03,
                        f"{v:g}",
                        ha="center",
                        va="bottom",
                        fontsize=10,
                        gid=f"val{s['slot']}_{i}",
                    )
        elif kind == "scatter":
            for s in spec["series"]:
                xs, ys = zip(*s["values"], strict=True)
                ax.scatter(xs, ys, color=s["color"], s=36, gid=f"pts{s['slot']}")
        if kind in ("bar", "line"):
            ax.set_xticks(range(len(cats)), cats)
            ax.set_xlim(-0.6, len(cats) - 0.4)
        if kind in ("bar", "line", "scatter"):
            ax.set_ylim(*spec["ylim"])
            if spec.get("xlim"):
                ax.set_xlim(*spec["xlim"])
        if kind == "pie":
            s = spec["series"][0]
            wedges, texts, pcts = ax.pie(
                s["values"],
                labels=cats,
                colors=s["colors"],
                autopct="%1.1f%%",
                startangle=90,
                counterclock=False,
                wedgeprops={"linewidth": 1, "edgecolor": "white"},
                textprops={"fontsize": 11},
            )
            for i, (w, t, p) in enumerate(zip(wedges, texts, pcts, strict=True)):
                w.set_gid(f"wedge{i}")
                t.set_gid(f"plabel{i}")
                p.set_gid(f"pct{i}")
            ax.set_aspect("equal")
        if spec.get("title"):
            ax.set_title(spec["title"], fontsize=15, gid="title", pad=14, loc="left")
        if spec.get("legend") and kind != "pie":
            handles = [
                h for h in ax.get_children() if str(h.get_gid() or "").startswith(("bar", "line", "pts"))
            ]
            seen, hs, names = set(), [], []
            for s in spec["series"]:
                for h in handles:
                    gid = h.get_gid()
                    if (
                        gid in (f"bar{s['slot']}_0", f"line{s['slot']}", f"pts{s['slot']}")
                        and s["slot"] not in seen
                    ):
                        seen.add(s["slot"])
                        hs.append(h)
                        names.append(s["name"])
            if hs:
                top_legend(ax, hs, names, ncol=3)
        return figure_svg(fig)


def top_legend(ax, handles: list, names: list[str], ncol: int) -> None:
    """The legend above the plot's top right, clear of the data (one element: gid "legend")."""
    ax.legend(
        handles, names, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=ncol, fontsize=11, frameon=False
    ).set_gid("legend")


def figure_svg(fig: Figure) -> str:
    """The figure as SVG without a date or creator, so equal figures give equal bytes."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()
