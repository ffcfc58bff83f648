"""Food webs with computed trophic levels, and phylogenetic trees rebuilt from distance matrices.

Food web: species of one ecosystem on fixed rows (producers at the bottom) and fixed slots, so an
edit (a species or a link added or removed) moves nothing else; arrows point from prey to
predator, the direction energy flows. A species' trophic level is 1 for a producer and otherwise
1 + the highest level among its prey (the longest food chain below it).

Phylogeny: an ultrametric tree (integer node heights) is drawn at random, its matrix of pairwise
distances derived (twice the height of the common ancestor), and the drawn tree is the one UPGMA
rebuilds from that matrix; neighbour joining on the same matrix must find the same splits. The
tree is a rectangular phylogram with the height of each ancestor printed on its incoming branch;
leaf slots are shared by both images of a pair, so adding or removing a taxon changes only the
branches of the clades that contain it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node, OutOfFrame
from renderers.svg.physics import Figure
from renderers.svg.text import advance
from synth.sampling import NotApplicable, pick

# ---------------------------------------------------------------------------------------------
# Food webs

#: ecosystem -> (English, Chinese, species); a species: name -> (Chinese, row, its possible prey).
#: Prey always sit on a lower row than their predator, so every web is acyclic.
ECOSYSTEMS: dict[str, tuple[str, str, dict[str, tuple[str, int, tuple[str, ...]]]]] = {
    "grassland": (
        "grassland",
        "草原",
        {
            "grass": ("草", 0, ()),
            "clover": ("三叶草", 0, ()),
            "shrub": ("灌木", 0, ()),
            "rabbit": ("兔", 1, ("grass", "clover")),
            "grasshopper": ("蚱蜢", 1, ("grass", "clover")),
            "mouse": ("鼠", 1, ("grass", "shrub")),
            "deer": ("鹿", 1, ("grass", "shrub", "clover")),
            "frog": ("青蛙", 2, ("grasshopper",)),
            "sparrow": ("麻雀", 2, ("grasshopper", "grass")),
            "snake": ("蛇", 2, ("mouse", "rabbit")),
            "fox": ("狐狸", 2, ("rabbit", "mouse")),
            "hawk": ("鹰", 3, ("snake", "sparrow", "mouse", "rabbit", "frog")),
            "wolf": ("狼", 3, ("deer", "rabbit", "fox")),
        },
    ),
    "ocean": (
        "ocean",
        "海洋",
        {
            "phytoplankton": ("浮游植物", 0, ()),
            "seaweed": ("海藻", 0, ()),
            "kelp": ("海带", 0, ()),
            "zooplankton": ("浮游动物", 1, ("phytoplankton",)),
            "krill": ("磷虾", 1, ("phytoplankton",)),
            "sea urchin": ("海胆", 1, ("seaweed", "kelp")),
            "herring": ("鲱鱼", 2, ("zooplankton", "krill")),
            "squid": ("鱿鱼", 2, ("krill", "zooplankton")),
            "sea otter": ("海獭", 2, ("sea urchin",)),
            "mackerel": ("鲭鱼", 2, ("zooplankton", "krill")),
            "seal": ("海豹", 3, ("herring", "squid", "mackerel")),
            "shark": ("鲨鱼", 3, ("herring", "squid", "mackerel", "sea otter")),
        },
    ),
    "forest": (
        "forest",
        "森林",
        {
            "oak": ("橡树", 0, ()),
            "pine": ("松树", 0, ()),
            "fern": ("蕨类", 0, ()),
            "caterpillar": ("毛虫", 1, ("oak",)),
            "squirrel": ("松鼠", 1, ("oak", "pine")),
            "deer": ("鹿", 1, ("fern", "oak")),
            "beetle": ("甲虫", 1, ("pine", "fern")),
            "robin": ("知更鸟", 2, ("caterpillar", "beetle")),
            "shrew": ("鼩鼱", 2, ("beetle", "caterpillar")),
            "weasel": ("黄鼠狼", 2, ("squirrel",)),
            "owl": ("猫头鹰", 3, ("robin", "shrew", "squirrel", "weasel")),
            "wolf": ("狼", 3, ("deer", "weasel")),
        },
    ),
    "pond": (
        "pond",
        "池塘",
        {
            "algae": ("藻类", 0, ()),
            "duckweed": ("浮萍", 0, ()),
            "pondweed": ("眼子菜", 0, ()),
            "water flea": ("水蚤", 1, ("algae",)),
            "snail": ("螺", 1, ("algae", "pondweed")),
            "tadpole": ("蝌蚪", 1, ("algae", "duckweed")),
            "minnow": ("鲦鱼", 2, ("water flea", "tadpole")),
            "water beetle": ("龙虱", 2, ("tadpole", "water flea")),
            "duck": ("鸭", 2, ("duckweed", "snail")),
            "heron": ("苍鹭", 3, ("minnow", "water beetle", "tadpole")),
            "pike": ("狗鱼", 3, ("minnow", "duck")),
        },
    ),
}
ROW_ZH = ("生产者", "初级消费者", "次级消费者", "三级消费者")
ROW_FILL = ("#d9ead3", "#fff2cc", "#fce5cd", "#f4cccc")
SLOTS, WX, WY, WM = 4, 150.0, 110.0, 60.0  # slots per row, their spacing, the margin (points)
NODE_H = 0.42  # inches


def trophic_levels(species: list[str], links: list[list[str]]) -> dict[str, int]:
    """Level 1 for a producer (no prey), else 1 + the highest level among its prey."""
    prey = {s: [a for a, b in links if b == s] for s in species}
    memo: dict[str, int] = {}

    def level(s: str) -> int:
        if s not in memo:
            memo[s] = 1 + max((level(p) for p in prey[s]), default=0)
        return memo[s]

    return {s: level(s) for s in species}


def food_chains(species: list[str], links: list[list[str]]) -> int:
    """Paths from a producer (no prey) to a top predator (no predator), counted over the DAG."""
    prey = {s: [a for a, b in links if b == s] for s in species}
    eaten = {a for a, _ in links}
    memo: dict[str, int] = {}

    def paths(s: str) -> int:  # chains from a producer up to s
        if s not in memo:
            memo[s] = 1 if not prey[s] else sum(paths(p) for p in prey[s])
        return memo[s]

    return sum(paths(s) for s in species if s not in eaten and prey[s])


def starved(species: list[str], links: list[list[str]], removed: str) -> list[str]:
    """Consumers whose only food is ``removed``."""
    return sorted(s for s in species if s != removed and {a for a, b in links if b == s} == {removed})


def _web_xy(row: int, slot: int) -> tuple[float, float]:
    return WM + (slot + 0.5 * (row % 2)) * WX, WM + row * WY


def _node_w(name: str) -> float:
    """Box width in inches: the name at 14 pt and some room."""
    return round((advance(name, 14) + 20) / 72, 3)


def _link_clear(slots: dict[str, list[int]], a: str, b: str) -> bool:
    """Whether the straight arrow a -> b passes clear of every other species' box."""
    pa, pb = np.array(_web_xy(*slots[a])), np.array(_web_xy(*slots[b]))
    ts = np.linspace(0, 1, 80)[:, None]
    pts = pa + ts * (pb - pa)
    for s, rs in slots.items():
        if s in (a, b):
            continue
        c = np.array(_web_xy(*rs))
        hw, hh = _node_w(s) * 36 + 8, NODE_H * 36 + 8
        if ((np.abs(pts[:, 0] - c[0]) < hw) & (np.abs(pts[:, 1] - c[1]) < hh)).any():
            return False
    return True


def _eid(a: str, b: str) -> str:
    return "l-" + f"{a}-{b}".replace(" ", "_")


def _nid(s: str) -> str:
    return "s-" + s.replace(" ", "_")


class FoodWeb(Kind):
    name = "food_web"
    edits = ("add_species", "remove_link", "add_link")

    def sample(self, rng):
        """A web of at least five linked species (drawn again until it has them: the stages
        expect ``sample`` to succeed)."""
        while True:
            try:
                return self._sample(rng)
            except NotApplicable:
                continue

    def _sample(self, rng):
        eco = pick(rng, sorted(ECOSYSTEMS))
        catalogue = ECOSYSTEMS[eco][2]
        rows = [[s for s, v in catalogue.items() if v[1] == r] for r in range(4)]
        counts = [int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(1, 3)), 1]
        chosen = [
            sorted(rng.choice(rows[r], min(counts[r], len(rows[r])), replace=False).tolist())
            for r in range(4)
        ]
        slots: dict[str, list[int]] = {}
        for r, names in enumerate(chosen):
            for name, slot in zip(
                names, sorted(rng.choice(SLOTS, len(names), replace=False).tolist()), strict=True
            ):
                slots[name] = [r, int(slot)]
        links: list[list[str]] = []
        for r in range(1, 4):  # bottom-up: a consumer stays only if it has prey left
            for s in chosen[r]:
                prey = [p for p in catalogue[s][2] if p in slots and _link_clear(slots, p, s)]
                if not prey:
                    del slots[s]
                    continue
                keep = [p for p in prey if rng.random() < 0.7] or [prey[int(rng.integers(len(prey)))]]
                links += [[p, s] for p in keep]  # some links left out: room for an added one
        links = [[a, b] for a, b in links if a in slots and b in slots]
        eaten = {a for a, _ in links}
        species = sorted(s for s in slots if s in eaten or any(b == s for _, b in links))
        if len(species) < 5:
            raise NotApplicable("too few species linked")
        return {
            "kind": self.name,
            "ecosystem": eco,
            "species": species,
            "slots": {s: slots[s] for s in species},
            "links": sorted(links),
        }

    def draw(self, structures):
        out = []
        for s in structures:
            cat = ECOSYSTEMS[s["ecosystem"]][2]
            nodes = tuple(
                Node(
                    _nid(n),
                    n,
                    *_web_xy(*s["slots"][n]),
                    {
                        "shape": "box",
                        "style": "filled,rounded",
                        "fillcolor": ROW_FILL[cat[n][1]],
                        "width": _node_w(n),
                        "height": NODE_H,
                    },
                )
                for n in s["species"]
            )
            edges = tuple(
                Edge(_eid(a, b), _nid(a), _nid(b), attrs={"color": "#444444"}) for a, b in s["links"]
            )
            frame = (2 * WM + (SLOTS - 0.5) * WX, 2 * WM + 3 * WY)
            out.append(Drawing(nodes, edges, directed=True, frame=frame))
        return out

    def describe(self, s):
        eco = ECOSYSTEMS[s["ecosystem"]]
        links = "; ".join(f"{a} -> {b}" for a, b in s["links"])
        links_zh = "；".join(f"{eco[2][a][0]} → {eco[2][b][0]}" for a, b in s["links"])
        names_zh = "、".join(eco[2][n][0] for n in s["species"])
        return Text2(
            f"{'An' if eco[0][0] in 'aeiou' else 'A'} {eco[0]} food web of {len(s['species'])} species ({seq(s['species'])}) in labelled boxes, "
            f"producers in green at the bottom and consumers above; arrows point from prey to predator "
            f"(the direction energy flows): {links}.",
            f"一张{eco[1]}食物网，共 {len(s['species'])} 个物种（{names_zh}），物种名写在方框中，生产者为绿色、位于底部，"
            f"消费者在上方；箭头由被捕食者指向捕食者（能量流动的方向）：{links_zh}。",
        )

    def propose(self, rng, op, s):
        cat = ECOSYSTEMS[s["ecosystem"]][2]
        present = {tuple(x) for x in s["links"]}
        if op == "add_species":
            used = {tuple(v) for v in s["slots"].values()}
            options = []
            for name in sorted(set(cat) - set(s["species"])):
                row = cat[name][1]
                for slot in range(SLOTS):
                    if (row, slot) in used:
                        continue
                    slots = {**s["slots"], name: [row, slot]}
                    prey = [p for p in cat[name][2] if p in slots and _link_clear(slots, p, name)]
                    preds = [q for q in s["species"] if name in cat[q][2] and _link_clear(slots, name, q)]
                    if prey and row:
                        options.append((name, slot, prey, preds))
            name, slot, prey, preds = options[int(rng.integers(len(options)))] if options else pick(rng, [])
            return {"op": op, "species": name, "slot": [cat[name][1], slot], "prey": prey, "predators": preds}
        if op == "remove_link":
            prey_of = {b: [a for a, bb in s["links"] if bb == b] for _, b in s["links"]}
            a, b = pick(rng, {(a, b) for a, b in present if len(prey_of[b]) > 1})
            return {"op": op, "prey": a, "predator": b}
        free = {
            (p, q)
            for q in s["species"]
            for p in cat[q][2]
            if p in s["species"] and (p, q) not in present and _link_clear(s["slots"], p, q)
        }
        a, b = pick(rng, free)
        return {"op": op, "prey": a, "predator": b}

    def apply(self, s, edit):
        op = edit["op"]
        if op == "add_species":
            n = edit["species"]
            links = [*s["links"], *([p, n] for p in edit["prey"]), *([n, q] for q in edit["predators"])]
            return {
                **s,
                "species": sorted([*s["species"], n]),
                "slots": {**s["slots"], n: edit["slot"]},
                "links": sorted(links),
            }
        pair = [edit["prey"], edit["predator"]]
        if op == "remove_link":
            return {**s, "links": [x for x in s["links"] if x != pair]}
        return {**s, "links": sorted([*s["links"], pair])}

    def check(self, source, target, edit):
        ea, eb = {tuple(x) for x in source["links"]}, {tuple(x) for x in target["links"]}
        op = edit["op"]
        if op == "add_species":
            n = edit["species"]
            want = ea | {(p, n) for p in edit["prey"]} | {(n, q) for q in edit["predators"]}
            if set(target["species"]) != set(source["species"]) | {n}:
                return "the species differ from the instruction"
        elif op == "remove_link":
            want = ea - {(edit["prey"], edit["predator"])}
        else:
            want = ea | {(edit["prey"], edit["predator"])}
        if eb != want or eb == ea:
            return f"links differ from the instruction: {sorted(eb ^ want)}"
        if any(source["slots"][k] != target["slots"][k] for k in source["slots"]):
            return "species moved"
        levels = trophic_levels(target["species"], target["links"])
        cat = ECOSYSTEMS[target["ecosystem"]][2]
        if any(cat[k][1] > 0 and levels[k] == 1 for k in target["species"]):
            return "a consumer is left without food"
        return None

    def scope(self, source, target, edit):
        if edit["op"] == "add_species":
            n = edit["species"]
            return {_nid(n)} | {_eid(p, n) for p in edit["prey"]} | {_eid(n, q) for q in edit["predators"]}
        return {_eid(edit["prey"], edit["predator"])}

    def instruct(self, edit):
        op = edit["op"]
        if op == "add_species":
            n = edit["species"]
            # the Chinese names come from any ecosystem that lists the species
            zh = {k: v[0] for _, _, c in ECOSYSTEMS.values() for k, v in c.items()}
            en = f"Add {n} to the food web, eating {seq(edit['prey'], ' and ')}"
            zh_t = f"在食物网中加入{zh[n]}，它以{'和'.join(zh[p] for p in edit['prey'])}为食"
            if edit["predators"]:
                en += f", and eaten by {seq(edit['predators'], ' and ')}"
                zh_t += f"，并被{'和'.join(zh[q] for q in edit['predators'])}捕食"
            return Text2(en + " (arrows from prey to predator).", zh_t + "（箭头由被捕食者指向捕食者）。")
        zh = {k: v[0] for _, _, c in ECOSYSTEMS.values() for k, v in c.items()}
        a, b = edit["prey"], edit["predator"]
        if op == "remove_link":
            return Text2(
                f"Remove the arrow showing that {b} eats {a}.", f"删除表示{zh[b]}捕食{zh[a]}的箭头。"
            )
        return Text2(
            f"Add an arrow showing that {b} also eats {a} (from prey to predator).",
            f"添加一个箭头，表示{zh[b]}也捕食{zh[a]}（由被捕食者指向捕食者）。",
        )

    def ask(self, rng, s):
        cat = ECOSYSTEMS[s["ecosystem"]][2]
        species, links = s["species"], s["links"]
        q = pick(rng, ["level", "remove", "chains"])
        if q == "level":
            levels = trophic_levels(species, links)
            n = pick(rng, [x for x in species if cat[x][1] > 0])
            chain = [n]
            while levels[chain[-1]] > 1:  # one longest chain below it, for the working
                prey = [a for a, b in links if b == chain[-1]]
                chain.append(max(prey, key=lambda p: (levels[p], p)))
            return Question(
                Text2(
                    f"What is the trophic level of {n} in this food web? Count producers as level 1 and "
                    f"take the longest food chain leading to it.",
                    f"在这个食物网中，{cat[n][0]}处于第几营养级？生产者记为第 1 营养级，按通向它的最长食物链计算。",
                ),
                str(levels[n]),
                f"Longest chain: {' -> '.join(reversed(chain))}, so level {levels[n]}.",
            )
        if q == "remove":
            eaten = sorted({a for a, _ in links})
            with_deps = [x for x in eaten if starved(species, links, x)]
            y = pick(rng, with_deps or eaten)
            lost = starved(species, links, y)
            return Question(
                Text2(
                    f"If {y} were removed from this food web, which species would lose their only food source?",
                    f"如果从这个食物网中移除{cat[y][0]}，哪些物种会失去唯一的食物来源？",
                ),
                seq(lost) if lost else "none",
            )
        n = food_chains(species, links)
        return Question(
            Text2(
                "How many food chains does this web contain, each from a producer to a top predator "
                "(a species nothing in the web eats)?",
                "这个食物网中共有多少条食物链（每条从生产者开始，到不被网中任何物种捕食的最高级消费者为止）？",
            ),
            str(n),
        )


# ---------------------------------------------------------------------------------------------
# Phylogenetic trees

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
