"""Optics figures: a converging lens with the three principal rays and the real image they form
(thin-lens equation), and refraction at a flat interface (Snell's law)."""

from __future__ import annotations

import math

from pipelines.diagram.kind import Question, Text2
from pipelines.physics.kinds.common import PhysicsKind, label
from synth.sampling import pick

PX_PER_CM = 5.0
AXIS_Y, LENS_X = 250.0, 330.0


def image_distance(u: float, f: float) -> float:
    return u * f / (u - f)


class Lens(PhysicsKind):
    name, topic = "lens", "optics"
    edits = ("move_object", "change_value")
    changes = {"move_object": ("u",), "change_value": ("f",)}

    def sample(self, rng):
        f = int(pick(rng, [10, 12, 15]))
        return {
            "kind": self.name,
            "f": f,
            "u": int(pick(rng, [u for u in range(16, 46) if 1.6 * f <= u <= 3 * f])),
        }

    def layout(self, models):
        out = []
        for m in models:
            f, u = m["f"] * PX_PER_CM, m["u"] * PX_PER_CM
            v = image_distance(u, f)
            ho = 60.0
            xo, yt = LENS_X - u, AXIS_Y - ho
            xi, yi = LENS_X + v, AXIS_Y + ho * v / u
            y3 = AXIS_Y + ho * f / (u - f)
            els = [
                {"id": "axis", "type": "axis", "x1": 20, "x2": 620, "y": AXIS_Y},
                {"id": "lens", "type": "lens", "x": LENS_X, "y": AXIS_Y, "h": 150, "convex": True},
                {"id": "focus1", "type": "dot", "x": round(LENS_X - f, 2), "y": AXIS_Y},
                label("focus1_label", LENS_X - f, AXIS_Y + 28, "F", 17),
                {"id": "focus2", "type": "dot", "x": round(LENS_X + f, 2), "y": AXIS_Y},
                label("focus2_label", LENS_X + f, AXIS_Y - 14, "F'", 17),
                {
                    "id": "ray1",
                    "type": "ray",
                    "points": [[round(xo, 2), yt], [LENS_X, yt], [round(xi, 2), round(yi, 2)]],
                    "color": "#e67e22",
                },
                {
                    "id": "ray2",
                    "type": "ray",
                    "points": [[round(xo, 2), yt], [round(xi, 2), round(yi, 2)]],
                    "color": "#27ae60",
                },
                {
                    "id": "ray3",
                    "type": "ray",
                    "points": [[round(xo, 2), yt], [LENS_X, round(y3, 2)], [round(xi, 2), round(yi, 2)]],
                    "color": "#8e44ad",
                },
                {"id": "object", "type": "object", "x": round(xo, 2), "y0": AXIS_Y, "y1": yt},
                {
                    "id": "image",
                    "type": "object",
                    "x": round(xi, 2),
                    "y0": AXIS_Y,
                    "y1": round(yi, 2),
                    "color": "#b03a2e",
                },
                label("f_label", 30, 40, f"f = {m['f']} cm", 18, "start"),
                label("u_label", 30, 68, f"u = {m['u']} cm", 18, "start"),
            ]
            out.append(els)
        return out

    def describe(self, s):
        return Text2(
            f"A ray diagram for a converging lens of focal length f = {s['f']} cm with an upright object u = {s['u']} cm in front of it; "
            "three principal rays (parallel, through the centre, through F) meet at the inverted real image.",
            f"凸透镜成像光路图：焦距 f = {s['f']} cm，物体位于透镜前 u = {s['u']} cm 处，三条特殊光线（平行光、过光心、过焦点）会聚于倒立的实像。",
        )

    def propose(self, rng, op, s):
        if op == "move_object":
            options = {u for u in range(16, 46) if 1.6 * s["f"] <= u <= 3 * s["f"] and abs(u - s["u"]) >= 3}
            return {"op": op, "set": {"u": pick(rng, options)}}
        options = {f for f in (10, 12, 15) if 1.6 * f <= s["u"] <= 3 * f and f != s["f"]}
        return {"op": op, "set": {"f": pick(rng, options)}}

    def instruct(self, edit):
        if edit["op"] == "move_object":
            u = edit["set"]["u"]
            return Text2(
                f"Move the object to u = {u} cm from the lens and redraw the rays and the image.",
                f"把物体移到距透镜 u = {u} cm 处，并重画光线和像。",
            )
        f = edit["set"]["f"]
        return Text2(
            f"Replace the lens with one of focal length f = {f} cm and redraw the rays and the image.",
            f"把透镜换成焦距 f = {f} cm 的透镜，并重画光线和像。",
        )

    def ask(self, rng, s):
        v = image_distance(s["u"], s["f"])
        if rng.random() < 0.5:
            return Question(
                Text2("How far from the lens is the image, in centimetres?", "像到透镜的距离是多少厘米？"),
                f"{v:.1f} cm",
            )
        return Question(
            Text2(
                "What is the magnification (image height over object height)?",
                "放大率（像高与物高之比）是多少？",
            ),
            f"{v / s['u']:.2f}",
        )


class Refraction(PhysicsKind):
    name, topic = "refraction", "optics"
    edits = ("change_value", "change_angle")
    changes = {"change_value": ("n2",), "change_angle": ("i",)}

    @staticmethod
    def refracted(m) -> float:
        return math.degrees(math.asin(math.sin(math.radians(m["i"])) / m["n2"]))

    def sample(self, rng):
        return {
            "kind": self.name,
            "n2": float(pick(rng, [1.33, 1.5, 1.6])),
            "i": int(pick(rng, [25, 30, 40, 50, 60])),
        }

    def layout(self, models):
        out = []
        for m in models:
            ox, oy, length = 320.0, 240.0, 210.0
            i, r = math.radians(m["i"]), math.radians(self.refracted(m))
            els = [
                {"id": "medium1", "type": "medium", "x": 0, "y": 0, "w": 640, "h": 240, "fill": "#fbfcfc"},
                {"id": "medium2", "type": "medium", "x": 0, "y": 240, "w": 640, "h": 240, "fill": "#d6eaf8"},
                {"id": "interface", "type": "wire", "points": [[0, oy], [640, oy]]},
                {"id": "normal", "type": "normal", "x": ox, "y1": 40, "y2": 440},
                {
                    "id": "incident",
                    "type": "ray",
                    "points": [
                        [round(ox - length * math.sin(i), 2), round(oy - length * math.cos(i), 2)],
                        [ox, oy],
                    ],
                    "color": "#c0392b",
                },
                {
                    "id": "refracted",
                    "type": "ray",
                    "points": [
                        [ox, oy],
                        [round(ox + length * math.sin(r), 2), round(oy + length * math.cos(r), 2)],
                    ],
                    "color": "#c0392b",
                },
                label("n1_label", 30, 50, "n1 = 1.00", 18, "start"),
                label("n2_label", 30, 450, f"n2 = {m['n2']:.2f}", 18, "start"),
                label("i_label", 334, 150, f"i = {m['i']}°", 18, "start"),
            ]
            out.append(els)
        return out

    def describe(self, s):
        return Text2(
            f"Refraction at a flat interface: a ray in air (n1 = 1.00) meets a medium with n2 = {s['n2']:.2f} at i = {s['i']}° to the dashed normal "
            "and bends toward the normal.",
            f"平面界面上的折射：光线从空气（n1 = 1.00）以与法线（虚线）成 i = {s['i']}° 的角射入折射率 n2 = {s['n2']:.2f} 的介质，向法线方向偏折。",
        )

    def propose(self, rng, op, s):
        if op == "change_value":
            return {"op": op, "set": {"n2": float(pick(rng, {1.33, 1.5, 1.6} - {s["n2"]}))}}
        return {"op": op, "set": {"i": int(pick(rng, {25, 30, 40, 50, 60} - {s["i"]}))}}

    def instruct(self, edit):
        if edit["op"] == "change_value":
            n = edit["set"]["n2"]
            return Text2(
                f"Change the lower medium to n2 = {n:.2f} and redraw the refracted ray.",
                f"把下方介质改为 n2 = {n:.2f}，并重画折射光线。",
            )
        i = edit["set"]["i"]
        return Text2(
            f"Change the angle of incidence to {i}° and redraw both rays.",
            f"把入射角改为 {i}°，并重画两条光线。",
        )

    def ask(self, rng, s):
        return Question(
            Text2(
                "What is the angle of refraction, in degrees (one decimal)?",
                "折射角是多少度（保留一位小数）？",
            ),
            f"{self.refracted(s):.1f}°",
        )
