"""Binary search trees (insert, delete, rotate) and binary min-heaps (push, pop with sift).

Layout, shared by both images of a pair: a BST node's x is its rank among the keys of both trees
(in-order position, the classic BST drawing) and its y its depth; a heap slot's place follows its
array index. So a node an edit does not touch keeps its exact position.
"""

from __future__ import annotations

import numpy as np

from pipelines.cs_diagram import structures as S
from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.diagrams.graph import Drawing, Edge, Node
from synth.sampling import NotApplicable, pick

DX, DY, MARGIN = 42.0, 64.0, 30.0
HIGHLIGHT = {"style": "filled", "fillcolor": "#ffd966"}


def _tree_drawing(tree: dict, xs: dict[int, float], levels: int, frame) -> Drawing:
    d = S.depths(tree)
    nodes = tuple(Node(f"n{k}", str(k), xs[k], MARGIN + (levels - 1 - d[k]) * DY) for k in sorted(d))
    edges = tuple(
        Edge(f"e{p}_{c}", f"n{p}", f"n{c}")
        for side in ("left", "right")
        for p, c in sorted(tree[side].items())
    )
    return Drawing(nodes, edges, directed=False, frame=frame)


class BST(Kind):
    name = "bst"
    edits = ("insert", "delete", "rotate_left", "rotate_right")

    def sample(self, rng):
        n = int(rng.integers(5, 11))
        keys = [int(k) for k in rng.choice(np.arange(1, 100), n, replace=False)]
        return {"kind": "bst", "inserted": keys, **S.bst_from(keys)}

    @staticmethod
    def tree(s: dict) -> dict:
        return {
            "root": s["root"],
            "left": {int(k): v for k, v in s["left"].items()},
            "right": {int(k): v for k, v in s["right"].items()},
        }

    def draw(self, structures):
        trees = [self.tree(s) for s in structures]
        keys = sorted({k for t in trees for k in S.depths(t)})
        xs = {k: MARGIN + i * DX for i, k in enumerate(keys)}
        levels = max(max(S.depths(t).values(), default=0) for t in trees) + 1
        frame = (2 * MARGIN + (len(keys) - 1) * DX, 2 * MARGIN + (levels - 1) * DY)
        return [_tree_drawing(t, xs, levels, frame) for t in trees]

    def describe(self, s):
        order = seq(s["inserted"])
        return Text2(
            f"A binary search tree drawn top-down with circular nodes, built by inserting {order} in that order; "
            f"the root is {s['root']}.",
            f"一棵自上而下绘制的二叉搜索树，节点为圆形，依次插入 {order} 构建而成，根节点为 {s['root']}。",
        )

    def propose(self, rng, op, s):
        t = self.tree(s)
        keys = set(S.depths(t))
        if op == "insert":
            free = set(range(1, 100)) - keys
            return {"op": op, "key": pick(rng, free)}
        if op == "delete":
            if len(keys) < 3:
                raise NotApplicable("tree too small")
            return {"op": op, "key": pick(rng, keys)}
        side = "right" if op == "rotate_left" else "left"
        return {"op": op, "key": pick(rng, set(t[side]))}

    def apply(self, s, edit):
        t = self.tree(s)
        op, key = edit["op"], edit["key"]
        if op == "insert":
            t = S.bst_insert(t, key)
        elif op == "delete":
            t = S.bst_delete(t, key)
        else:
            t = S.bst_rotate(t, key, op.split("_")[1])
        return {**s, **t}

    def check(self, source, target, edit):
        a, b = self.tree(source), self.tree(target)
        if not S.is_bst(b):
            return "the result is not a binary search tree"
        ka, kb = set(S.depths(a)), set(S.depths(b))
        op, key = edit["op"], edit["key"]
        want = {"insert": ka | {key}, "delete": ka - {key}}.get(op, ka)
        if kb != want:
            return f"keys {sorted(kb)} are not the expected {sorted(want)}"
        if op.startswith("rotate"):
            side = "right" if op == "rotate_left" else "left"
            pivot = a[side][key]
            if S.bst_parent(b, pivot) != S.bst_parent(a, key) or S.bst_parent(b, key) != pivot:
                return f"{pivot} did not take {key}'s place"
        return None

    def scope(self, source, target, edit):
        """An insert adds a leaf and its edge; otherwise the subtree under the edited node's parent
        (the root where it has none), its nodes and edges, in either tree."""
        if edit["op"] == "insert":
            k = edit["key"]
            return {f"n{k}", f"e{S.bst_parent(self.tree(target), k)}_{k}"}
        t0 = self.tree(source)
        parent = S.bst_parent(t0, edit["key"])
        ids = set()
        for s in (source, target):
            t = self.tree(s)
            top = parent if parent is not None else t["root"]
            stack = [top] if top is not None else []
            while stack:
                k = stack.pop()
                ids.add(f"n{k}")
                for side in ("left", "right"):
                    if k in t[side]:
                        ids.add(f"e{k}_{t[side][k]}")
                        stack.append(t[side][k])
        return ids

    def instruct(self, edit):
        k, op = edit["key"], edit["op"]
        if op == "insert":
            return Text2(f"Insert {k} into the binary search tree.", f"将 {k} 插入这棵二叉搜索树。")
        if op == "delete":
            return Text2(
                f"Delete {k} from the binary search tree (a node with two children takes its in-order successor).",
                f"从二叉搜索树中删除 {k}（有两个子节点时用中序后继替代）。",
            )
        d = "left" if op == "rotate_left" else "right"
        zh = "左旋" if d == "left" else "右旋"
        return Text2(f"Rotate the tree {d} at node {k}.", f"在节点 {k} 处对树进行{zh}。")

    def ask(self, rng, s):
        t = self.tree(s)
        q = pick(rng, ["inorder", "preorder", "postorder", "levelorder", "height", "search"])
        if q == "height":
            return Question(
                Text2(
                    "What is the height of this binary search tree (edges on the longest root-to-leaf path)?",
                    "这棵二叉搜索树的高度是多少（从根到最深叶子的边数）？",
                ),
                str(max(S.depths(t).values())),
            )
        if q == "search":
            key = pick(rng, set(S.depths(t)))
            return Question(
                Text2(
                    f"Which nodes are visited, in order, when searching for {key}?",
                    f"查找 {key} 时依次访问哪些节点？",
                ),
                seq(S.search_path(t, key)),
            )
        names = {
            "inorder": ("in-order", "中序"),
            "preorder": ("pre-order", "前序"),
            "postorder": ("post-order", "后序"),
            "levelorder": ("level-order", "层序"),
        }[q]
        order = getattr(S, q)(t)
        return Question(
            Text2(
                f"List the keys of this tree in {names[0]} traversal.", f"写出这棵树的{names[1]}遍历序列。"
            ),
            seq(order),
        )


def _heap_xy(i: int, levels: int) -> tuple[float, float]:
    level = int(np.floor(np.log2(i + 1)))
    pos = i - (2**level - 1)
    slots = 2 ** (levels - 1)
    span = slots * DX
    x = MARGIN + (pos + 0.5) * span / 2**level - DX / 2
    return x, MARGIN + (levels - 1 - level) * DY


class Heap(Kind):
    name = "heap"
    edits = ("push", "pop")

    def sample(self, rng):
        n = int(rng.integers(5, 12))
        h: list[int] = []
        for v in rng.choice(np.arange(1, 100), n, replace=False):
            h, _ = S.heap_push(h, int(v))
        return {"kind": "heap", "array": h}

    def draw(self, structures):
        size = max(len(s["array"]) for s in structures)
        levels = int(np.floor(np.log2(size))) + 1
        frame = (2 * MARGIN + (2 ** (levels - 1) - 1) * DX, 2 * MARGIN + (levels - 1) * DY)
        out = []
        for s in structures:
            h = s["array"]
            nodes = tuple(Node(f"h{i}", str(v), *_heap_xy(i, levels)) for i, v in enumerate(h))
            edges = tuple(Edge(f"e{(i - 1) // 2}_{i}", f"h{(i - 1) // 2}", f"h{i}") for i in range(1, len(h)))
            out.append(Drawing(nodes, edges, directed=False, frame=frame))
        return out

    def describe(self, s):
        return Text2(
            f"A binary min-heap drawn as a complete binary tree; level by level its values are {seq(s['array'])}.",
            f"一个以完全二叉树形式绘制的最小堆，按层序的值为 {seq(s['array'])}。",
        )

    def propose(self, rng, op, s):
        if op == "push":
            return {"op": op, "value": pick(rng, set(range(1, 100)) - set(s["array"]))}
        if len(s["array"]) < 3:
            raise NotApplicable("heap too small")
        return {"op": op}

    def apply(self, s, edit):
        h = S.heap_push(s["array"], edit["value"])[0] if edit["op"] == "push" else S.heap_pop(s["array"])[0]
        return {**s, "array": h}

    def check(self, source, target, edit):
        a, b = source["array"], target["array"]
        if not S.is_heap(b):
            return "the result violates the heap property"
        want = sorted([*a, edit["value"]]) if edit["op"] == "push" else sorted(a)[1:]
        return None if sorted(b) == want else f"values {sorted(b)} are not the expected {want}"

    def scope(self, source, target, edit):
        f = S.heap_push if edit["op"] == "push" else S.heap_pop
        args = (source["array"], edit["value"]) if edit["op"] == "push" else (source["array"],)
        _, idx = f(*args)
        return {f"h{i}" for i in idx} | {f"e{(i - 1) // 2}_{i}" for i in idx if i > 0}

    def instruct(self, edit):
        if edit["op"] == "push":
            v = edit["value"]
            return Text2(f"Push {v} onto the min-heap and sift it up.", f"将 {v} 压入最小堆并上滤。")
        return Text2(
            "Pop the minimum from the heap: move the last value to the root and sift it down.",
            "弹出堆顶最小值：把最后一个元素移到根部并下滤。",
        )

    def ask(self, rng, s):
        h = s["array"]
        q = pick(rng, ["array", "min", "children"])
        if q == "min":
            return Question(
                Text2("What is the smallest value in this heap?", "这个堆中的最小值是多少？"), str(h[0])
            )
        if q == "array":
            return Question(
                Text2("Write this heap as an array, index 0 first.", "把这个堆写成数组（从下标 0 开始）。"),
                seq(h),
            )
        parents = [i for i in range(len(h)) if 2 * i + 1 < len(h)]
        i = pick(rng, parents)
        kids = [h[c] for c in (2 * i + 1, 2 * i + 2) if c < len(h)]
        return Question(Text2(f"What are the children of {h[i]}?", f"{h[i]} 的子节点是哪些？"), seq(kids))
