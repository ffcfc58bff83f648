"""Bar, line, pie and scatter charts: change a value, add a series, change a colour or the title.

The drawing is a chart spec for :func:`renderers.diagrams.chart.chart_svg`; the union of both
images of a pair decides the axis limits and the bar slots, so an edit moves only its own marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.chart import chart_svg
from synth.sampling import NotApplicable, pick
from synth.schema import to_json

COLORS = {  # hex -> (English, Chinese)
    "#1f77b4": ("blue", "蓝色"),
    "#d62728": ("red", "红色"),
    "#2ca02c": ("green", "绿色"),
    "#ff7f0e": ("orange", "橙色"),
    "#9467bd": ("purple", "紫色"),
    "#7f7f7f": ("grey", "灰色"),
}
CATEGORIES = [
    ["Jan", "Feb", "Mar", "Apr", "May"],
    ["Q1", "Q2", "Q3", "Q4"],
    ["apple", "pear", "plum", "fig", "kiwi"],
    ["Mon", "Tue", "Wed", "Thu", "Fri"],
    ["north", "south", "east", "west"],
]
SERIES = ["2023", "2024", "2025", "plan", "actual"]
TITLES = [
    ("Sales", "销售额"),
    ("Visitors", "访客数"),
    ("Rainfall", "降雨量"),
    ("Orders", "订单量"),
    ("Output", "产量"),
]


@dataclass(frozen=True)
class ChartDrawing:
    """A chart spec, drawn by matplotlib; ``elements`` maps the SVG ids to what draws them."""

    spec: dict[str, Any]

    def elements(self) -> dict[str, tuple]:
        s = self.spec
        out: dict[str, tuple] = {"title": (s.get("title"),)}
        if s["chart"] == "pie":
            ser = s["series"][0]
            for i, (v, c) in enumerate(zip(ser["values"], ser["colors"], strict=True)):
                out[f"wedge{i}"] = (v, c, tuple(ser["values"]))
            return out
        for ser in s["series"]:
            k = ser["slot"]
            if s["chart"] == "scatter":
                out[f"pts{k}"] = (tuple(map(tuple, ser["values"])), ser["color"])
                continue
            if s["chart"] == "line":
                out[f"line{k}"] = (tuple(ser["values"]), ser["color"])
            for i, v in enumerate(ser["values"]):
                if s["chart"] == "bar":
                    out[f"bar{k}_{i}"] = (v, ser["color"])
                out[f"val{k}_{i}"] = (v,)
        if s.get("legend"):
            out["legend"] = tuple((ser["name"], ser["color"]) for ser in s["series"])
        return out

    def svg(self, timeout: float = 20.0) -> str:
        return chart_svg(self.spec)

    def program(self) -> tuple[str, str]:
        return "chart-spec/1", to_json(self.spec)


def _nice_top(v: float) -> float:
    mag = 10 ** math.floor(math.log10(max(v, 1)))
    return math.ceil(v * 1.18 / mag) * mag


class Chart(Kind):
    name = "bar_chart"
    chart = "bar"
    edits = ("change_value", "add_series", "change_color", "change_title")

    def sample(self, rng):
        cats = list(CATEGORIES[int(rng.integers(len(CATEGORIES)))])
        title = TITLES[int(rng.integers(len(TITLES)))]
        colors = [str(c) for c in rng.permutation(sorted(COLORS))]
        n_series = 1 if self.chart == "pie" else int(rng.integers(1, 3))
        names = [str(n) for n in rng.choice(SERIES, n_series, replace=False)]
        series = []
        for k in range(n_series):
            if self.chart == "scatter":
                cx, cy = rng.uniform(2, 8, 2)
                pts = [
                    [round(float(cx + rng.normal(0, 1.2)), 2), round(float(cy + rng.normal(0, 1.2)), 2)]
                    for _ in range(int(rng.integers(5, 12)))
                ]
                series.append({"name": names[k], "slot": k, "color": colors[k], "values": pts})
            else:
                series.append(
                    {
                        "name": names[k],
                        "slot": k,
                        "color": colors[k],
                        "values": [int(v) for v in rng.integers(5, 95, len(cats))],
                    }
                )
        if self.chart == "pie":
            series[0]["colors"] = colors[: len(cats)]
        return {
            "kind": self.name,
            "chart": self.chart,
            "title": title[0],
            "title_zh": title[1],
            "categories": cats,
            "series": series,
            "size": [7.0, 5.0],
        }

    def draw(self, structures):
        slots = max(len(s["series"]) for s in structures)
        legend = True  # instructions name series: the image must show which is which
        if self.chart == "scatter":
            ylim, xlim = [0, 11], [0, 11]
        else:
            top = max((v for s in structures for ser in s["series"] for v in ser["values"]), default=1)
            ylim, xlim = [0, _nice_top(top)], None
        return [
            ChartDrawing({**s, "slots": slots, "legend": legend, "ylim": ylim, "xlim": xlim})
            for s in structures
        ]

    def describe(self, s):
        cats = seq(s["categories"])
        if self.chart == "pie":
            parts = "; ".join(
                f"{c} {v}" for c, v in zip(s["categories"], s["series"][0]["values"], strict=True)
            )
            return Text2(
                f"A pie chart titled '{s['title']}' with slices {parts}, percentages printed on the slices.",
                f"一张标题为“{s['title']}”的饼图，各扇区为 {parts}，扇区上标有百分比。",
            )
        if self.chart == "scatter":
            desc = "; ".join(
                f"{len(ser['values'])} {COLORS[ser['color']][0]} points for '{ser['name']}'"
                for ser in s["series"]
            )
            zh = "；".join(
                f"“{ser['name']}”有 {len(ser['values'])} 个{COLORS[ser['color']][1]}点" for ser in s["series"]
            )
            return Text2(
                f"A scatter plot titled '{s['title']}' on axes from 0 to 11: {desc}.",
                f"一张标题为“{s['title']}”的散点图，坐标轴范围 0 到 11：{zh}。",
            )
        noun, zh_noun = ("bar chart", "柱状图") if self.chart == "bar" else ("line chart", "折线图")
        desc = "; ".join(
            f"'{ser['name']}' in {COLORS[ser['color']][0]}: {seq(ser['values'])}" for ser in s["series"]
        )
        zh = "；".join(
            f"“{ser['name']}”（{COLORS[ser['color']][1]}）：{seq(ser['values'])}" for ser in s["series"]
        )
        return Text2(
            f"A {noun} titled '{s['title']}' over {cats}, values printed on the marks; {desc}.",
            f"一张标题为“{s['title']}”的{zh_noun}，类别为 {cats}，数值标在图形上；{zh}。",
        )

    def propose(self, rng, op, s):
        series = s["series"]
        if op == "change_title":
            options = [t for t in TITLES if t[0] != s["title"]]
            t = options[int(rng.integers(len(options)))]
            return {"op": op, "old": s["title"], "title": t[0], "title_zh": t[1]}
        if op == "change_color":
            if self.chart == "pie":
                i = int(rng.integers(len(s["categories"])))
                new = pick(rng, set(COLORS) - set(series[0]["colors"]))
                return {"op": op, "target": s["categories"][i], "index": i, "color": new}
            ser = pick(rng, series)
            new = pick(rng, set(COLORS) - {x["color"] for x in series})
            return {"op": op, "target": ser["name"], "index": ser["slot"], "color": new}
        if op == "add_series":
            if len(series) >= 3:
                raise NotApplicable("three series already")
            name = pick(rng, set(SERIES) - {x["name"] for x in series})
            color = pick(rng, set(COLORS) - {x["color"] for x in series})
            if self.chart == "scatter":
                cx, cy = rng.uniform(2, 8, 2)
                values = [
                    [round(float(cx + rng.normal(0, 1.2)), 2), round(float(cy + rng.normal(0, 1.2)), 2)]
                    for _ in range(int(rng.integers(5, 10)))
                ]
            else:
                values = [int(v) for v in rng.integers(5, 95, len(s["categories"]))]
            return {"op": op, "name": name, "color": color, "values": values}
        # change_value
        ser = pick(rng, series)
        i = int(rng.integers(len(s["categories"])))
        old = ser["values"][i]
        new = pick(rng, set(range(5, 120)) - {old})
        return {
            "op": op,
            "series": ser["name"],
            "slot": ser["slot"],
            "index": i,
            "category": s["categories"][i],
            "old": old,
            "value": new,
        }

    def apply(self, s, edit):
        series = [dict(x) for x in s["series"]]
        op = edit["op"]
        if op == "change_title":
            return {**s, "title": edit["title"], "title_zh": edit["title_zh"]}
        if op == "change_color":
            if self.chart == "pie":
                colors = list(series[0]["colors"])
                colors[edit["index"]] = edit["color"]
                series[0]["colors"] = colors
            else:
                series[edit["index"]]["color"] = edit["color"]
        elif op == "add_series":
            series.append(
                {"name": edit["name"], "slot": len(series), "color": edit["color"], "values": edit["values"]}
            )
        else:
            vals = list(series[edit["slot"]]["values"])
            vals[edit["index"]] = edit["value"]
            series[edit["slot"]]["values"] = vals
        return {**s, "series": series}

    def check(self, source, target, edit):
        a = {x["name"]: x for x in source["series"]}
        b = {x["name"]: x for x in target["series"]}
        op = edit["op"]
        if op == "change_title":
            ok = target["title"] == edit["title"] and a == b
        elif op == "add_series":
            ok = (
                set(b) - set(a) == {edit["name"]}
                and all(a[k] == b[k] for k in a)
                and b[edit["name"]]["values"] == edit["values"]
            )
        elif op == "change_color":
            if self.chart == "pie":
                ca, cb = a[next(iter(a))]["colors"], b[next(iter(b))]["colors"]
                ok = [i for i in range(len(ca)) if ca[i] != cb[i]] == [edit["index"]] and cb[
                    edit["index"]
                ] == edit["color"]
            else:
                ok = (
                    [k for k in a if a[k] != b[k]] == [edit["target"]]
                    and b[edit["target"]]["color"] == edit["color"]
                    and b[edit["target"]]["values"] == a[edit["target"]]["values"]
                )
        else:
            va, vb = a[edit["series"]]["values"], b[edit["series"]]["values"]
            diff = [i for i in range(len(va)) if va[i] != vb[i]]
            ok = (
                diff == [edit["index"]]
                and vb[edit["index"]] == edit["value"]
                and all(a[k] == b[k] for k in a if k != edit["series"])
            )
        if op != "change_title":
            ok = ok and source["title"] == target["title"]
        return None if ok else "the chart changed in another way than the instruction says"

    def scope(self, source, target, edit):
        op = edit["op"]
        if op == "change_title":
            return {"title"}
        if op == "change_value":
            k, i = edit["slot"], edit["index"]
            return {f"bar{k}_{i}", f"val{k}_{i}", f"line{k}"}
        if self.chart == "pie":
            return {f"wedge{edit['index']}"}
        k = edit["index"] if op == "change_color" else len(source["series"])
        n = len(source["categories"])
        return (
            {f"bar{k}_{i}" for i in range(n)}
            | {f"val{k}_{i}" for i in range(n)}
            | {f"line{k}", f"pts{k}", "legend"}
        )

    def instruct(self, edit):
        op = edit["op"]
        if op == "change_title":
            return Text2(
                f"Change the chart title from '{edit['old']}' to '{edit['title']}'.",
                f"把图表标题从“{edit['old']}”改为“{edit['title']}”。",
            )
        if op == "change_color":
            en, zh = COLORS[edit["color"]]
            what = "slice" if self.chart == "pie" else "series"
            return Text2(
                f"Recolour the '{edit['target']}' {what} {en}.",
                f"把“{edit['target']}”{'扇区' if self.chart == 'pie' else '系列'}改成{zh}。",
            )
        if op == "add_series":
            en, zh = COLORS[edit["color"]]
            vals = seq(edit["values"]) if self.chart != "scatter" else f"{len(edit['values'])} points"
            return Text2(
                f"Add a {en} series named '{edit['name']}' with {vals}.",
                f"添加一个名为“{edit['name']}”的{zh}系列：{vals}。",
            )
        return Text2(
            f"Change the value of {edit['category']} in '{edit['series']}' from {edit['old']} to {edit['value']}.",
            f"把“{edit['series']}”中 {edit['category']} 的值从 {edit['old']} 改为 {edit['value']}。",
        )

    def ask(self, rng, s):
        series = s["series"]
        if self.chart == "pie":
            vals = series[0]["values"]
            if rng.random() < 0.5:
                return Question(
                    Text2("Which category has the largest share?", "哪个类别占比最大？"),
                    s["categories"][int(np.argmax(vals))],
                )
            i = int(rng.integers(len(vals)))
            return Question(
                Text2(
                    f"What percentage does {s['categories'][i]} account for (one decimal)?",
                    f"{s['categories'][i]} 占百分之多少（保留一位小数）？",
                ),
                f"{100 * vals[i] / sum(vals):.1f}%",
            )
        ser = pick(rng, series)
        if self.chart == "scatter":
            return Question(
                Text2(
                    f"How many points does the '{ser['name']}' series have?",
                    f"“{ser['name']}”系列有多少个点？",
                ),
                str(len(ser["values"])),
            )
        i = int(rng.integers(len(s["categories"])))
        if rng.random() < 0.5:
            return Question(
                Text2(
                    f"What is the value of {s['categories'][i]} in '{ser['name']}'?",
                    f"“{ser['name']}”中 {s['categories'][i]} 的值是多少？",
                ),
                str(ser["values"][i]),
            )
        return Question(
            Text2(
                f"Which category has the highest value in '{ser['name']}'?",
                f"在“{ser['name']}”中哪个类别的值最高？",
            ),
            s["categories"][int(np.argmax(ser["values"]))],
        )


class BarChart(Chart):
    name, chart = "bar_chart", "bar"


class LineChart(Chart):
    name, chart = "line_chart", "line"


class PieChart(Chart):
    name, chart = "pie_chart", "pie"
    edits = ("change_color", "change_title")


class ScatterChart(Chart):
    name, chart = "scatter_chart", "scatter"
    edits = ("add_series", "change_color", "change_title")
