"""Field figures: point charges with their electric field lines, a bar magnet with its field
lines and an optional compass. Field lines are traced numerically from the charges (or poles), so
every line in a figure follows the field the spec describes."""

from __future__ import annotations

import math

from pipelines.diagram.kind import Question, Text2
from pipelines.physics.kinds.common import H, PhysicsKind, W, label
from synth.sampling import NotApplicable, pick

STEP, MAX_STEPS, STOP = 5.0, 300, 16.0


def field(sources: list[tuple[float, float, float]], x: float, y: float) -> tuple[float, float]:
    ex = ey = 0.0
    for sx, sy, q in sources:
        dx, dy = x - sx, y - sy
        r3 = max((dx * dx + dy * dy) ** 1.5, 1e-6)
        ex += q * dx / r3
        ey += q * dy / r3
    return ex, ey


def trace(sources, start: tuple[float, float], sign: float) -> list[list[float]]:
    """A field line from ``start``, along the field (sign 1) or against it (-1), by midpoint steps,
    until it leaves the canvas or reaches another source."""
    x, y = start
    pts = [[round(x, 1), round(y, 1)]]
    for _ in range(MAX_STEPS):
        ex, ey = field(sources, x, y)
        n = math.hypot(ex, ey) or 1.0
        mx, my = x + sign * STEP / 2 * ex / n, y + sign * STEP / 2 * ey / n
        ex, ey = field(sources, mx, my)
        n = math.hypot(ex, ey) or 1.0
        x, y = x + sign * STEP * ex / n, y + sign * STEP * ey / n
        pts.append([round(x, 1), round(y, 1)])
        if not (-10 < x < W + 10 and -10 < y < H + 10):
            break
        if any(math.hypot(x - sx, y - sy) < STOP for sx, sy, _ in sources):
            break
    return pts if sign > 0 else pts[::-1]


def lines(sources, per_source: int = 10) -> list[list[list[float]]]:
    """Lines leaving every positive source (or entering every negative one when none is positive)."""
    positive = [s for s in sources if s[2] > 0]
    starts = positive or [s for s in sources if s[2] < 0]
    sign = 1.0 if positive else -1.0
    out = []
    for sx, sy, _ in starts:
        for k in range(per_source):
            a = 2 * math.pi * (k + 0.5) / per_source
            out.append(trace(sources, (sx + 20 * math.cos(a), sy + 20 * math.sin(a)), sign))
    return out


class Charges(PhysicsKind):
    name, topic = "charges", "fields"
    edits = ("flip_charge", "add_component", "move_object")
    changes = {"flip_charge": ("charges",), "add_component": ("charges",), "move_object": ("charges",)}

    def sample(self, rng):
        n = int(rng.integers(1, 3))
        spots = [(200, 240), (440, 240), (320, 130), (320, 360)]
        chosen = rng.choice(len(spots), n, replace=False)
        return {
            "kind": self.name,
            "charges": [
                {"id": f"q{i + 1}", "x": spots[c][0], "y": spots[c][1], "q": int(pick(rng, [-2, -1, 1, 2]))}
                for i, c in enumerate(sorted(chosen))
            ],
        }

    def layout(self, models):
        out = []
        for m in models:
            sources = [(c["x"], c["y"], c["q"]) for c in m["charges"]]
            els = [
                {"id": f"line{k}", "type": "field_line", "points": p} for k, p in enumerate(lines(sources))
            ]
            for c in m["charges"]:
                els.append({"id": c["id"], "type": "charge", "x": c["x"], "y": c["y"], "sign": c["q"]})
                els.append(
                    label(
                        f"{c['id']}_label",
                        c["x"] + 24,
                        c["y"] - 26,
                        f"{c['id']} = {c['q']:+d} nC",
                        16,
                        "start",
                    )
                    | {"box": True}
                )
            out.append(els)
        return out

    def describe(self, s):
        desc = "; ".join(f"{c['id']} = {c['q']:+d} nC" for c in s["charges"])
        return Text2(
            f"Electric field lines of point charges {desc}: lines leave positive charges and end on negative ones.",
            f"点电荷 {desc} 的电场线：电场线从正电荷出发，终止于负电荷。",
        )

    def propose(self, rng, op, s):
        charges = s["charges"]
        if op == "flip_charge":
            c = pick(rng, [c["id"] for c in charges])
            return {
                "op": op,
                "charge": c,
                "set": {"charges": [{**x, "q": -x["q"]} if x["id"] == c else x for x in charges]},
            }
        spots = [(200, 240), (440, 240), (320, 130), (320, 360)]
        free = [p for p in spots if all((p[0], p[1]) != (c["x"], c["y"]) for c in charges)]
        if op == "add_component":
            if len(charges) >= 3:
                raise NotApplicable("three charges already")
            x, y = pick(rng, free)
            new = {
                "id": f"q{len(charges) + 1}",
                "x": int(x),
                "y": int(y),
                "q": int(pick(rng, [-2, -1, 1, 2])),
            }
            return {"op": op, "charge": new["id"], "set": {"charges": [*charges, new]}}
        c = pick(rng, [c["id"] for c in charges])
        x, y = pick(rng, free)
        return {
            "op": op,
            "charge": c,
            "to": [int(x), int(y)],
            "set": {"charges": [{**q, "x": int(x), "y": int(y)} if q["id"] == c else q for q in charges]},
        }

    def check_values(self, source, target, edit):
        a = {c["id"]: c for c in source["charges"]}
        b = {c["id"]: c for c in target["charges"]}
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if changed != {edit["charge"]}:
            return f"charges {sorted(changed)} changed, the instruction names {edit['charge']}"
        return None

    def instruct(self, edit):
        c = next(x for x in edit["set"]["charges"] if x["id"] == edit["charge"])
        if edit["op"] == "flip_charge":
            return Text2(
                f"Flip the sign of {c['id']} to {c['q']:+d} nC and redraw the field lines.",
                f"把 {c['id']} 的电荷改为 {c['q']:+d} nC，并重画电场线。",
            )
        if edit["op"] == "add_component":
            return Text2(
                f"Add a charge {c['id']} = {c['q']:+d} nC at ({c['x']}, {c['y']}) and redraw the field lines.",
                f"在 ({c['x']}, {c['y']}) 处添加电荷 {c['id']} = {c['q']:+d} nC，并重画电场线。",
            )
        return Text2(
            f"Move {c['id']} to ({c['x']}, {c['y']}) and redraw the field lines.",
            f"把 {c['id']} 移到 ({c['x']}, {c['y']})，并重画电场线。",
        )

    def ask(self, rng, s):
        cs = s["charges"]
        if len(cs) >= 2:
            a, b = cs[0], cs[1]
            return Question(
                Text2(
                    f"Do {a['id']} and {b['id']} attract or repel each other?",
                    f"{a['id']} 和 {b['id']} 相互吸引还是排斥？",
                ),
                "attract" if a["q"] * b["q"] < 0 else "repel",
            )
        return Question(
            Text2(
                f"Do the field lines point away from {cs[0]['id']} or toward it?",
                f"电场线是背离 {cs[0]['id']} 还是指向它？",
            ),
            "away" if cs[0]["q"] > 0 else "toward",
        )


class Magnet(PhysicsKind):
    name, topic = "magnet", "fields"
    edits = ("flip_poles", "add_component")
    changes = {"flip_poles": ("north_left",), "add_component": ("compass",)}

    def sample(self, rng):
        return {"kind": self.name, "north_left": bool(rng.random() < 0.5), "compass": None}

    @staticmethod
    def poles(m) -> list[tuple[float, float, float]]:
        n = 1.0 if m["north_left"] else -1.0
        return [(250.0, 240.0, n), (390.0, 240.0, -n)]

    def layout(self, models):
        out = []
        for m in models:
            sources = self.poles(m)
            els = [
                {"id": f"line{k}", "type": "field_line", "points": p}
                for k, p in enumerate(lines(sources, 12))
            ]
            els.append(
                {
                    "id": "magnet",
                    "type": "magnet",
                    "x": 320,
                    "y": 240,
                    "w": 200,
                    "h": 50,
                    "north_left": m["north_left"],
                }
            )
            if m["compass"]:
                x, y = m["compass"]
                bx, by = field(sources, x, y)
                n = math.hypot(bx, by)
                els.append(
                    {
                        "id": "compass",
                        "type": "compass",
                        "x": x,
                        "y": y,
                        "ux": round(bx / n, 4),
                        "uy": round(by / n, 4),
                    }
                )
            out.append(els)
        return out

    def describe(self, s):
        left = "N" if s["north_left"] else "S"
        right = "S" if s["north_left"] else "N"
        return Text2(
            f"A bar magnet, {left} pole on the left and {right} pole on the right, with magnetic field lines running from N to S outside it.",
            f"一根条形磁铁，左端为 {left} 极，右端为 {right} 极，磁感线在磁铁外部从 N 极指向 S 极。",
        )

    def propose(self, rng, op, s):
        if op == "flip_poles":
            return {"op": op, "set": {"north_left": not s["north_left"]}}
        if s["compass"]:
            raise NotApplicable("compass already there")
        return {
            "op": op,
            "set": {"compass": [int(pick(rng, [120, 200, 320, 440, 520])), int(pick(rng, [90, 390]))]},
        }

    def instruct(self, edit):
        if edit["op"] == "flip_poles":
            return Text2(
                "Swap the magnet's poles and reverse the field lines.", "交换磁铁的两极，并反转磁感线方向。"
            )
        x, y = edit["set"]["compass"]
        return Text2(
            f"Place a compass at ({x}, {y}) with its needle along the field there.",
            f"在 ({x}, {y}) 处放一个指南针，指针沿该处磁场方向。",
        )

    def ask(self, rng, s):
        return Question(
            Text2("Which pole of the magnet is on the left?", "磁铁左端是哪个磁极？"),
            "N" if s["north_left"] else "S",
        )
