"""Finite automata (DFA and NFA over {a, b}): add a transition, mark a state accepting; answers
say whether a word is accepted, found by simulating the automaton.

States are placed in columns by their distance from the start state; transitions between the same
two states share one edge whose label lists the symbols, and edges are curved, so a pair a->b,
b->a stays apart and an added transition moves nothing else.
"""

from __future__ import annotations

from collections import deque

from pipelines.cs_diagram import structures as S
from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node
from synth.sampling import pick

DX, DY, MARGIN = 120.0, 90.0, 40.0
ALPHABET = ("a", "b")


def _layers(states: list[str], delta: list, start: str) -> dict[str, int]:
    layer, queue = {start: 0}, deque([start])
    while queue:
        s = queue.popleft()
        for a, _, b in sorted(delta):
            if a == s and b not in layer:
                layer[b] = layer[s] + 1
                queue.append(b)
    return {s: layer.get(s, max(layer.values()) + 1) for s in states}


class Automaton(Kind):
    name = "dfa"
    deterministic = True
    edits = ("add_transition", "mark_accepting")

    def sample(self, rng):
        n = int(rng.integers(3, 6))
        states = [f"q{i}" for i in range(n)]
        delta = []
        for i in range(1, n):  # a spanning tree of moves keeps every state reachable
            free = [
                (p, a)
                for p in states[:i]
                for a in ALPHABET
                if not any(d[0] == p and d[1] == a for d in delta)
            ]
            p, a = free[int(rng.integers(len(free)))]
            delta.append([p, a, states[i]])
        for s in states:
            for a in ALPHABET:
                taken = any(d[0] == s and d[1] == a for d in delta)
                if (not taken or not self.deterministic) and rng.random() < (0.5 if not taken else 0.2):
                    t = states[int(rng.integers(n))]
                    if [s, a, t] not in delta:
                        delta.append([s, a, t])
        accept = sorted({states[int(i)] for i in rng.choice(n, int(rng.integers(1, 3)), replace=False)})
        return {
            "kind": self.name,
            "states": states,
            "alphabet": list(ALPHABET),
            "start": states[0],
            "accept": accept,
            "delta": sorted(delta),
        }

    def draw(self, structures):
        first = structures[0]
        layer = _layers(first["states"], [d for s in structures for d in s["delta"]], first["start"])
        cols: dict[int, list[str]] = {}
        for st in first["states"]:
            cols.setdefault(layer[st], []).append(st)
        tallest = max(len(v) for v in cols.values())
        pos = {}
        for c, members in cols.items():
            for r, st in enumerate(members):
                pos[st] = (
                    MARGIN + 50 + c * DX,
                    MARGIN + (tallest - 1) * DY / 2 + (r - (len(members) - 1) / 2) * DY,
                )
        frame = (2 * MARGIN + 50 + max(cols) * DX, 2 * MARGIN + (tallest - 1) * DY + 30)
        out = []
        for s in structures:
            nodes = [
                Node(
                    "start",
                    "",
                    pos[s["start"]][0] - 60,
                    pos[s["start"]][1],
                    {"shape": "point", "width": "0.05", "height": "0.05"},
                )
            ]
            for st in s["states"]:
                shape = "doublecircle" if st in s["accept"] else "circle"
                nodes.append(Node(f"s{st}", st, *pos[st], {"shape": shape}))
            merged: dict[tuple[str, str], list[str]] = {}
            for a, sym, b in s["delta"]:
                merged.setdefault((a, b), []).append(sym)
            edges = [Edge("e_start", "start", f"s{s['start']}")]
            edges += [
                Edge(f"e{a}_{b}", f"s{a}", f"s{b}", ",".join(sorted(syms)))
                for (a, b), syms in sorted(merged.items())
            ]
            out.append(Drawing(tuple(nodes), tuple(edges), directed=True, frame=frame, curved=True))
        return out

    def describe(self, s):
        moves = "; ".join(f"{a} --{sym}--> {b}" for a, sym, b in s["delta"])
        kind, zh = ("deterministic", "确定") if self.deterministic else ("nondeterministic", "非确定")
        return Text2(
            f"A state diagram of a {kind} finite automaton over {{a, b}}: states {seq(s['states'])}, start state {s['start']} "
            f"marked by an incoming arrow, accepting states {seq(s['accept'])} drawn as double circles, transitions {moves}.",
            f"一个字母表为 {{a, b}} 的{zh}有限自动机状态图：状态 {seq(s['states'])}，起始状态 {s['start']} 用入箭头标出，"
            f"接受状态 {seq(s['accept'])} 画成双圆，转移为 {moves}。",
        )

    def propose(self, rng, op, s):
        if op == "mark_accepting":
            return {"op": op, "state": pick(rng, set(s["states"]) - set(s["accept"]))}
        options = {
            (a, sym, b)
            for a in s["states"]
            for sym in ALPHABET
            for b in s["states"]
            if [a, sym, b] not in s["delta"]
            and not (self.deterministic and any(d[0] == a and d[1] == sym for d in s["delta"]))
        }
        a, sym, b = pick(rng, options)
        return {"op": op, "from": a, "symbol": sym, "to": b}

    def apply(self, s, edit):
        if edit["op"] == "mark_accepting":
            return {**s, "accept": sorted([*s["accept"], edit["state"]])}
        return {**s, "delta": sorted([*s["delta"], [edit["from"], edit["symbol"], edit["to"]]])}

    def check(self, source, target, edit):
        da = {tuple(d) for d in source["delta"]}
        db = {tuple(d) for d in target["delta"]}
        fa, fb = set(source["accept"]), set(target["accept"])
        if edit["op"] == "mark_accepting":
            ok = db == da and fb - fa == {edit["state"]} and fa <= fb
        else:
            ok = db - da == {(edit["from"], edit["symbol"], edit["to"])} and da <= db and fa == fb
        if not ok:
            return "the automaton changed in another way than the instruction says"
        if self.deterministic and not S.is_deterministic(target):
            return "the result is not deterministic"
        return None

    def scope(self, source, target, edit):
        if edit["op"] == "mark_accepting":  # a double circle also clips its edges differently
            st = edit["state"]
            return {f"s{st}", *(f"e{a}_{b}" for a, _, b in source["delta"] if st in (a, b))} | (
                {"e_start"} if st == source["start"] else set()
            )
        return {f"e{edit['from']}_{edit['to']}"}

    def instruct(self, edit):
        if edit["op"] == "mark_accepting":
            return Text2(
                f"Make state {edit['state']} an accepting state.", f"把状态 {edit['state']} 设为接受状态。"
            )
        a, sym, b = edit["from"], edit["symbol"], edit["to"]
        return Text2(
            f"Add a transition from {a} to {b} on symbol '{sym}'.",
            f"添加一条从 {a} 到 {b}、输入符号为 '{sym}' 的转移。",
        )

    def ask(self, rng, s):
        word = "".join(rng.choice(ALPHABET, int(rng.integers(1, 6))))
        yes = S.accepts(s, word)
        return Question(
            Text2(
                f"Does this automaton accept the string '{word}'? Answer yes or no.",
                f"这个自动机是否接受字符串 '{word}'？请回答是或否。",
            ),
            "yes" if yes else "no",
        )


class DFA(Automaton):
    name = "dfa"
    deterministic = True


class NFA(Automaton):
    name = "nfa"
    deterministic = False
