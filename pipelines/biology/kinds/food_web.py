"""Food webs with computed trophic levels.

Species of one ecosystem sit on fixed rows (producers at the bottom) and fixed slots, so an edit
(a species or a link added or removed) moves nothing else; arrows point from prey to predator, the
direction energy flows. A species' trophic level is 1 for a producer and otherwise 1 + the highest
level among its prey (the longest food chain below it)."""

from __future__ import annotations

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node
from renderers.svg.text import advance
from synth.sampling import NotApplicable, pick

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
