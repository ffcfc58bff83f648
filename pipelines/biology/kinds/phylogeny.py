"""Phylogenetic trees rebuilt from distance matrices.

An ultrametric tree (integer node heights) is drawn at random, its matrix of pairwise distances
derived (twice the height of the common ancestor), and the drawn tree is the one UPGMA rebuilds
from that matrix; neighbour joining on the same matrix must find the same splits. The tree is a
rectangular phylogram with the height of each ancestor printed on its incoming branch; leaf slots
are shared by both images of a pair, so adding or removing a taxon changes only the branches of
the clades that contain it."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import OutOfFrame
from renderers.svg.physics import Figure
from renderers.svg.text import advance
from synth.sampling import NotApplicable, pick

#: group -> taxa (English, Chinese). The trees are random, so the taxa are placeholders: a random
#: tree over real species (a shark beside a pigeon) would teach a false phylogeny.
TAXA: dict[str, list[tuple[str, str]]] = {
    "species": [(f"Species {c}", f"物种{c}") for c in "ABCDEFGH"],
    "strains": [(f"Strain {i}", f"菌株{i}") for i in range(1, 9)],
    "populations": [(f"Population {c}", f"种群{c}") for c in "PQRSTUVW"],
}
PW, PH = 720, 480  # canvas (SVG units)
PX0, STUB, PXL, PY0, PY1 = 30.0, 50.0, 540.0, 40.0, 440.0  # root stub start, stub, leaves' x, leaf rows
HEIGHT_FONT, TAXON_FONT = 14.0, 17.0
STROKE = "#222222"

Tree = Any  # a leaf id (str), or {"h": height, "c": [child, child]}


def upgma(ids: list[str], d: np.ndarray) -> Tree:
    """UPGMA: repeatedly join the two closest clusters at half their distance; the new cluster's
    distance to the others is the size-weighted mean. Ties go to the first pair in input order."""
    clusters: list[tuple[Tree, int]] = [(i, 1) for i in ids]
    dist = np.array(d, dtype=float)
    while len(clusters) > 1:
        n = len(clusters)
        i, j = min(((a, b) for a in range(n) for b in range(a + 1, n)), key=lambda p: dist[p])
        (ti, si), (tj, sj) = clusters[i], clusters[j]
        h = dist[i, j] / 2
        merged = ({"h": float(h), "c": [ti, tj]}, si + sj)
        row = (si * dist[i] + sj * dist[j]) / (si + sj)
        keep = [k for k in range(n) if k not in (i, j)]
        dist = np.vstack([np.hstack([dist[np.ix_(keep, keep)], row[keep, None]]), np.append(row[keep], 0)])
        clusters = [clusters[k] for k in keep] + [merged]
    return clusters[0][0]


def neighbour_joining(ids: list[str], d: np.ndarray) -> list[tuple[str, str, float]]:
    """Neighbour joining (Saitou and Nei): the unrooted tree as edges (node, node, length); inner
    nodes are named ``u0``, ``u1``, ... in the order they are made."""
    names = list(ids)
    dist = np.array(d, dtype=float)
    edges: list[tuple[str, str, float]] = []
    k = 0
    while len(names) > 2:
        n = len(names)
        r = dist.sum(axis=1)
        q = (n - 2) * dist - r[:, None] - r[None, :]
        np.fill_diagonal(q, np.inf)
        i, j = np.unravel_index(int(np.argmin(q)), q.shape)
        i, j = min(i, j), max(i, j)
        li = 0.5 * dist[i, j] + (r[i] - r[j]) / (2 * (n - 2))
        lj = dist[i, j] - li
        u = f"u{k}"
        k += 1
        edges += [(names[i], u, float(li)), (names[j], u, float(lj))]
        du = 0.5 * (dist[i] + dist[j] - dist[i, j])
        keep = [x for x in range(n) if x not in (i, j)]
        dist = np.vstack([np.hstack([dist[np.ix_(keep, keep)], du[keep, None]]), np.append(du[keep], 0)])
        names = [names[x] for x in keep] + [u]
    edges.append((names[0], names[1], float(dist[0, 1])))
    return edges


def splits(edges: list[tuple[str, str, float]], leaves: set[str]) -> set[frozenset[str]]:
    """The non-trivial splits of an unrooted tree, each as the side without the smallest leaf."""
    adj: dict[str, list[str]] = {}
    for a, b, _ in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    out = set()
    first = min(leaves)
    for a, b, _ in edges:
        side, stack, seen = set(), [b], {a, b}
        while stack:
            x = stack.pop()
            if x in leaves:
                side.add(x)
            for y in adj[x]:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        if first in side:
            side = leaves - side
        if 1 < len(side) < len(leaves) - 1:
            out.add(frozenset(side))
    return out


def leaves_of(t: Tree) -> list[str]:
    return [t] if isinstance(t, str) else [x for c in t["c"] for x in leaves_of(c)]


def clades(t: Tree) -> dict[frozenset[str], float]:
    """Each inner node's set of leaves -> its height."""
    if isinstance(t, str):
        return {}
    out = {frozenset(leaves_of(t)): t["h"]}
    for c in t["c"]:
        out.update(clades(c))
    return out


def cophenetic(ids: list[str], t: Tree) -> list[list[int]]:
    """Distances between leaves: twice the height of their most recent common ancestor."""
    cl = clades(t)
    n = len(ids)
    out = [[0] * n for _ in range(n)]
    for a, b in itertools.combinations(range(n), 2):
        h = min(h for c, h in cl.items() if ids[a] in c and ids[b] in c)
        out[a][b] = out[b][a] = int(round(2 * h))
    return out


def tree_splits(t: Tree, leaves: set[str]) -> set[frozenset[str]]:
    """The rooted tree's clades as unrooted splits (for comparing with neighbour joining)."""
    first = min(leaves)
    out = set()
    for c in clades(t):
        side = leaves - c if first in c else set(c)
        if 1 < len(side) < len(leaves) - 1:
            out.add(frozenset(side))
    return out


def _ordered(t: Tree, rank: dict[str, int]) -> Tree:
    """Children sorted by their smallest leaf rank: a taxon added later (higher rank) never
    reorders the others."""
    if isinstance(t, str):
        return t
    kids = sorted((_ordered(c, rank) for c in t["c"]), key=lambda c: min(rank[x] for x in leaves_of(c)))
    return {"h": t["h"], "c": kids}


def _key(t: Tree) -> str:
    return "_".join(sorted(leaves_of(t)))


def _random_tree(rng: np.random.Generator, ids: list[str]) -> Tree:
    """Join random pairs of clusters at heights rising by 3 to 8 each time (ultrametric)."""
    pool: list[Tree] = list(ids)
    h = 0
    while len(pool) > 1:
        h += int(rng.integers(3, 9))
        i, j = sorted(rng.choice(len(pool), 2, replace=False).tolist())
        node = {"h": float(h), "c": [pool[i], pool[j]]}
        pool = [p for k, p in enumerate(pool) if k not in (i, j)] + [node]
    return pool[0]


def _num(h: float) -> str:
    return f"{h:g}"


def _branches(
    t: Tree, parent_x: float, ys: dict[str, float], scale: float, els: list[dict]
) -> tuple[float, float]:
    """The elements of a subtree (its incoming branch, its vertical bar and height label), added
    to ``els``; returns the subtree's (x, y)."""
    if isinstance(t, str):
        x, y = PXL, ys[t]
    else:
        x = PXL - t["h"] * scale
        kids = [_branches(c, x, ys, scale, els) for c in t["c"]]
        y = (kids[0][1] + kids[-1][1]) / 2
        bar = [[round(x, 2), round(kids[0][1], 2)], [round(x, 2), round(kids[-1][1], 2)]]
        els.append({"id": f"vt-{_key(t)}", "type": "path", "points": bar, "width": 2.5})
        if x - parent_x < advance(_num(t["h"]), HEIGHT_FONT) + 12:
            raise OutOfFrame("a branch is too short for its height label")
        els.append(
            {
                "id": f"ht-{_key(t)}",
                "type": "label",
                "x": round(x - 5, 2),
                "y": round(y - 7, 2),
                "text": _num(t["h"]),
                "size": HEIGHT_FONT,
                "anchor": "end",
                "color": "#1f4e79",
            }
        )
    branch = [[round(parent_x, 2), round(y, 2)], [round(x, 2), round(y, 2)]]
    els.append({"id": f"br-{_key(t)}", "type": "path", "points": branch, "width": 2.5})
    return x, y


class Phylogeny(Kind):
    name = "phylogeny"
    edits = ("add_taxon", "remove_taxon", "rename_taxon")

    def sample_for(self, rng, op):
        return self.sample(
            rng, 4 if op == "add_taxon" else 5 if op == "remove_taxon" else 4, 6 if op == "add_taxon" else 7
        )

    def sample(self, rng, lo: int = 4, hi: int = 7):  # type: ignore[override]
        group = pick(rng, sorted(TAXA))
        n = int(rng.integers(lo, hi + 1))
        idx = sorted(rng.choice(len(TAXA[group]), n, replace=False).tolist())
        ids = [f"t{i}" for i in idx]
        truth = _random_tree(rng, ids)
        matrix = cophenetic(ids, truth)
        tree = upgma(ids, np.array(matrix))
        return {
            "kind": self.name,
            "group": group,
            "ids": ids,
            "names": {f"t{i}": TAXA[group][i][0] for i in idx},
            "matrix": matrix,
            "tree": tree,
        }

    @staticmethod
    def _zh(s: dict, tid: str) -> str:
        en = s["names"][tid]
        return next((z for e, z in TAXA[s["group"]] if e == en), en)

    def draw(self, structures):
        big = max(structures, key=lambda s: len(s["ids"]))
        rank = {t: int(t[1:]) for s in structures for t in s["ids"]}
        order = leaves_of(_ordered(big["tree"], rank))
        pitch = (PY1 - PY0) / (len(order) - 1)
        ys = {t: PY0 + i * pitch for i, t in enumerate(order)}
        top = max(s["tree"]["h"] for s in structures)
        scale = (PXL - PX0 - STUB) / top
        figs = []
        for s in structures:
            els: list[dict] = []
            _branches(_ordered(s["tree"], rank), PX0, ys, scale, els)
            for t in s["ids"]:
                els.append(
                    {
                        "id": f"tx-{t}",
                        "type": "label",
                        "x": PXL + 8,
                        "y": round(ys[t] + 6, 2),
                        "text": s["names"][t],
                        "size": TAXON_FONT,
                        "anchor": "start",
                        "color": STROKE,
                    }
                )
            figs.append(Figure({"canvas": [PW, PH], "elements": sorted(els, key=lambda e: e["id"])}))
        return figs

    def verify(self, structures, drawings):
        """The drawn tree is what UPGMA rebuilds from the matrix; neighbour joining on the same
        matrix finds the same splits (an ultrametric matrix is additive)."""
        for s in structures:
            d = np.array(s["matrix"])
            if clades(upgma(s["ids"], d)) != clades(s["tree"]):
                return "the tree is not the UPGMA tree of its matrix"
            leaves = set(s["ids"])
            if splits(neighbour_joining(s["ids"], d), leaves) != tree_splits(s["tree"], leaves):
                return "neighbour joining disagrees with UPGMA on the splits"
        return None

    def describe(self, s):
        def newick(t: Tree, zh: bool) -> str:
            if isinstance(t, str):
                return self._zh(s, t) if zh else s["names"][t]
            return "(" + ", ".join(newick(c, zh) for c in t["c"]) + f"):{_num(t['h'])}"

        return Text2(
            f"A rooted phylogenetic tree drawn as a rectangular phylogram, root on the left and taxa "
            f"{seq(s['names'][t] for t in s['ids'])} aligned on the right; it is the UPGMA tree of their distance "
            f"matrix, and each ancestor's height is printed on its branch. Structure with heights: {newick(s['tree'], False)}.",
            f"一棵有根系统发育树，画成矩形分支图，根在左侧，类群 {'、'.join(self._zh(s, t) for t in s['ids'])} 在右侧对齐；"
            f"它是由距离矩阵用 UPGMA 法构建的树，每个祖先节点的高度标在其分支上。结构与高度：{newick(s['tree'], True)}。",
        )

    def propose(self, rng, op, s):
        group = TAXA[s["group"]]
        if op == "rename_taxon":
            tid = pick(rng, s["ids"])
            used = set(s["names"].values())
            new = pick(rng, [e for e, _ in group if e not in used])
            return {"op": op, "taxon": tid, "old": s["names"][tid], "name": new}
        if op == "remove_taxon":
            if len(s["ids"]) < 5:
                raise NotApplicable("too few taxa to remove one")
            tid = pick(rng, s["ids"])
            return {"op": op, "taxon": tid, "name": s["names"][tid]}
        if len(s["ids"]) >= 7:
            raise NotApplicable("seven taxa already")
        free = [i for i in range(len(group)) if f"t{i}" not in s["ids"]]
        i = max(free)  # the highest rank: no other taxon changes place in the leaf order
        branches = []

        def walk(t: Tree, parent_h: float) -> None:
            h = 0.0 if isinstance(t, str) else t["h"]
            if parent_h - h >= 6:
                branches.append((t, h, parent_h))
            if not isinstance(t, str):
                for c in t["c"]:
                    walk(c, h)

        for c in s["tree"]["c"]:
            walk(c, s["tree"]["h"])
        t, lo, hi = pick(rng, branches) if branches else pick(rng, [])
        h = int(rng.integers(int(lo) + 3, int(hi) - 2))
        sister = sorted(leaves_of(t))
        return {
            "op": op,
            "taxon": f"t{i}",
            "name": group[i][0],
            "name_zh": group[i][1],
            "sister": sister,
            "sister_names": [s["names"][x] for x in sister],
            "sister_zh": [self._zh(s, x) for x in sister],
            "height": h,
        }

    def apply(self, s, edit):
        op, tid = edit["op"], edit["taxon"]
        if op == "rename_taxon":
            return {**s, "names": {**s["names"], tid: edit["name"]}}
        ids, m = list(s["ids"]), [list(r) for r in s["matrix"]]
        if op == "remove_taxon":
            k = ids.index(tid)
            ids.pop(k)
            m = [[v for j, v in enumerate(r) if j != k] for i, r in enumerate(m) if i != k]
            names = {k2: v for k2, v in s["names"].items() if k2 != tid}
        else:  # the new taxon's distances: 2 x its join height to the sister clade, else the sister's
            ref = ids.index(edit["sister"][0])
            row = [2 * edit["height"] if t in edit["sister"] else m[ref][j] for j, t in enumerate(ids)]
            m = [r + [row[i]] for i, r in enumerate(m)] + [[*row, 0]]
            ids.append(tid)
            names = {**s["names"], tid: edit["name"]}
        order = sorted(range(len(ids)), key=lambda j: int(ids[j][1:]))
        ids = [ids[j] for j in order]
        m = [[m[a][b] for b in order] for a in order]
        return {**s, "ids": ids, "names": names, "matrix": m, "tree": upgma(ids, np.array(m, dtype=float))}

    def check(self, source, target, edit):
        op, tid = edit["op"], edit["taxon"]
        ca, cb = clades(source["tree"]), clades(target["tree"])
        if op == "rename_taxon":
            if cb != ca or target["names"][tid] != edit["name"]:
                return "the tree changed beyond the name"
            others = {k: v for k, v in source["names"].items() if k != tid}
            return None if all(target["names"][k] == v for k, v in others.items()) else "another name changed"
        if op == "remove_taxon":
            parent = min((c for c in ca if tid in c), key=len)
            want = {c - {tid}: h for c, h in ca.items() if c != parent and len(c - {tid}) > 1}
            if set(target["ids"]) != set(source["ids"]) - {tid}:
                return "the taxa differ from the instruction"
        else:
            sister = frozenset(edit["sister"])
            want = {(c | {tid} if sister < c else c): h for c, h in ca.items()}
            want[sister | {tid}] = float(edit["height"])
            if set(target["ids"]) != set(source["ids"]) | {tid}:
                return "the taxa differ from the instruction"
        if cb != want:
            return "the rebuilt tree's clades differ from the instruction"
        return None

    def scope(self, source, target, edit):
        if edit["op"] == "rename_taxon":
            return {f"tx-{edit['taxon']}"}
        tid = edit["taxon"]
        with_it = source if edit["op"] == "remove_taxon" else target
        t = with_it["tree"]
        ids = {f"tx-{tid}", f"br-{tid}"}
        parent = min((c for c in clades(t) if tid in c), key=len)
        sister = sorted(parent - {tid})
        ids.add("br-" + "_".join(sister))
        for c in clades(t):
            if tid in c:
                k = "_".join(sorted(c))
                ids |= {f"br-{k}", f"vt-{k}", f"ht-{k}"}
                k2 = "_".join(sorted(c - {tid}))
                ids |= {f"br-{k2}", f"vt-{k2}", f"ht-{k2}"}
        return ids

    def instruct(self, edit):
        op = edit["op"]
        if op == "rename_taxon":
            return Text2(
                f"Rename the taxon {edit['old']} to {edit['name']}.",
                f"把类群 {edit['old']} 改名为 {edit['name']}。",
            )
        if op == "remove_taxon":
            return Text2(
                f"Remove {edit['name']} from the distance matrix and redraw the UPGMA tree.",
                f"从距离矩阵中删去 {edit['name']}，并重新绘制 UPGMA 树。",
            )
        d = 2 * edit["height"]
        return Text2(
            f"Add the taxon {edit['name']} at distance {d} from {seq(edit['sister_names'], ' and ')} (its closest "
            f"relatives) to the distance matrix, and redraw the UPGMA tree.",
            f"在距离矩阵中加入类群 {edit['name']}（{edit['name_zh']}），它与{'和'.join(edit['sister_zh'])}（其最近亲缘类群）"
            f"的距离为 {d}，并重新绘制 UPGMA 树。",
        )

    def ask(self, rng, s):
        names, tree = s["names"], s["tree"]
        cl = clades(tree)
        q = pick(rng, ["closest", "height", "sister"])
        if q == "closest":
            pair = min((c for c in cl if len(c) == 2), key=lambda c: cl[c])
            a, b = sorted(names[t] for t in pair)
            return Question(
                Text2(
                    "Which two taxa in this tree are most closely related?",
                    "这棵树中哪两个类群亲缘关系最近？",
                ),
                f"{a}, {b}",
                f"They share the lowest common ancestor, at height {_num(cl[pair])}.",
            )
        if q == "height":
            a, b = sorted(rng.choice(s["ids"], 2, replace=False).tolist())
            h = min(h for c, h in cl.items() if a in c and b in c)
            return Question(
                Text2(
                    f"What is the height of the most recent common ancestor of {names[a]} and {names[b]}, and the "
                    f"distance between them along the tree?",
                    f"{self._zh(s, a)}和{self._zh(s, b)}的最近共同祖先的高度是多少？二者沿树的距离是多少？",
                ),
                f"height {_num(h)}, distance {_num(2 * h)}",
            )
        tid = pick(rng, s["ids"])
        parent = min((c for c in cl if tid in c), key=len)
        sister = sorted(names[t] for t in parent - {tid})
        return Question(
            Text2(
                f"What is the sister group of {names[tid]} in this tree?",
                f"在这棵树中，{self._zh(s, tid)}的姐妹群是什么？",
            ),
            seq(sister),
        )
