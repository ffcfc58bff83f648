"""Circuits: a battery with resistors, bulbs, a switch and an ammeter, in series or in parallel.

Components sit in numbered slots of a fixed loop (series) or of fixed branches and a main line
(parallel); a slot without a component is a wire. Adding or removing a component therefore
changes one slot and its label; switching topology re-places everything.
"""

from __future__ import annotations

from pipelines.diagram.kind import Question, Text2
from pipelines.physics.kinds.common import PhysicsKind, label, num
from synth.sampling import NotApplicable, pick

X0, X1, Y0, Y1 = 120, 520, 120, 380
XM = [120, 253, 387, 520]
# Series loop: slot -> (x1, y1, x2, y2, label side). Slot 5 (bottom middle) is the battery.
SERIES = {
    0: (XM[0], Y0, XM[1], Y0, "above"),
    1: (XM[1], Y0, XM[2], Y0, "above"),
    2: (XM[2], Y0, XM[3], Y0, "above"),
    3: (X1, Y0, X1, Y1, "right"),
    4: (XM[3], Y1, XM[2], Y1, "below"),
    5: (XM[2], Y1, XM[1], Y1, "below"),
    6: (XM[1], Y1, XM[0], Y1, "below"),
    7: (X0, Y1, X0, Y0, "left"),
}
FREE_SERIES = (0, 1, 2, 3, 4, 6, 7)
# Parallel: battery on the left, two main-line slots on the top rail, three branches.
PT, PB, PXB = 110, 390, 100
BRANCH_X = (280, 400, 520)
MAIN = {0: (PXB, PT, 170, PT), 1: (170, PT, 240, PT)}
SYMBOL = {"resistor": "R", "bulb": "L"}


def _loads(m) -> list[dict]:
    return [c for c in m["components"] if c["type"] in SYMBOL]


def _text(c: dict, voltage: int) -> str:
    if c["type"] == "battery":
        return f"{voltage} V"
    if c["type"] in SYMBOL:
        return f"{c['id']} = {c['value']} Ω"
    return c["id"]


def _part(eid: str, c: dict | None, x1, y1, x2, y2) -> dict:
    geom = {"x1": x1, "y1": y1, "x2": x2, "y2": y2}
    if c is None:
        return {"id": eid, "type": "wire", "points": [[x1, y1], [x2, y2]]}
    kind = {"ammeter": "meter"}.get(c["type"], c["type"])
    extra = (
        {"symbol": "A"} if c["type"] == "ammeter" else {"open": c["open"]} if c["type"] == "switch" else {}
    )
    return {"id": eid, "type": kind, **geom, **extra}


def _label_at(eid: str, x1, y1, x2, y2, side: str, text: str) -> dict:
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if side == "above":
        return label(eid, mx, my - 30, text, 17)
    if side == "below":
        return label(eid, mx, my + 44, text, 17)
    if side == "right":
        return label(eid, mx + 30, my + 6, text, 17, "start")
    return label(eid, mx - 30, my + 6, text, 17, "end")


def series_layout(m) -> list[dict]:
    at = {c["slot"]: c for c in m["components"]}
    els = []
    for k, (x1, y1, x2, y2, side) in SERIES.items():
        c = {"type": "battery"} if k == 5 else at.get(k)
        els.append(_part(f"slot{k}", c, x1, y1, x2, y2))
        if c is not None:
            els.append(_label_at(f"slot{k}_label", x1, y1, x2, y2, side, _text(c, m["voltage"])))
    return els


def parallel_layout(m) -> list[dict]:
    at = {c["slot"]: c for c in m["components"]}
    last = max(
        (k for k in at if isinstance(k, str) and k.startswith("b")), key=lambda k: int(k[1:]), default="b0"
    )
    n = int(last[1:]) + 1
    els = [
        _part("battery", {"type": "battery"}, PXB, PB, PXB, PT),
        label("battery_label", PXB - 30, (PT + PB) / 2 + 6, f"{m['voltage']} V", 17, "end"),
    ]
    for k, (x1, y1, x2, y2) in MAIN.items():
        c = at.get(f"m{k}")
        els.append(_part(f"main{k}", c, x1, y1, x2, y2))
        if c is not None:
            els.append(_label_at(f"main{k}_label", x1, y1, x2, y2, "above", _text(c, m["voltage"])))
    prev_top, prev_bottom = 240, PXB
    for b in range(n):
        x = BRANCH_X[b]
        els.append({"id": f"rail_t{b}", "type": "wire", "points": [[prev_top, PT], [x, PT]]})
        els.append({"id": f"rail_b{b}", "type": "wire", "points": [[prev_bottom, PB], [x, PB]]})
        prev_top = prev_bottom = x
        c = at.get(f"b{b}")
        if c is not None:
            els.append(_part(f"branch{b}", c, x, PT, x, PB))
            els.append(_label_at(f"branch{b}_label", x, PT, x, PB, "right", _text(c, m["voltage"])))
    for b in range(n - 1):
        els += [
            {"id": f"node_t{b}", "type": "dot", "x": BRANCH_X[b], "y": PT},
            {"id": f"node_b{b}", "type": "dot", "x": BRANCH_X[b], "y": PB},
        ]
    return els


def place(components: list[dict], topology: str) -> list[dict]:
    """Slots for a topology: loads first, then switch and ammeter, in id order."""
    loads = sorted((c for c in components if c["type"] in SYMBOL), key=lambda c: c["id"])
    others = sorted((c for c in components if c["type"] not in SYMBOL), key=lambda c: c["id"])
    if topology == "series":
        slots = [0, 1, 2, 3, 4, 6, 7]
        return [{**c, "slot": s} for c, s in zip(loads + others, slots, strict=False)]
    return [{**c, "slot": f"b{i}"} for i, c in enumerate(loads)] + [
        {**c, "slot": f"m{i}"} for i, c in enumerate(others)
    ]


def resistance(m) -> float:
    values = [c["value"] for c in _loads(m)]
    return sum(values) if m["topology"] == "series" else 1 / sum(1 / v for v in values)


def current(m) -> float:
    if any(c["type"] == "switch" and c["open"] for c in m["components"]):
        return 0.0
    return m["voltage"] / resistance(m)


class Circuit(PhysicsKind):
    name, topic = "series_circuit", "circuits"
    topology = "series"

    @property
    def edits(self):  # type: ignore[override]
        other = "to_parallel" if self.topology == "series" else "to_series"
        return ("change_value", "add_component", "remove_component", "toggle_switch", other)

    def sample(self, rng):
        n = int(rng.integers(2, 4))
        comps = []
        counters = {"R": 0, "L": 0}
        for _ in range(n):
            t = pick(rng, ["resistor", "resistor", "bulb"])
            counters[SYMBOL[t]] += 1
            comps.append(
                {
                    "id": f"{SYMBOL[t]}{counters[SYMBOL[t]]}",
                    "type": t,
                    "value": int(pick(rng, [2, 3, 4, 5, 6, 8, 10, 12])),
                }
            )
        if rng.random() < 0.6:
            comps.append({"id": "S", "type": "switch", "open": bool(rng.random() < 0.4)})
        if rng.random() < 0.4:
            comps.append({"id": "A", "type": "ammeter"})
        m = {
            "kind": self.name,
            "topology": self.topology,
            "voltage": int(pick(rng, [3, 6, 9, 12])),
            "components": place(comps, self.topology),
        }
        if self.topology == "series":  # spread the parts around the loop
            free = [s for s in FREE_SERIES]
            slots = sorted(int(s) for s in rng.choice(free, len(comps), replace=False))
            m["components"] = [{**c, "slot": s} for c, s in zip(m["components"], slots, strict=True)]
        return m

    def layout(self, models):
        return [series_layout(m) if m["topology"] == "series" else parallel_layout(m) for m in models]

    def describe(self, s):
        parts = ", ".join(
            _text(c, s["voltage"])
            if c["type"] in SYMBOL
            else {"switch": "a switch S", "ammeter": "an ammeter A"}[c["type"]]
            for c in s["components"]
        )
        zh_parts = "、".join(
            _text(c, s["voltage"])
            if c["type"] in SYMBOL
            else {"switch": "开关 S", "ammeter": "电流表 A"}[c["type"]]
            for c in s["components"]
        )
        switch = next((c for c in s["components"] if c["type"] == "switch"), None)
        state = (
            "" if switch is None else (" The switch is open." if switch["open"] else " The switch is closed.")
        )
        zh_state = "" if switch is None else ("开关断开。" if switch["open"] else "开关闭合。")
        how, zh_how = (
            ("in series", "串联")
            if s["topology"] == "series"
            else ("with the loads in parallel branches", "负载并联")
        )
        return Text2(
            f"A circuit diagram: a {s['voltage']} V battery {how} with {parts}.{state}",
            f"电路图：{s['voltage']} V 电池与 {zh_parts} 组成{zh_how}电路。{zh_state}",
        )

    def propose(self, rng, op, s):
        comps = s["components"]
        if op == "change_value":
            c = pick(rng, _loads(s))
            new = pick(rng, {2, 3, 4, 5, 6, 8, 10, 12} - {c["value"]})
            return {
                "op": op,
                "component": c["id"],
                "value": new,
                "set": {"components": [{**x, "value": new} if x["id"] == c["id"] else x for x in comps]},
            }
        if op == "add_component":
            if any(c["type"] == "ammeter" for c in comps):
                raise NotApplicable("already has an ammeter")
            used = {c["slot"] for c in comps}
            free = (
                [k for k in FREE_SERIES if k not in used]
                if s["topology"] == "series"
                else [f"m{k}" for k in range(2) if f"m{k}" not in used]
            )
            return {
                "op": op,
                "component": "A",
                "set": {"components": [*comps, {"id": "A", "type": "ammeter", "slot": pick(rng, free)}]},
            }
        if op == "remove_component":
            loads = _loads(s)
            if len(loads) < 2:
                raise NotApplicable("one load only")
            if s["topology"] == "parallel":
                c = max(loads, key=lambda x: int(x["slot"][1:]))  # the outermost branch
            else:
                c = pick(rng, loads)
            return {
                "op": op,
                "component": c["id"],
                "set": {"components": [x for x in comps if x["id"] != c["id"]]},
            }
        if op == "toggle_switch":
            sw = next((c for c in comps if c["type"] == "switch"), None)
            if sw is None:
                raise NotApplicable("no switch")
            return {
                "op": op,
                "component": "S",
                "open": not sw["open"],
                "set": {"components": [{**x, "open": not x["open"]} if x["id"] == "S" else x for x in comps]},
            }
        topology = "parallel" if s["topology"] == "series" else "series"
        return {"op": op, "set": {"topology": topology, "components": place(comps, topology)}}

    changes = {
        "change_value": ("components",),
        "add_component": ("components",),
        "remove_component": ("components",),
        "toggle_switch": ("components",),
        "to_parallel": ("topology", "components"),
        "to_series": ("topology", "components"),
    }

    def check_values(self, source, target, edit):
        a = {c["id"]: c for c in source["components"]}
        b = {c["id"]: c for c in target["components"]}
        op = edit["op"]
        if op in ("to_parallel", "to_series"):
            same = {k: {**v, "slot": None} for k, v in a.items()} == {
                k: {**v, "slot": None} for k, v in b.items()
            }
            return (
                None
                if same and target["topology"] != source["topology"]
                else "the components changed, not only the topology"
            )
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if changed != {edit["component"]}:
            return f"components {sorted(changed)} changed, the instruction names {edit['component']}"
        if op == "change_value" and b[edit["component"]]["value"] != edit["value"]:
            return "the new value is not the one named"
        if op == "add_component" and edit["component"] not in b:
            return "the ammeter is missing"
        if op == "remove_component" and edit["component"] in b:
            return "the component is still there"
        if op == "toggle_switch" and b["S"]["open"] != edit["open"]:
            return "the switch is not in the named state"
        return None

    def instruct(self, edit):
        op = edit["op"]
        if op == "change_value":
            return Text2(
                f"Change {edit['component']} to {edit['value']} Ω.",
                f"把 {edit['component']} 改为 {edit['value']} Ω。",
            )
        if op == "add_component":
            return Text2(
                "Insert an ammeter A into the circuit in place of a plain wire.",
                "在电路中用电流表 A 替换一段导线。",
            )
        if op == "remove_component":
            return Text2(
                f"Remove {edit['component']} from the circuit"
                + (
                    " and close the gap with a wire."
                    if edit["component"] and self.topology == "series"
                    else " together with its branch."
                ),
                f"从电路中去掉 {edit['component']}"
                + ("，并用导线连通。" if self.topology == "series" else "及其所在支路。"),
            )
        if op == "toggle_switch":
            return Text2(
                f"{'Open' if edit['open'] else 'Close'} the switch S.",
                f"{'断开' if edit['open'] else '闭合'}开关 S。",
            )
        if op == "to_parallel":
            return Text2(
                "Rewire the circuit so that the loads are in parallel branches across the battery.",
                "重新连接电路，使各负载并联在电池两端。",
            )
        return Text2(
            "Rewire the circuit so that all components are in one series loop.",
            "重新连接电路，使所有元件串联成一个回路。",
        )

    def ask(self, rng, s):
        if any(c["type"] == "ammeter" for c in s["components"]) and rng.random() < 0.6:
            return Question(
                Text2(
                    "What current does the ammeter read, in amperes (ideal battery and meter)?",
                    "电流表的读数是多少安（理想电池和电表）？",
                ),
                f"{num(round(current(s), 2))} A",
            )
        return Question(
            Text2("What is the equivalent resistance of the loads, in ohms?", "负载的等效电阻是多少欧？"),
            f"{num(round(resistance(s), 2))} Ω",
        )


class SeriesCircuit(Circuit):
    name, topology = "series_circuit", "series"


class ParallelCircuit(Circuit):
    name, topology = "parallel_circuit", "parallel"
