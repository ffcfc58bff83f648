"""Flowcharts of small loops (sum, factorial, countdown, powers): change a step's text, insert a
step. Each program is also run by a Python function of ours, so "what does it print for n = 4?" has
a computed answer.

The main path runs down one column and the loop body down a second; rows come from the union of
both images' steps, so an inserted step leaves a gap in the source and nothing else moves.
"""

from __future__ import annotations

import math

from pipelines.diagram.kind import Kind, Question, Text2
from renderers.diagrams.graph import Drawing, Edge, Node
from synth.sampling import NotApplicable, pick

DX, DY, MARGIN = 200.0, 84.0, 40.0  # rows far enough apart for a label beside a short edge
SHAPES = {
    "start": {"shape": "ellipse", "width": "1.1", "height": "0.5"},
    "end": {"shape": "ellipse", "width": "1.1", "height": "0.5"},
    "io": {"shape": "box", "style": "rounded", "width": "1.6", "height": "0.5"},
    "step": {"shape": "box", "width": "1.6", "height": "0.5"},
    "decision": {"shape": "diamond", "width": "1.8", "height": "0.8"},
}

# name -> (main path before the loop, decision, loop body, after the loop, the program's result)
PROGRAMS = {
    "sum": (
        ["read n", "s = 0", "i = 1"],
        "i <= n?",
        ["s = s + i", "i = i + 1"],
        ["print s"],
        lambda n: sum(range(1, n + 1)),
    ),
    "factorial": (
        ["read n", "f = 1", "i = 2"],
        "i <= n?",
        ["f = f * i", "i = i + 1"],
        ["print f"],
        lambda n: math.factorial(n),
    ),
    "countdown": (
        ["read n", "c = 0"],
        "n > 0?",
        ["n = n - 2", "c = c + 1"],
        ["print c"],
        lambda n: (n + 1) // 2,
    ),
    "powers": (
        ["read n", "p = 1", "k = 0"],
        "p < n?",
        ["p = p * 2", "k = k + 1"],
        ["print k"],
        lambda n: max(0, math.ceil(math.log2(n))) if n > 1 else 0,
    ),
}
EXTRA_STEPS = ["t = t + 1", "log i", "x = x * 2", "check s", "y = y - 1"]


def _node(nid: str, kind: str, text: str) -> dict:
    return {"id": nid, "kind": kind, "text": text}


class Flowchart(Kind):
    name = "flowchart"
    edits = ("change_label", "insert_step")

    def sample(self, rng):
        program = pick(rng, sorted(PROGRAMS))
        before, cond, body, after, _ = PROGRAMS[program]
        main = [_node("start", "start", "Start")]
        main += [_node(f"m{i}", "io" if t.startswith("read") else "step", t) for i, t in enumerate(before)]
        main += [_node("cond", "decision", cond)]
        main += [_node(f"a{i}", "io" if t.startswith("print") else "step", t) for i, t in enumerate(after)]
        main += [_node("end", "end", "End")]
        loop = [_node(f"b{i}", "step", t) for i, t in enumerate(body)]
        return {"kind": "flowchart", "program": program, "main": main, "loop": loop, "next_id": 0}

    @staticmethod
    def _rows(columns: list[list[dict]]) -> dict[str, int]:
        from pipelines.cs_diagram.kinds.sequences import _union_order

        order = [n["id"] for n in columns[0]]
        for col in columns[1:]:
            order = _union_order(order, [n["id"] for n in col])
        return {nid: i for i, nid in enumerate(order)}

    def draw(self, structures):
        main_rows = self._rows([s["main"] for s in structures])
        loop_rows = self._rows([s["loop"] for s in structures])
        cond_row = main_rows["cond"]
        height = max(len(main_rows), cond_row + len(loop_rows) + 1)
        frame = (2 * MARGIN + DX + 120, 2 * MARGIN + (height - 1) * DY)

        def y(row: int) -> float:
            return frame[1] - MARGIN - row * DY

        out = []
        for s in structures:
            nodes = [
                Node(n["id"], n["text"], MARGIN + 60, y(main_rows[n["id"]]), SHAPES[n["kind"]])
                for n in s["main"]
            ]
            nodes += [
                Node(
                    n["id"], n["text"], MARGIN + 60 + DX, y(cond_row + 1 + loop_rows[n["id"]]), SHAPES["step"]
                )
                for n in s["loop"]
            ]
            edges = []
            main, loop = s["main"], s["loop"]
            for a, b in zip(main, main[1:], strict=False):
                edges.append(
                    Edge(f"e{a['id']}_{b['id']}", a["id"], b["id"], "no" if a["id"] == "cond" else "")
                )
            if loop:
                edges.append(Edge(f"econd_{loop[0]['id']}", "cond", loop[0]["id"], "yes"))
                edges += [
                    Edge(f"e{a['id']}_{b['id']}", a["id"], b["id"])
                    for a, b in zip(loop, loop[1:], strict=False)
                ]
                edges.append(Edge(f"e{loop[-1]['id']}_cond", loop[-1]["id"], "cond"))
            out.append(Drawing(tuple(nodes), tuple(edges), directed=True, frame=frame, curved=True))
        return out

    def describe(self, s):
        steps = " -> ".join(n["text"] for n in s["main"])
        body = " -> ".join(n["text"] for n in s["loop"])
        return Text2(
            f"A flowchart: {steps}; while '{s['main'][[n['id'] for n in s['main']].index('cond')]['text']}' holds, the loop runs {body} "
            "and returns to the decision. Ovals for start and end, a diamond for the decision, boxes for steps.",
            f"一张流程图：{steps}；当条件成立时循环执行 {body} 并回到判断。起止用椭圆，判断用菱形，步骤用方框。",
        )

    def _steps(self, s) -> list[dict]:
        return [n for n in s["main"] + s["loop"] if n["kind"] in ("step", "io")]

    def propose(self, rng, op, s):
        steps = self._steps(s)
        new_text = pick(rng, [t for t in EXTRA_STEPS if t not in {n["text"] for n in steps}])
        if op == "change_label":
            node = pick(rng, steps)
            return {"op": op, "node": node["id"], "old": node["text"], "text": new_text}
        loop_ids = [n["id"] for n in s["loop"]]
        if not loop_ids:
            raise NotApplicable("no loop")
        after = pick(rng, loop_ids)
        return {
            "op": op,
            "after": after,
            "after_text": next(n["text"] for n in s["loop"] if n["id"] == after),
            "text": new_text,
        }

    def apply(self, s, edit):
        if edit["op"] == "change_label":
            relabel = lambda col: [{**n, "text": edit["text"]} if n["id"] == edit["node"] else n for n in col]  # noqa: E731
            return {**s, "main": relabel(s["main"]), "loop": relabel(s["loop"])}
        loop = list(s["loop"])
        at = [n["id"] for n in loop].index(edit["after"]) + 1
        loop.insert(at, _node(f"x{s['next_id']}", "step", edit["text"]))
        return {**s, "loop": loop, "next_id": s["next_id"] + 1}

    def check(self, source, target, edit):
        ta = [n["text"] for n in source["main"] + source["loop"]]
        tb = [n["text"] for n in target["main"] + target["loop"]]
        if edit["op"] == "change_label":
            diff = [(a, b) for a, b in zip(ta, tb, strict=False) if a != b]
            ok = len(ta) == len(tb) and diff == [(edit["old"], edit["text"])]
        else:
            ok = len(tb) == len(ta) + 1 and sorted(tb) == sorted([*ta, edit["text"]])
            loop = [n["text"] for n in target["loop"]]
            ok = ok and loop[loop.index(edit["text"]) - 1] == edit["after_text"]
        return None if ok else "the flowchart changed in another way than the instruction says"

    def scope(self, source, target, edit):
        if edit["op"] == "change_label":
            return {edit["node"]}
        new = f"x{source['next_id']}"
        ids = [n["id"] for n in target["loop"]]
        i = ids.index(new)
        nxt = ids[i + 1] if i + 1 < len(ids) else "cond"
        return {new, f"e{ids[i - 1]}_{new}", f"e{new}_{nxt}", f"e{ids[i - 1]}_{nxt}"}

    def instruct(self, edit):
        if edit["op"] == "change_label":
            return Text2(
                f"Change the step '{edit['old']}' to '{edit['text']}'.",
                f"把步骤“{edit['old']}”改为“{edit['text']}”。",
            )
        return Text2(
            f"Insert a step '{edit['text']}' in the loop right after '{edit['after_text']}'.",
            f"在循环中“{edit['after_text']}”之后插入步骤“{edit['text']}”。",
        )

    def ask(self, rng, s):
        n = int(rng.integers(2, 7))
        result = PROGRAMS[s["program"]][4](n)
        return Question(
            Text2(
                f"What does this flowchart print when the input is n = {n}?",
                f"当输入 n = {n} 时，这个流程图输出什么？",
            ),
            str(result),
        )
