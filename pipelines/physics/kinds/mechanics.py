"""Mechanics figures: a block on an incline with its forces, an Atwood machine, a spring and
block, a projectile's trajectory. Models hold the physical quantities; ``layout`` places them."""

from __future__ import annotations

import math

import numpy as np

from pipelines.diagram.kind import Question, Text2
from pipelines.physics.kinds.common import G, PhysicsKind, label, num
from synth.sampling import NotApplicable, pick

FORCE = "#c0392b"


def _force(
    eid: str, x: float, y: float, ux: float, uy: float, length: float, text: str, color: str = FORCE
) -> list[dict]:
    x2, y2 = x + ux * length, y + uy * length
    return [
        {
            "id": eid,
            "type": "force",
            "x1": round(x, 2),
            "y1": round(y, 2),
            "x2": round(x2, 2),
            "y2": round(y2, 2),
            "color": color,
        },
        label(f"{eid}_label", x2 + ux * 26, y2 + uy * 22 + 6, text, 17, color=color),
    ]


class Incline(PhysicsKind):
    name, topic = "incline", "mechanics"
    edits = ("change_value", "flip_force", "add_force", "remove_force", "move_object")
    changes = {
        "change_value": ("mass",),
        "flip_force": ("friction",),
        "add_force": ("applied",),
        "remove_force": ("friction", "applied"),
        "move_object": ("pos",),
    }

    def sample(self, rng):
        return {
            "kind": self.name,
            "mass": int(rng.integers(1, 9)),
            "angle": int(pick(rng, [20, 25, 30, 35])),
            "pos": round(float(rng.uniform(0.3, 0.7)), 2),
            "friction": pick(rng, ["up", "down", None]),
            "applied": None if rng.random() < 0.6 else int(rng.integers(5, 30)),
        }

    def layout(self, models):
        out = []
        for m in models:
            t = math.radians(m["angle"])
            ax, ay, bx = 80.0, 410.0, 560.0
            cy = ay - (bx - ax) * math.tan(t)
            length = (bx - ax) / math.cos(t)
            up = (math.cos(t), -math.sin(t))
            n = (-math.sin(t), -math.cos(t))
            w, h = 76.0, 46.0
            px, py = ax + up[0] * m["pos"] * length, ay + up[1] * m["pos"] * length
            gx, gy = px + n[0] * h / 2, py + n[1] * h / 2
            els = [
                {"id": "ground", "type": "ground", "x1": 40, "x2": 620, "y": ay},
                {"id": "incline", "type": "incline", "points": [[ax, ay], [bx, ay], [bx, round(cy, 2)]]},
                label("mass_label", 40, 40, f"m = {m['mass']} kg", 20, "start"),
                label("angle_label", 40, 70, f"θ = {m['angle']}°", 20, "start"),
                {
                    "id": "block",
                    "type": "block",
                    "x": round(gx, 2),
                    "y": round(gy, 2),
                    "w": w,
                    "h": h,
                    "angle": -m["angle"],
                },
            ]
            els += _force("gravity", gx, gy, 0, 1, 95, f"G = {num(m['mass'] * G)} N")
            els += _force("normal", gx, gy, n[0], n[1], 85, "N")
            if m["friction"]:
                d = up if m["friction"] == "up" else (-up[0], -up[1])
                els += _force(
                    "friction", px + d[0] * w / 2, py + d[1] * w / 2, d[0], d[1], 60, "f", "#7d3c98"
                )
            if m["applied"]:
                els += _force(
                    "applied",
                    gx + up[0] * w / 2,
                    gy + up[1] * w / 2,
                    up[0],
                    up[1],
                    95,
                    f"F = {m['applied']} N",
                    "#1e8449",
                )
            out.append(els)
        return out

    def describe(self, s):
        extra_en, extra_zh = [], []
        if s["friction"]:
            extra_en.append(f"friction f acts {s['friction']} the slope")
            extra_zh.append(f"摩擦力 f 沿斜面{'向上' if s['friction'] == 'up' else '向下'}")
        if s["applied"]:
            extra_en.append(f"a force F = {s['applied']} N pulls it up the slope")
            extra_zh.append(f"拉力 F = {s['applied']} N 沿斜面向上")
        return Text2(
            f"A free-body diagram of a {s['mass']} kg block on an incline at {s['angle']}° to the horizontal: gravity G = {num(s['mass'] * G)} N "
            f"points straight down, the normal force N is perpendicular to the slope"
            + "".join(f"; {x}" for x in extra_en)
            + ".",
            f"受力分析图：质量 {s['mass']} kg 的木块静置于倾角 {s['angle']}° 的斜面上，重力 G = {num(s['mass'] * G)} N 竖直向下，"
            f"支持力 N 垂直于斜面" + "".join(f"，{x}" for x in extra_zh) + "。",
        )

    def propose(self, rng, op, s):
        if op == "change_value":
            return {"op": op, "set": {"mass": pick(rng, set(range(1, 9)) - {s["mass"]})}}
        if op == "flip_force":
            if not s["friction"]:
                raise NotApplicable("no friction to flip")
            return {"op": op, "set": {"friction": "down" if s["friction"] == "up" else "up"}}
        if op == "add_force":
            if s["applied"]:
                raise NotApplicable("already pulled")
            return {"op": op, "set": {"applied": int(rng.integers(5, 30))}}
        if op == "remove_force":
            present = [k for k in ("friction", "applied") if s[k]]
            return {"op": op, "set": {pick(rng, present): None}}
        new = round(float(rng.uniform(0.25, 0.75)), 2)
        if abs(new - s["pos"]) < 0.12:
            raise NotApplicable("too small a move")
        return {"op": op, "set": {"pos": new}}

    def instruct(self, edit):
        (key, value), op = next(iter(edit["set"].items())), edit["op"]
        if op == "change_value":
            return Text2(
                f"Change the block's mass to {value} kg (and its weight accordingly).",
                f"把木块质量改为 {value} kg（重力随之改变）。",
            )
        if op == "flip_force":
            return Text2(
                f"Reverse the friction force so that it points {value} the slope.",
                f"把摩擦力反向，使其沿斜面{'向上' if value == 'up' else '向下'}。",
            )
        if op == "add_force":
            return Text2(
                f"Add a force F = {value} N pulling the block up along the slope.",
                f"添加一个沿斜面向上拉木块的力 F = {value} N。",
            )
        if op == "remove_force":
            name = "friction force f" if key == "friction" else "pulling force F"
            zh = "摩擦力 f" if key == "friction" else "拉力 F"
            return Text2(f"Remove the {name}.", f"去掉{zh}。")
        return Text2(
            f"Slide the block {'up' if value > 0.5 else 'down'} the slope to {round(value * 100)}% of its length, keeping its forces attached.",
            f"把木块沿斜面移到斜面长度的 {round(value * 100)}% 处，受力随木块一起移动。",
        )

    def ask(self, rng, s):
        t = math.radians(s["angle"])
        if rng.random() < 0.5:
            return Question(
                Text2(
                    "What is the component of gravity along the slope, in newtons (g = 9.8 m/s²)?",
                    "重力沿斜面方向的分力是多少牛（g = 9.8 m/s²）？",
                ),
                f"{s['mass'] * G * math.sin(t):.1f} N",
            )
        return Question(
            Text2(
                "What is the component of gravity perpendicular to the slope, in newtons (g = 9.8 m/s²)?",
                "重力垂直于斜面的分力是多少牛（g = 9.8 m/s²）？",
            ),
            f"{s['mass'] * G * math.cos(t):.1f} N",
        )


class Atwood(PhysicsKind):
    name, topic = "pulley", "mechanics"
    edits = ("change_value", "move_object")
    changes = {"change_value": ("m1", "m2"), "move_object": ("y1", "y2")}

    def sample(self, rng):
        m1, m2 = (int(v) for v in rng.choice(np.arange(1, 9), 2, replace=False))
        y1 = int(rng.integers(230, 340))
        return {"kind": self.name, "m1": m1, "m2": m2, "y1": y1, "y2": 600 - y1}

    def layout(self, models):
        out = []
        for m in models:
            els = [
                {"id": "ceiling", "type": "ground", "x1": 240, "x2": 400, "y": 30},
                {"id": "pulley", "type": "pulley", "x": 320, "y": 110, "r": 40},
            ]
            for i, x, side in ((1, 280, "end"), (2, 360, "start")):
                y = m[f"y{i}"]
                els += [
                    {"id": f"rope{i}", "type": "rope", "points": [[x, 110], [x, y - 24]]},
                    {"id": f"mass{i}", "type": "block", "x": x, "y": y, "w": 52, "h": 48, "fill": "#d5dbdb"},
                    label(
                        f"m{i}_label",
                        x + (-34 if side == "end" else 34),
                        y + 6,
                        f"m{i} = {m[f'm{i}']} kg",
                        17,
                        side,
                    ),
                ]
                els += _force(f"weight{i}", x, y + 24, 0, 1, 50, f"{num(m[f'm{i}'] * G)} N")
            out.append(els)
        return out

    def describe(self, s):
        return Text2(
            f"An Atwood machine: masses m1 = {s['m1']} kg and m2 = {s['m2']} kg hang from a light rope over a fixed pulley, "
            "each with its weight drawn as a downward arrow.",
            f"阿特伍德机：质量 m1 = {s['m1']} kg 和 m2 = {s['m2']} kg 的物体用轻绳跨过定滑轮悬挂，各自的重力用向下的箭头表示。",
        )

    def propose(self, rng, op, s):
        if op == "change_value":
            which = pick(rng, ["m1", "m2"])
            return {"op": op, "set": {which: pick(rng, set(range(1, 9)) - {s["m1"], s["m2"]})}}
        d = int(pick(rng, [-60, -40, 40, 60]))
        y1 = s["y1"] + d
        if not 230 <= y1 <= 350:
            raise NotApplicable("would leave the frame")
        return {"op": op, "set": {"y1": y1, "y2": 600 - y1}, "delta": d}

    def instruct(self, edit):
        if edit["op"] == "change_value":
            key, value = next(iter(edit["set"].items()))
            return Text2(f"Change {key} to {value} kg.", f"把 {key} 改为 {value} kg。")
        d = edit["delta"]
        return Text2(
            f"Move m1 {'down' if d > 0 else 'up'} by {abs(d)} px; m2 moves the other way since the rope keeps its length.",
            f"把 m1 {'向下' if d > 0 else '向上'}移动 {abs(d)} 像素；绳长不变，m2 反向移动。",
        )

    def ask(self, rng, s):
        a = (s["m2"] - s["m1"]) * G / (s["m1"] + s["m2"])
        if rng.random() < 0.5:
            return Question(
                Text2("Released from rest, does m1 move up or down?", "由静止释放后，m1 向上还是向下运动？"),
                "up" if a > 0 else "down",
            )
        return Question(
            Text2(
                "What is the magnitude of the acceleration of the masses (g = 9.8 m/s², ideal pulley)?",
                "两物体加速度的大小是多少（g = 9.8 m/s²，理想滑轮）？",
            ),
            f"{abs(a):.2f} m/s²",
        )


class Spring(PhysicsKind):
    name, topic = "spring", "mechanics"
    edits = ("change_value", "move_object")
    changes = {"change_value": ("k",), "move_object": ("x",)}
    PX_PER_CM = 4.0

    def sample(self, rng):
        return {
            "kind": self.name,
            "k": int(pick(rng, [20, 40, 50, 80, 100, 120])),
            "x": int(pick(rng, [5, 10, 15, 20, 25])),
        }

    def layout(self, models):
        out = []
        for m in models:
            eq = 300.0
            left = eq + m["x"] * self.PX_PER_CM
            els = [
                {"id": "floor", "type": "ground", "x1": 60, "x2": 600, "y": 380},
                {"id": "wall", "type": "wall", "x": 80, "y1": 230, "y2": 380},
                {"id": "equilibrium", "type": "normal", "x": eq, "y1": 250, "y2": 395},
                {
                    "id": "spring",
                    "type": "spring",
                    "x1": 80,
                    "y1": 350,
                    "x2": round(left, 2),
                    "y2": 350,
                    "coils": 9,
                },
                label("k_label", (80 + left) / 2, 318, f"k = {m['k']} N/m", 17),
                {"id": "block", "type": "block", "x": round(left + 40, 2), "y": 350, "w": 80, "h": 60},
                label("x_label", (eq + left) / 2 if m["x"] >= 15 else left + 40, 412, f"x = {m['x']} cm", 16),
            ]
            els += _force("restoring", left + 40, 300, -1, 0, 80, f"F = {num(m['k'] * m['x'] / 100)} N")
            out.append(els)
        return out

    def describe(self, s):
        return Text2(
            f"A block on a smooth floor attached to a wall by a spring of stiffness k = {s['k']} N/m, stretched x = {s['x']} cm past the dashed "
            f"equilibrium line; the restoring force F = {num(s['k'] * s['x'] / 100)} N points back toward equilibrium.",
            f"光滑地面上的木块通过劲度系数 k = {s['k']} N/m 的弹簧与墙相连，弹簧被拉长 x = {s['x']} cm（虚线为平衡位置），"
            f"回复力 F = {num(s['k'] * s['x'] / 100)} N 指向平衡位置。",
        )

    def propose(self, rng, op, s):
        if op == "change_value":
            return {"op": op, "set": {"k": pick(rng, {20, 40, 50, 80, 100, 120} - {s["k"]})}}
        return {"op": op, "set": {"x": pick(rng, {5, 10, 15, 20, 25, 30} - {s["x"]})}}

    def instruct(self, edit):
        if edit["op"] == "change_value":
            k = edit["set"]["k"]
            return Text2(
                f"Replace the spring with one of stiffness k = {k} N/m; update the restoring force.",
                f"把弹簧换成劲度系数 k = {k} N/m 的弹簧，并相应更新回复力。",
            )
        x = edit["set"]["x"]
        return Text2(
            f"Pull the block so the spring is stretched x = {x} cm; update the restoring force.",
            f"拉动木块使弹簧伸长 x = {x} cm，并相应更新回复力。",
        )

    def ask(self, rng, s):
        return Question(
            Text2(
                "What is the magnitude of the spring force on the block, in newtons?",
                "弹簧对木块的弹力大小是多少牛？",
            ),
            f"{num(s['k'] * s['x'] / 100)} N",
        )


class Projectile(PhysicsKind):
    name, topic = "projectile", "mechanics"
    edits = ("change_value", "change_angle")
    changes = {"change_value": ("v0",), "change_angle": ("angle",)}

    def sample(self, rng):
        return {
            "kind": self.name,
            "v0": int(pick(rng, [10, 12, 15, 18, 20, 25])),
            "angle": int(pick(rng, [30, 40, 45, 50, 60])),
        }

    @staticmethod
    def _range(m) -> float:
        return m["v0"] ** 2 * math.sin(math.radians(2 * m["angle"])) / G

    @staticmethod
    def _height(m) -> float:
        return (m["v0"] * math.sin(math.radians(m["angle"]))) ** 2 / (2 * G)

    def layout(self, models):
        scale = min(min(500 / self._range(m), 300 / self._height(m)) for m in models)
        out = []
        for m in models:
            x0, y0 = 70.0, 420.0
            t = math.radians(m["angle"])
            vx, vy = m["v0"] * math.cos(t), m["v0"] * math.sin(t)
            flight = 2 * vy / G
            pts = [
                [round(x0 + vx * tt * scale, 2), round(y0 - (vy * tt - G * tt * tt / 2) * scale, 2)]
                for tt in np.linspace(0, flight, 41)
            ]
            els = [
                {"id": "ground", "type": "ground", "x1": 40, "x2": 620, "y": y0},
                {"id": "trajectory", "type": "path", "points": pts, "dash": "7 5", "color": "#2e4053"},
                {"id": "ball", "type": "ball", "x": x0, "y": y0 - 10, "r": 10},
                label("angle_label", x0 + 62, y0 - 10, f"θ = {m['angle']}°", 17, "start"),
            ]
            els += _force(
                "velocity", x0, y0 - 10, math.cos(t), -math.sin(t), 90, f"v0 = {m['v0']} m/s", "#1f618d"
            )
            out.append(els)
        return out

    def describe(self, s):
        return Text2(
            f"A projectile launched from the ground at v0 = {s['v0']} m/s and {s['angle']}° above the horizontal; its parabolic trajectory is dashed.",
            f"一个物体以 v0 = {s['v0']} m/s、与水平方向成 {s['angle']}° 的初速度从地面抛出，抛物线轨迹用虚线表示。",
        )

    def propose(self, rng, op, s):
        if op == "change_value":
            return {"op": op, "set": {"v0": pick(rng, {10, 12, 15, 18, 20, 25} - {s["v0"]})}}
        return {"op": op, "set": {"angle": pick(rng, {30, 40, 45, 50, 60} - {s["angle"]})}}

    def instruct(self, edit):
        if edit["op"] == "change_value":
            v = edit["set"]["v0"]
            return Text2(
                f"Change the launch speed to v0 = {v} m/s and redraw the trajectory.",
                f"把初速度改为 v0 = {v} m/s，并重画轨迹。",
            )
        a = edit["set"]["angle"]
        return Text2(
            f"Change the launch angle to {a}° and redraw the trajectory.", f"把抛射角改为 {a}°，并重画轨迹。"
        )

    def ask(self, rng, s):
        if rng.random() < 0.5:
            return Question(
                Text2(
                    "What is the horizontal range, in metres (g = 9.8 m/s², no air resistance)?",
                    "水平射程是多少米（g = 9.8 m/s²，不计空气阻力）？",
                ),
                f"{self._range(s):.1f} m",
            )
        return Question(
            Text2(
                "What is the maximum height, in metres (g = 9.8 m/s², no air resistance)?",
                "最大高度是多少米（g = 9.8 m/s²，不计空气阻力）？",
            ),
            f"{self._height(s):.1f} m",
        )
