"""Linked lists, stacks, queues and arrays: cells in rows (a column for stacks).

Cells keep an identity (``id``) apart from their value, and the layout places the union of both
images' cells in order, so inserting into a list leaves a gap in the source where the new cell
will be, and every other cell stays exactly where it was. A long sequence wraps into as few rows as
keep them no wider than ``ROW_ASPECT`` (the canvas fit then spreads them to the configured aspect:
never a strip): arrays and queues read left to right, row by row; a linked list snakes (every other
row runs right to left), so each link is short and crosses nothing.
"""

from __future__ import annotations

import numpy as np

from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node
from synth.sampling import NotApplicable, pick

DX, DY, MARGIN = 74.0, 44.0, 32.0
ROW_GAP = 76.0  # points between rows of a wrapped sequence (room for an array's indices)
ROW_ASPECT = 2.2  # a wrapped sequence's rows stay at most this wide for their height (fit spreads them)
CELL = {"shape": "box", "width": "0.7", "height": "0.45"}
STACK_CELL = {"shape": "box", "width": "1.2", "height": "0.45"}  # a stack stands as one column


def grid(n: int, snake: bool) -> list[tuple[float, float]]:
    """Positions (y up) of n cells in rows: the fewest rows whose frame stays within ROW_ASPECT."""
    for rows in range(1, n + 1):
        cols = -(-n // rows)
        w, h = 2 * MARGIN + (cols - 1) * DX, 2 * MARGIN + (rows - 1) * ROW_GAP
        if w / h <= ROW_ASPECT or cols <= 2:
            break
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        if snake and r % 2:
            c = cols - 1 - c
        out.append((MARGIN + c * DX, MARGIN + (rows - 1 - r) * ROW_GAP))
    return out


def _values(rng, n_lo=4, n_hi=8) -> list[int]:
    n = int(rng.integers(n_lo, n_hi + 1))
    return [int(v) for v in rng.choice(np.arange(1, 100), n, replace=False)]


def _cells(values: list[int]) -> list[dict]:
    return [{"id": i, "value": v} for i, v in enumerate(values)]


def _union_order(a: list[int], b: list[int]) -> list[int]:
    """Cell ids of two sequences merged, each keeping its order (a shortest common supersequence
    for the one-cell edits used here)."""
    out, i, j = [], 0, 0
    while i < len(a) or j < len(b):
        if i < len(a) and j < len(b) and a[i] == b[j]:
            out.append(a[i])
            i, j = i + 1, j + 1
        elif i < len(a) and a[i] not in b[j:]:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out


class Sequence(Kind):
    """Shared by the four sequence kinds; ``vertical`` for stacks, ``arrows`` for linked lists."""

    name = "sequence"
    noun = ("sequence", "序列")
    vertical = False
    arrows = False

    def sample(self, rng):
        values = _values(rng)
        return {"kind": self.name, "cells": _cells(values), "next_id": len(values)}

    def draw(self, structures):
        order = [c["id"] for c in structures[0]["cells"]]
        for s in structures[1:]:
            order = _union_order(order, [c["id"] for c in s["cells"]])
        n = len(order)
        if self.vertical:
            spots = [(MARGIN + 22, MARGIN + i * DY) for i in range(n)]
        else:
            spots = grid(n, snake=self.arrows)
        xs, ys = [p[0] for p in spots], [p[1] for p in spots]
        frame = (max(xs) + min(xs), max(ys) + min(ys))
        place = {cid: spots[i] for i, cid in enumerate(order)}
        out = []
        for s in structures:
            cells = s["cells"]
            shape = STACK_CELL if self.vertical else CELL
            nodes = [Node(f"c{c['id']}", str(c["value"]), *place[c["id"]], shape) for c in cells]
            edges = []
            if self.arrows:
                edges = [
                    Edge(f"e{a['id']}_{b['id']}", f"c{a['id']}", f"c{b['id']}")
                    for a, b in zip(cells, cells[1:], strict=False)
                ]
            out.append(Drawing(tuple(nodes), tuple(edges), directed=True, frame=frame))
        return out

    def scope(self, source, target, edit):
        """Added or removed cells, the links at them, and the link that bridges them."""
        a, b = [c["id"] for c in source["cells"]], [c["id"] for c in target["cells"]]
        changed = set(a) ^ set(b)
        longer = a if len(a) > len(b) else b
        ids = {f"c{c}" for c in changed}
        for k, cid in enumerate(longer):
            if cid in changed:
                prev = longer[k - 1] if k > 0 else None
                nxt = longer[k + 1] if k + 1 < len(longer) else None
                ids |= {
                    f"e{p}_{q}"
                    for p, q in ((prev, cid), (cid, nxt), (prev, nxt))
                    if p is not None and q is not None
                }
        return ids

    def values(self, s) -> list[int]:
        return [c["value"] for c in s["cells"]]

    def describe(self, s):
        return Text2(
            f"A {self.noun[0]} holding {seq(self.values(s))}.",
            f"一个{self.noun[1]}，依次存放 {seq(self.values(s))}。",
        )

    def check(self, source, target, edit):
        want = self.expected(self.values(source), edit)
        got = self.values(target)
        return None if got == want else f"values {got} are not the expected {want}"

    def expected(self, values: list[int], edit: dict) -> list[int]:
        raise NotImplementedError

    def apply(self, s, edit):
        cells, next_id = [dict(c) for c in s["cells"]], s["next_id"]
        op = edit["op"]
        if op in ("insert", "push", "enqueue", "append"):
            at = edit.get("index", len(cells))
            cells.insert(at, {"id": next_id, "value": edit["value"]})
            next_id += 1
        elif op in ("delete", "pop", "dequeue"):
            cells.pop(edit.get("index", -1 if op == "pop" else 0))
        else:  # swap, sort_step: values move between cells, cells stay
            i, j = edit["i"], edit["j"]
            cells[i]["value"], cells[j]["value"] = cells[j]["value"], cells[i]["value"]
        return {**s, "cells": cells, "next_id": next_id}

    def _new_value(self, rng, s) -> int:
        return pick(rng, set(range(1, 100)) - set(self.values(s)))


class LinkedList(Sequence):
    name = "linked_list"
    noun = ("singly linked list", "单链表")
    arrows = True
    edits = ("insert", "delete", "append")

    def propose(self, rng, op, s):
        n = len(s["cells"])
        if op == "append":
            return {"op": op, "value": self._new_value(rng, s)}
        if op == "insert":
            return {"op": op, "index": int(rng.integers(1, n)), "value": self._new_value(rng, s)}
        if n < 3:
            raise NotApplicable("list too short")
        return {"op": op, "index": int(rng.integers(0, n))}

    def expected(self, values, edit):
        v = list(values)
        if edit["op"] == "append":
            v.append(edit["value"])
        elif edit["op"] == "insert":
            v.insert(edit["index"], edit["value"])
        else:
            del v[edit["index"]]
        return v

    def instruct(self, edit):
        if edit["op"] == "append":
            return Text2(
                f"Append a node with value {edit['value']} at the tail of the linked list.",
                f"在链表尾部追加值为 {edit['value']} 的节点。",
            )
        if edit["op"] == "insert":
            return Text2(
                f"Insert a node with value {edit['value']} at position {edit['index']} (0-based) of the linked list.",
                f"在链表的第 {edit['index']} 个位置（从 0 开始）插入值为 {edit['value']} 的节点。",
            )
        return Text2(
            f"Delete the node at position {edit['index']} (0-based) and relink the list.",
            f"删除链表第 {edit['index']} 个位置（从 0 开始）的节点并重新连接。",
        )

    def ask(self, rng, s):
        v = self.values(s)
        if rng.random() < 0.5:
            return Question(
                Text2("How many nodes does this linked list have?", "这个链表有多少个节点？"), str(len(v))
            )
        i = int(rng.integers(len(v)))
        return Question(
            Text2(
                f"What value is stored at position {i} (0-based, from the head)?",
                f"从头节点数起，第 {i} 个位置（从 0 开始）存的值是多少？",
            ),
            str(v[i]),
        )


class Stack(Sequence):
    name = "stack"
    noun = ("stack drawn bottom to top", "自下而上绘制的栈")
    vertical = True
    edits = ("push", "pop")

    def propose(self, rng, op, s):
        if op == "push":
            return {"op": op, "value": self._new_value(rng, s)}
        if len(s["cells"]) < 2:
            raise NotApplicable("stack too small")
        return {"op": op}

    def expected(self, values, edit):
        return [*values, edit["value"]] if edit["op"] == "push" else values[:-1]

    def instruct(self, edit):
        if edit["op"] == "push":
            return Text2(f"Push {edit['value']} onto the stack.", f"将 {edit['value']} 压入栈。")
        return Text2("Pop the top element off the stack.", "弹出栈顶元素。")

    def ask(self, rng, s):
        v = self.values(s)
        k = int(rng.integers(1, len(v)))
        return Question(
            Text2(
                f"Which element is on top after popping {k} time(s)?", f"连续弹栈 {k} 次后，栈顶元素是什么？"
            ),
            str(v[-1 - k]),
        )


class Queue(Sequence):
    name = "queue"
    noun = ("queue, front first (left to right, row by row)", "队列（队首在前，按行从左到右）")
    edits = ("enqueue", "dequeue")

    def propose(self, rng, op, s):
        if op == "enqueue":
            return {"op": op, "value": self._new_value(rng, s)}
        if len(s["cells"]) < 2:
            raise NotApplicable("queue too small")
        return {"op": op}

    def expected(self, values, edit):
        return [*values, edit["value"]] if edit["op"] == "enqueue" else values[1:]

    def instruct(self, edit):
        if edit["op"] == "enqueue":
            return Text2(
                f"Enqueue {edit['value']} at the rear of the queue.", f"将 {edit['value']} 从队尾入队。"
            )
        return Text2("Dequeue the element at the front of the queue.", "让队首元素出队。")

    def ask(self, rng, s):
        v = self.values(s)
        k = int(rng.integers(1, len(v)))
        return Question(
            Text2(f"Which element is at the front after {k} dequeue(s)?", f"出队 {k} 次后，队首元素是什么？"),
            str(v[k]),
        )


class Array(Sequence):
    name = "array"
    noun = ("array", "数组")
    edits = ("swap", "sort_step")

    def draw(self, structures):
        drawings = super().draw(structures)
        out = []
        for d in drawings:  # index labels under the cells
            idx = tuple(
                Node(
                    f"i{k}",
                    str(k),
                    n.x,
                    n.y - 34,
                    {"shape": "plaintext", "fontsize": "11", "fontcolor": "#555555"},
                )
                for k, n in enumerate(d.nodes)
            )
            out.append(Drawing(d.nodes + idx, d.edges, d.directed, (d.frame[0], d.frame[1] + 0), d.curved))
        return out

    def propose(self, rng, op, s):
        v = self.values(s)
        if op == "swap":
            i, j = sorted(int(x) for x in rng.choice(len(v), 2, replace=False))
            return {"op": op, "i": i, "j": j}
        step = next((k for k in range(len(v) - 1) if v[k] > v[k + 1]), None)
        if step is None:
            raise NotApplicable("already sorted")
        return {"op": op, "i": step, "j": step + 1}

    def expected(self, values, edit):
        v = list(values)
        if edit["op"] == "sort_step":  # the first adjacent inversion, found independently
            k = next(k for k in range(len(v) - 1) if v[k] > v[k + 1])
            v[k], v[k + 1] = v[k + 1], v[k]
        else:
            v[edit["i"]], v[edit["j"]] = v[edit["j"]], v[edit["i"]]
        return v

    def scope(self, source, target, edit):
        return {f"c{source['cells'][edit['i']]['id']}", f"c{source['cells'][edit['j']]['id']}"}

    def instruct(self, edit):
        if edit["op"] == "swap":
            return Text2(
                f"Swap the elements at indices {edit['i']} and {edit['j']}.",
                f"交换下标 {edit['i']} 和 {edit['j']} 处的元素。",
            )
        return Text2(
            "Perform one step of bubble sort: swap the first adjacent pair that is out of order.",
            "执行一步冒泡排序：交换第一对逆序的相邻元素。",
        )

    def ask(self, rng, s):
        v = self.values(s)
        if rng.random() < 0.5:
            return Question(
                Text2("At which index is the largest element?", "最大元素位于哪个下标？"),
                str(int(np.argmax(v))),
            )
        return Question(
            Text2("List the elements in ascending order.", "按升序列出这些元素。"), seq(sorted(v))
        )
