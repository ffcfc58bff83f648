"""Weighted undirected graphs with BFS and DFS orders and shortest paths, and edge edits.

Nodes sit on a jittered grid drawn from the sample's seed, connected along a Delaunay
triangulation with some edges dropped, so drawings have few crossings; positions are shared by
both images of a pair, and edges are straight, so an added edge moves nothing else.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay

from pipelines.cs_diagram import structures as S
from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node
from synth.sampling import NotApplicable, pick

STEP, MARGIN = 96.0, 36.0
VISITED = {"style": "filled", "fillcolor": "#ffd966"}
PATH_EDGE = {"color": "#d62728", "penwidth": "3"}
WEIGHT = {"fontcolor": "#666666", "fontsize": "11"}  # weights in grey, visit numbers in black


def _clear(pos: dict[str, list[float]], a: str, b: str, room: float = 26.0) -> bool:
    """Whether the segment a-b passes at least ``room`` points from every other node."""
    pa, pb = np.array(pos[a]), np.array(pos[b])
    d = pb - pa
    for k, p in pos.items():
        if k in (a, b):
            continue
        t = np.clip(np.dot(np.array(p) - pa, d) / np.dot(d, d), 0, 1)
        if np.linalg.norm(pa + t * d - np.array(p)) < room:
            return False
    return True


def _eid(a: str, b: str) -> str:
    a, b = sorted((a, b))
    return f"e{a}_{b}"


class Graph(Kind):
    """``highlight`` is what this kind's first edit shows: bfs, dfs or path."""

    name = "graph"
    highlight = "bfs"

    @property
    def edits(self):  # type: ignore[override]
        return (self.highlight, "add_edge", "remove_edge")

    def sample(self, rng):
        cols, rows = int(rng.integers(3, 5)), int(rng.integers(2, 4))
        n = min(cols * rows, int(rng.integers(6, 10)))
        cells = sorted(int(c) for c in rng.choice(cols * rows, n, replace=False))
        names = [chr(ord("A") + i) for i in range(n)]
        pos = {}
        for name, c in zip(names, cells, strict=True):
            x = MARGIN + (c % cols) * STEP + rng.uniform(-18, 18)
            y = MARGIN + (c // cols) * STEP + rng.uniform(-18, 18)
            pos[name] = [round(float(x), 1), round(float(y), 1)]
        pts = np.array([pos[k] for k in names])
        tri = Delaunay(pts + rng.uniform(-1e-3, 1e-3, pts.shape))
        pairs = sorted(
            {
                tuple(sorted((names[a], names[b])))
                for t in tri.simplices
                for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))
            }
        )
        pairs = [(a, b) for a, b in pairs if _clear(pos, a, b)]
        edges = [[a, b, int(rng.integers(1, 10))] for a, b in pairs]
        # Drop some edges while the graph stays connected.
        kept = list(edges)
        for e in [edges[i] for i in rng.permutation(len(edges))]:
            if rng.random() < 0.35:
                trial = [x for x in kept if x is not e]
                if len(S.bfs({"edges": trial}, names[0])) == n:
                    kept = trial
        edges = sorted(kept)
        frame = (2 * MARGIN + (cols - 1) * STEP, 2 * MARGIN + (rows - 1) * STEP)
        return {
            "kind": self.name,
            "nodes": names,
            "pos": pos,
            "edges": edges,
            "directed": False,
            "start": names[0],
            "goal": names[-1],
            "frame": list(frame),
            "show": None,
        }

    def draw(self, structures):
        out = []
        for s in structures:
            show = s.get("show")
            marks: dict[str, dict] = {}
            edge_marks: dict[str, dict] = {}
            if show in ("bfs", "dfs"):
                order = (S.bfs if show == "bfs" else S.dfs)(s, s["start"])
                marks = {v: {**VISITED, "xlabel": str(i + 1)} for i, v in enumerate(order)}
            elif show == "path":
                _, path = S.shortest_path(s, s["start"], s["goal"])
                marks = {v: VISITED for v in path}
                edge_marks = {_eid(a, b): PATH_EDGE for a, b in zip(path, path[1:], strict=False)}
            nodes = tuple(Node(f"n{v}", v, *s["pos"][v], marks.get(v, {})) for v in s["nodes"])
            edges = tuple(
                Edge(_eid(a, b), f"n{a}", f"n{b}", str(w), {**WEIGHT, **edge_marks.get(_eid(a, b), {})})
                for a, b, w in s["edges"]
            )
            out.append(Drawing(nodes, edges, directed=False, frame=tuple(s["frame"])))
        return out

    def describe(self, s):
        edges = "; ".join(f"{a}-{b} ({w})" for a, b, w in s["edges"])
        return Text2(
            f"An undirected weighted graph with nodes {seq(s['nodes'])} drawn as circles and edges {edges}, weights as edge labels.",
            f"一个无向带权图，节点 {seq(s['nodes'])} 画成圆圈，边为 {edges}，权重标在边上。",
        )

    def propose(self, rng, op, s):
        present = {tuple(sorted(e[:2])) for e in s["edges"]}
        if op == "add_edge":
            pts = {k: np.array(v) for k, v in s["pos"].items()}
            free = {
                (a, b)
                for a in s["nodes"]
                for b in s["nodes"]
                if a < b
                and (a, b) not in present
                and np.linalg.norm(pts[a] - pts[b]) < 1.6 * STEP
                and _clear(s["pos"], a, b)
            }
            a, b = pick(rng, free)
            return {"op": op, "a": a, "b": b, "weight": int(rng.integers(1, 10))}
        if op == "remove_edge":
            removable = {
                e
                for e in present
                if len(S.bfs({"edges": [x for x in s["edges"] if tuple(sorted(x[:2])) != e]}, s["start"]))
                == len(s["nodes"])
            }
            a, b = pick(rng, removable)
            return {"op": op, "a": a, "b": b}
        if s.get("show"):
            raise NotApplicable("already highlighted")
        return {"op": op, "start": s["start"], "goal": s["goal"]}

    def apply(self, s, edit):
        op = edit["op"]
        if op == "add_edge":
            return {**s, "edges": sorted([*s["edges"], [edit["a"], edit["b"], edit["weight"]]])}
        if op == "remove_edge":
            return {**s, "edges": [e for e in s["edges"] if sorted(e[:2]) != [edit["a"], edit["b"]]]}
        return {**s, "show": op}

    def check(self, source, target, edit):
        ea = {tuple(sorted(e[:2])): e[2] for e in source["edges"]}
        eb = {tuple(sorted(e[:2])): e[2] for e in target["edges"]}
        op = edit["op"]
        if op == "add_edge":
            want = {**ea, (edit["a"], edit["b"]): edit["weight"]}
        elif op == "remove_edge":
            want = {k: v for k, v in ea.items() if k != (edit["a"], edit["b"])}
        else:
            want = ea
            if target.get("show") != op:
                return f"the target does not show the {op}"
        if eb != want:
            return f"edges differ from the instruction: {sorted(set(eb.items()) ^ set(want.items()))}"
        if source["pos"] != target["pos"]:
            return "node positions moved"
        return None

    def scope(self, source, target, edit):
        if edit["op"] in ("add_edge", "remove_edge"):
            return {_eid(edit["a"], edit["b"])}
        return None  # a highlight may touch any node and edge

    def instruct(self, edit):
        op = edit["op"]
        if op == "add_edge":
            return Text2(
                f"Add an edge between {edit['a']} and {edit['b']} with weight {edit['weight']}.",
                f"在 {edit['a']} 和 {edit['b']} 之间添加一条权重为 {edit['weight']} 的边。",
            )
        if op == "remove_edge":
            return Text2(
                f"Remove the edge between {edit['a']} and {edit['b']}.",
                f"删除 {edit['a']} 与 {edit['b']} 之间的边。",
            )
        if op == "path":
            return Text2(
                f"Highlight the shortest path from {edit['start']} to {edit['goal']}: fill its nodes and draw its edges thick and red.",
                f"高亮从 {edit['start']} 到 {edit['goal']} 的最短路径：填充路径上的节点，并把路径边加粗标红。",
            )
        name, zh = ("breadth-first", "广度优先") if op == "bfs" else ("depth-first", "深度优先")
        return Text2(
            f"Run a {name} search from {edit['start']} (neighbours in alphabetical order); fill each visited node and number it by visit order.",
            f"从 {edit['start']} 开始进行{zh}搜索（邻居按字母顺序），填充每个访问到的节点并按访问顺序编号。",
        )

    def ask(self, rng, s):
        kind = self.highlight
        if kind == "path":
            dist, _ = S.shortest_path(s, s["start"], s["goal"])
            return Question(
                Text2(
                    f"What is the length of the shortest path from {s['start']} to {s['goal']}?",
                    f"从 {s['start']} 到 {s['goal']} 的最短路径长度是多少？",
                ),
                str(int(dist)),
            )
        order = (S.bfs if kind == "bfs" else S.dfs)(s, s["start"])
        name, zh = ("breadth-first", "广度优先") if kind == "bfs" else ("depth-first", "深度优先")
        return Question(
            Text2(
                f"In what order does a {name} search from {s['start']} visit the nodes (neighbours alphabetically)?",
                f"从 {s['start']} 开始{zh}搜索（邻居按字母顺序）访问节点的顺序是什么？",
            ),
            seq(order),
        )


class GraphBFS(Graph):
    name = "graph_bfs"
    highlight = "bfs"


class GraphDFS(Graph):
    name = "graph_dfs"
    highlight = "dfs"


class GraphPath(Graph):
    name = "graph_path"
    highlight = "path"
