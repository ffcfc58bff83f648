"""Enzyme kinetics (Michaelis-Menten) and population growth (logistic) plots with the quantities
read off, and edits that add an inhibitor's curve or change K or r.

A plot is a spec drawn by matplotlib the way :mod:`renderers.diagrams.chart` draws charts (its
rc, margins and fixed SVG metadata); every mark carries an SVG id. The axis limits come from the
union of both structures of an edit pair, so an edit redraws only its own curve, lines, labels and
legend, and the axes stay pinned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2
from renderers.diagrams.chart import MARGINS, RC, figure_svg, top_legend
from synth.sampling import NotApplicable, pick
from synth.schema import to_json

SIZE = (7.0, 5.0)  # inches at 72 dpi: 504 x 360 pt, scaled to 768 x 549 px
BLUE, RED, GREEN, GREY = "#1f77b4", "#d62728", "#2ca02c", "#555555"


def plot_svg(spec: dict[str, Any]) -> str:
    """SVG of a plot spec: ``{"xlim", "ylim", "xlabel", "ylabel", "title", "curves": [{"id",
    "xs", "ys", "color", "dash", "name"}], "points": [{"id", "xs", "ys", "color"}], "lines":
    [{"id", "xs", "ys"}] (grey dashed guides), "texts": [{"id", "x", "y", "text", "ha", "va"}]}``;
    curves with a ``name`` go into the legend, above the axes on the right."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(RC):
        fig = Figure(figsize=SIZE, dpi=72)
        ax = fig.add_axes(
            (
                MARGINS["left"],
                MARGINS["bottom"],
                MARGINS["right"] - MARGINS["left"],
                MARGINS["top"] - MARGINS["bottom"],
            )
        )
        for g in spec["lines"]:
            ax.plot(g["xs"], g["ys"], color=GREY, linestyle="--", linewidth=1.3, gid=g["id"])
        handles, names = [], []
        for c in spec["curves"]:
            (h,) = ax.plot(
                c["xs"], c["ys"], color=c["color"], linestyle=c["dash"], linewidth=2.2, gid=c["id"]
            )
            if c.get("name"):
                handles.append(h)
                names.append(c["name"])
        for p in spec["points"]:
            ax.scatter(p["xs"], p["ys"], color=p["color"], s=22, zorder=3, gid=p["id"])
        for t in spec["texts"]:
            ax.text(t["x"], t["y"], t["text"], ha=t["ha"], va=t["va"], fontsize=13, gid=t["id"])
        ax.set_xlim(*spec["xlim"])
        ax.set_ylim(*spec["ylim"])
        ax.set_xlabel(spec["xlabel"], fontsize=13)
        ax.set_ylabel(spec["ylabel"], fontsize=13)
        ax.set_title(spec["title"], fontsize=14, gid="title", pad=14, loc="left")
        if handles:
            top_legend(ax, handles, names, ncol=2)
        return figure_svg(fig)


@dataclass(frozen=True)
class PlotDrawing:
    """A plot spec; ``elements`` maps each SVG id to what draws it."""

    spec: dict[str, Any]

    def elements(self) -> dict[str, tuple]:
        s = self.spec
        out: dict[str, tuple] = {"title": (s["title"],), "axes": (tuple(s["xlim"]), tuple(s["ylim"]))}
        for group in ("curves", "points", "lines", "texts"):
            for item in s[group]:
                # a curve's legend name is drawn by the legend, not by the curve
                out[item["id"]] = tuple(sorted((k, repr(v)) for k, v in item.items() if k != "name"))
        names = tuple((c["name"], c["color"], c["dash"]) for c in s["curves"] if c.get("name"))
        if names:
            out["legend"] = names
        return out

    def svg(self, timeout: float = 20.0) -> str:
        return plot_svg(self.spec)

    def program(self) -> tuple[str, str]:
        return "plot-spec/1", to_json(self.spec)


def _r(v: float, k: int = 4) -> float:
    return round(float(v), k)


def num(v: float) -> str:
    """A value as printed: up to two decimals, no trailing zeros."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------------
# Michaelis-Menten


def mm_rate(s: float, vmax: float, km: float) -> float:
    """v = Vmax [S] / (Km + [S])."""
    return vmax * s / (km + s)


INHIBITORS = {  # op -> (English, Chinese)
    "add_competitive": ("competitive inhibitor", "竞争性抑制剂"),
    "add_noncompetitive": ("noncompetitive inhibitor", "非竞争性抑制剂"),
}


def apparent(s: dict[str, Any]) -> tuple[float, float]:
    """(Vmax, Km) as measured with the inhibitor present: a competitive one multiplies Km by
    (1 + [I]/Ki) and leaves Vmax; a noncompetitive one divides Vmax by it and leaves Km."""
    inh = s.get("inhibitor")
    if not inh:
        return s["vmax"], s["km"]
    f = 1 + inh["conc"] / inh["ki"]
    return (s["vmax"], s["km"] * f) if inh["type"] == "competitive" else (s["vmax"] / f, s["km"])


class EnzymeKinetics(Kind):
    name = "enzyme_kinetics"
    edits = ("add_competitive", "add_noncompetitive")

    def sample(self, rng):
        vmax = float(pick(rng, [5, 8, 10, 12, 15, 20, 25, 40, 50, 60, 80, 100]))
        km = float(pick(rng, [0.5, 1, 1.5, 2, 2.5, 3, 4, 5]))
        smax = km * float(pick(rng, [8, 10, 12]))
        xs = [_r(km * f) for f in (0.25, 0.5, 1, 2, 3, 5, 7)]
        noise = rng.normal(0, 0.015, len(xs))
        pts = [[x, _r(mm_rate(x, vmax, km) * (1 + e))] for x, e in zip(xs, noise, strict=True)]
        return {"kind": self.name, "vmax": vmax, "km": km, "smax": _r(smax), "points": pts, "inhibitor": None}

    def draw(self, structures):
        smax = max(s["smax"] for s in structures)
        vtop = max(s["vmax"] for s in structures)
        out = []
        for s in structures:
            vmax, km = s["vmax"], s["km"]
            xs = np.linspace(0, smax, 120)
            curves = [
                {
                    "id": "curve",
                    "xs": [_r(x) for x in xs],
                    "ys": [_r(mm_rate(x, vmax, km)) for x in xs],
                    "color": BLUE,
                    "dash": "-",
                    "name": "no inhibitor" if s.get("inhibitor") else None,
                }
            ]
            if s.get("inhibitor"):
                v2, k2 = apparent(s)
                curves.append(
                    {
                        "id": "inhibited",
                        "xs": [_r(x) for x in xs],
                        "ys": [_r(mm_rate(x, v2, k2)) for x in xs],
                        "color": RED,
                        "dash": "-",
                        "name": f"+ {s['inhibitor']['type']} inhibitor",
                    }
                )
            lines = [
                {"id": "vmax_line", "xs": [0, smax], "ys": [vmax, vmax]},
                {"id": "half_line", "xs": [0, smax], "ys": [vmax / 2, vmax / 2]},
                {"id": "km_line", "xs": [km, km], "ys": [0, vmax / 2]},
            ]
            texts = [
                {"id": "vmax_text", "x": _r(0.02 * smax), "y": _r(vmax + 0.03 * vtop), "text": f"Vmax = {num(vmax)}",
                 "ha": "left", "va": "bottom"},
                {"id": "half_text", "x": _r(0.98 * smax), "y": _r(vmax / 2 - 0.025 * vtop), "text": "Vmax/2",
                 "ha": "right", "va": "top"},
                {"id": "km_text", "x": _r(km + 0.015 * smax), "y": _r(0.03 * vtop), "text": f"Km = {num(km)}",
                 "ha": "left", "va": "bottom"},
            ]  # fmt: skip
            spec = {
                "xlim": [0, smax],
                "ylim": [0, _r(vtop * 1.22)],
                "xlabel": "[S] (mM)",
                "ylabel": "v (μmol/min)",
                "title": "Enzyme kinetics",
                "curves": curves,
                "points": [
                    {
                        "id": "points",
                        "xs": [p[0] for p in s["points"]],
                        "ys": [p[1] for p in s["points"]],
                        "color": BLUE,
                    }
                ],  # fmt: skip
                "lines": lines,
                "texts": texts,
            }
            out.append(PlotDrawing(spec))
        return out

    def describe(self, s):
        v, k = num(s["vmax"]), num(s["km"])
        return Text2(
            f"A Michaelis-Menten plot of reaction rate v (μmol/min) against substrate concentration [S] (mM): "
            f"measured points and the hyperbola v = Vmax[S]/(Km + [S]) with Vmax = {v} μmol/min and Km = {k} mM; "
            f"dashed lines mark Vmax and Vmax/2, and a dashed line from where the curve reaches Vmax/2 down to the axis marks Km.",
            f"一张米氏方程曲线图：反应速率 v（μmol/min）对底物浓度 [S]（mM）作图，包含测量点和双曲线 "
            f"v = Vmax[S]/(Km + [S])，最大反应速率 Vmax = {v} μmol/min，米氏常数 Km = {k} mM；"
            f"虚线标出 Vmax 和 Vmax/2，另一条虚线从曲线达到 Vmax/2 处垂直落到横轴，标出 Km。",
        )

    def propose(self, rng, op, s):
        if s.get("inhibitor"):
            raise NotApplicable("an inhibitor is already shown")
        # a noncompetitive inhibitor at least 2.5-fold: its curve then stays below the Vmax/2 label
        pairs = [(c, k) for c in (1, 2, 3, 4, 5) for k in (1, 2, 2.5, 4, 5)]
        if op == "add_noncompetitive":
            pairs = [(c, k) for c, k in pairs if 1.5 <= c / k <= 3]
        conc, ki = pairs[int(rng.integers(len(pairs)))]
        return {"op": op, "type": op.removeprefix("add_"), "conc": float(conc), "ki": float(ki)}

    def apply(self, s, edit):
        return {**s, "inhibitor": {"type": edit["type"], "conc": edit["conc"], "ki": edit["ki"]}}

    def check(self, source, target, edit):
        same = all(source[k] == target[k] for k in ("vmax", "km", "smax", "points"))
        inh = target.get("inhibitor") or {}
        if not same or source.get("inhibitor") or inh.get("type") != edit["type"]:
            return "the plot changed in another way than the instruction says"
        f = 1 + edit["conc"] / edit["ki"]
        v2, k2 = apparent(target)
        want = (
            (source["vmax"], source["km"] * f)
            if edit["type"] == "competitive"
            else (source["vmax"] / f, source["km"])
        )
        return None if np.allclose((v2, k2), want) else "the inhibited curve has the wrong constants"

    def scope(self, source, target, edit):
        return {"inhibited", "legend"}

    def instruct(self, edit):
        en, zh = INHIBITORS[edit["op"]]
        c, ki = num(edit["conc"]), num(edit["ki"])
        return Text2(
            f"Add the rate curve in red with a {en} at [I] = {c} mM (Ki = {ki} mM), and a legend.",
            f"用红色添加加入{zh}后的速率曲线（[I] = {c} mM，Ki = {ki} mM），并加上图例。",
        )

    def ask(self, rng, s):
        vmax, km = s["vmax"], s["km"]
        q = pick(rng, ["km", "vmax", "rate", "inhibitor"])
        if q == "km":
            return Question(
                Text2(
                    "What is the Michaelis constant Km of this enzyme (mM)?",
                    "该酶的米氏常数 Km 是多少（mM）？",
                ),
                f"{num(km)} mM",
                f"Km is the [S] at which v = Vmax/2 = {num(vmax / 2)} μmol/min: {num(km)} mM.",
            )
        if q == "vmax":
            return Question(
                Text2("What is the maximum rate Vmax (μmol/min)?", "最大反应速率 Vmax 是多少（μmol/min）？"),
                f"{num(vmax)} μmol/min",
            )
        if q == "rate":
            x = float(pick(rng, [km / 2, km, 2 * km, 3 * km, 4 * km]))
            v = mm_rate(x, vmax, km)
            return Question(
                Text2(
                    f"Using the Michaelis-Menten equation with the Km and Vmax shown, what is v at [S] = {num(x)} mM "
                    f"(two decimals)?",
                    f"用图中的 Km 和 Vmax 代入米氏方程，[S] = {num(x)} mM 时 v 是多少（保留两位小数）？",
                ),
                f"{v:.2f} μmol/min",
                f"v = {num(vmax)} x {num(x)} / ({num(km)} + {num(x)}) = {v:.2f}",
            )
        conc, ki = float(pick(rng, [1, 2, 3, 4])), float(pick(rng, [1, 2, 4]))
        k2 = km * (1 + conc / ki)
        return Question(
            Text2(
                f"A competitive inhibitor at [I] = {num(conc)} mM with Ki = {num(ki)} mM is added. What are the "
                f"apparent Km and Vmax?",
                f"加入竞争性抑制剂（[I] = {num(conc)} mM，Ki = {num(ki)} mM）后，表观 Km 和 Vmax 各是多少？",
            ),
            f"Km = {k2:.2f} mM, Vmax = {num(vmax)} μmol/min",
            f"A competitive inhibitor raises the apparent Km by (1 + [I]/Ki) = {num(1 + conc / ki)} and leaves Vmax "
            f"unchanged.",
        )


# ---------------------------------------------------------------------------------------------
# Logistic growth


def logistic(t: float, k: float, r: float, n0: float) -> float:
    """N(t) = K / (1 + ((K - N0)/N0) e^(-rt))."""
    return k / (1 + (k - n0) / n0 * math.exp(-r * t))


def fastest(k: float, r: float, n0: float) -> float:
    """The time of fastest growth, where N = K/2: t = ln((K - N0)/N0) / r."""
    return math.log((k - n0) / n0) / r


class PopulationGrowth(Kind):
    name = "population_growth"
    edits = ("change_k", "change_r")

    def sample(self, rng):
        k = float(pick(rng, [200, 300, 400, 500, 600, 800, 1000]))
        n0 = float(pick(rng, [5, 10, 20]))
        r = float(pick(rng, [0.3, 0.4, 0.5, 0.6, 0.8, 1.0]))
        return {"kind": self.name, "k": k, "r": r, "n0": n0, "exponential": bool(rng.random() < 0.5)}

    def draw(self, structures):
        tmax = max(math.ceil(2.2 * fastest(s["k"], s["r"], s["n0"])) for s in structures)
        ktop = max(s["k"] for s in structures)
        out = []
        for s in structures:
            k, r, n0 = s["k"], s["r"], s["n0"]
            ts = np.linspace(0, tmax, 150)
            curves = [
                {
                    "id": "logistic",
                    "xs": [_r(t) for t in ts],
                    "ys": [_r(logistic(t, k, r, n0), 3) for t in ts],
                    "color": BLUE,
                    "dash": "-",
                    "name": "logistic" if s["exponential"] else None,
                }
            ]
            if s["exponential"]:
                te = [t for t in ts if n0 * math.exp(r * t) <= 1.3 * ktop]
                curves.append(
                    {
                        "id": "exponential",
                        "xs": [_r(t) for t in te],
                        "ys": [_r(n0 * math.exp(r * t), 3) for t in te],
                        "color": GREEN,
                        "dash": ":",
                        "name": "exponential",
                    }
                )
            spec = {
                "xlim": [0, tmax],
                "ylim": [0, _r(ktop * 1.2)],
                "xlabel": "time t (days)",
                "ylabel": "population size N",
                "title": "Population growth",
                "curves": curves,
                "points": [],
                "lines": [{"id": "k_line", "xs": [0, tmax], "ys": [k, k]}],
                "texts": [
                    {
                        "id": "k_text",
                        "x": _r(0.02 * tmax),
                        "y": _r(k + 0.03 * ktop),
                        "text": f"K = {num(k)}",
                        "ha": "left",
                        "va": "bottom",
                    },
                ],  # fmt: skip
            }
            out.append(PlotDrawing(spec))
        return out

    def describe(self, s):
        k, r, n0 = num(s["k"]), num(s["r"]), num(s["n0"])
        en = (
            f"A logistic growth curve N(t) = K / (1 + ((K - N0)/N0) e^(-rt)) of population size against time in days, "
            f"with N0 = {n0}, r = {r} per day and carrying capacity K = {k} marked by a dashed line labelled 'K = {k}'"
        )
        zh = (
            f"一条逻辑斯谛增长曲线 N(t) = K / (1 + ((K - N0)/N0) e^(-rt))，种群数量对时间（天）作图，"
            f"N0 = {n0}，r = {r}（每天），环境容纳量 K = {k} 用标有“K = {k}”的虚线标出"
        )
        if s["exponential"]:
            en += ", and a dotted green exponential curve N0 e^(rt) for comparison, with a legend"
            zh += "，并画出绿色点线的指数增长曲线 N0 e^(rt) 作对比，附图例"
        return Text2(en + ".", zh + "。")

    def propose(self, rng, op, s):
        if op == "change_k":
            new = float(pick(rng, [v for v in (200, 300, 400, 500, 600, 800, 1000) if v != s["k"]]))
            return {"op": op, "old": s["k"], "value": new}
        new = float(pick(rng, [v for v in (0.3, 0.4, 0.5, 0.6, 0.8, 1.0) if v != s["r"]]))
        return {"op": op, "old": s["r"], "value": new}

    def apply(self, s, edit):
        return {**s, ("k" if edit["op"] == "change_k" else "r"): edit["value"]}

    def check(self, source, target, edit):
        key = "k" if edit["op"] == "change_k" else "r"
        others = [x for x in ("k", "r", "n0", "exponential") if x != key]
        if target[key] != edit["value"] or any(source[x] != target[x] for x in others):
            return "the parameters differ from the instruction"
        return None

    def scope(self, source, target, edit):
        if edit["op"] == "change_k":
            return {"logistic", "k_line", "k_text"}
        return {"logistic", "exponential"}

    def instruct(self, edit):
        if edit["op"] == "change_k":
            return Text2(
                f"Change the carrying capacity K from {num(edit['old'])} to {num(edit['value'])} and redraw the "
                f"logistic curve and the K line.",
                f"把环境容纳量 K 从 {num(edit['old'])} 改为 {num(edit['value'])}，并重画逻辑斯谛曲线和 K 线。",
            )
        return Text2(
            f"Change the growth rate r from {num(edit['old'])} to {num(edit['value'])} per day and redraw the curves.",
            f"把增长率 r 从每天 {num(edit['old'])} 改为 {num(edit['value'])}，并重画曲线。",
        )

    def ask(self, rng, s):
        k, r, n0 = s["k"], s["r"], s["n0"]
        q = pick(rng, ["k", "fastest", "at"])
        if q == "k":
            return Question(
                Text2("What is the carrying capacity K of this population?", "该种群的环境容纳量 K 是多少？"),
                num(k),
            )
        given = f"N0 = {num(n0)} and r = {num(r)} per day"
        given_zh = f"N0 = {num(n0)}，r = 每天 {num(r)}"
        if q == "fastest":
            t = fastest(k, r, n0)
            return Question(
                Text2(
                    f"With {given}, at what time does the population grow fastest (two decimals)?",
                    f"已知 {given_zh}，种群在何时增长最快（保留两位小数）？",
                ),
                f"t = {t:.2f} days (N = K/2 = {num(k / 2)})",
                f"Growth is fastest at N = K/2, where t = ln((K - N0)/N0)/r = ln({num(k - n0)}/{num(n0)})/{num(r)} = {t:.2f}.",
            )
        t = float(pick(rng, [2, 4, 5, 6, 8, 10]))
        n = logistic(t, k, r, n0)
        return Question(
            Text2(
                f"With {given}, what is the population size at t = {num(t)} days (one decimal)?",
                f"已知 {given_zh}，t = {num(t)} 天时种群数量是多少（保留一位小数）？",
            ),
            f"{n:.1f}",
            f"N = {num(k)} / (1 + ({num(k - n0)}/{num(n0)}) e^(-{num(r)} x {num(t)})) = {n:.1f}",
        )
