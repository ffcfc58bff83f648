"""The data structures and algorithms behind ``synth cs-diagram``: pure functions on plain values.

Every edit is an algorithm run on a structure (a BST insert, a heap pop with its sift, a BFS), and
every understanding answer is computed by one of these functions, never written by hand. A
structure is a JSON-able dict, so it goes into ``spec`` as it is.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

# ---------------------------------------------------------------------------------------------
# Binary search trees: {"root": key | None, "left": {key: key}, "right": {key: key}}, keys ints.
# Stored as child maps (not nested dicts) so a node's identity is its key.


def bst_empty() -> dict[str, Any]:
    return {"root": None, "left": {}, "right": {}}


def _copy(tree: dict) -> dict:
    return {"root": tree["root"], "left": dict(tree["left"]), "right": dict(tree["right"])}


def _kids(tree: dict, side: str) -> dict[int, int]:
    return tree[side]


def bst_insert(tree: dict, key: int) -> dict:
    t = _copy(tree)
    if t["root"] is None:
        t["root"] = key
        return t
    node = t["root"]
    while True:
        if key == node:
            raise ValueError(f"{key} is already in the tree")
        side = "left" if key < node else "right"
        child = _kids(t, side).get(node)
        if child is None:
            _kids(t, side)[node] = key
            return t
        node = child


def bst_from(keys: list[int]) -> dict:
    t = bst_empty()
    for k in keys:
        t = bst_insert(t, k)
    return t


def bst_parent(tree: dict, key: int) -> int | None:
    for side in ("left", "right"):
        for p, c in tree[side].items():
            if c == key:
                return p
    return None


def _replace_child(t: dict, parent: int | None, old: int, new: int | None) -> None:
    if parent is None:
        t["root"] = new
        return
    for side in ("left", "right"):
        if t[side].get(parent) == old:
            if new is None:
                del t[side][parent]
            else:
                t[side][parent] = new


def bst_delete(tree: dict, key: int) -> dict:
    """Textbook deletion: a leaf goes, a node with one child is bypassed, a node with two children
    takes its in-order successor's key (the successor node is removed from its place)."""
    t = _copy(tree)
    left, right = t["left"].get(key), t["right"].get(key)
    parent = bst_parent(t, key)
    if left is not None and right is not None:
        succ = right
        while succ in t["left"]:
            succ = t["left"][succ]
        t = bst_delete(t, succ)  # succ has no left child
        left, right = t["left"].pop(key, None), t["right"].pop(key, None)
        parent = bst_parent(t, key)
        _replace_child(t, parent, key, succ)
        if left is not None:
            t["left"][succ] = left
        if right is not None:
            t["right"][succ] = right
        return t
    child = left if left is not None else right
    t["left"].pop(key, None)
    t["right"].pop(key, None)
    _replace_child(t, parent, key, child)
    return t


def bst_rotate(tree: dict, key: int, direction: str) -> dict:
    """Rotate left (the right child rises) or right (the left child rises) at ``key``."""
    t = _copy(tree)
    up_side, other = ("right", "left") if direction == "left" else ("left", "right")
    pivot = t[up_side].get(key)
    if pivot is None:
        raise ValueError(f"node {key} has no {up_side} child to rotate {direction}")
    parent = bst_parent(t, key)
    inner = t[other].get(pivot)
    if inner is None:
        t[up_side].pop(key)
    else:
        t[up_side][key] = inner
    t[other][pivot] = key
    _replace_child(t, parent, key, pivot)
    return t


def inorder(tree: dict) -> list[int]:
    out, stack, node = [], [], tree["root"]
    while stack or node is not None:
        while node is not None:
            stack.append(node)
            node = tree["left"].get(node)
        node = stack.pop()
        out.append(node)
        node = tree["right"].get(node)
    return out


def preorder(tree: dict) -> list[int]:
    out, stack = [], [tree["root"]] if tree["root"] is not None else []
    while stack:
        node = stack.pop()
        out.append(node)
        for side in ("right", "left"):
            if node in tree[side]:
                stack.append(tree[side][node])
    return out


def postorder(tree: dict) -> list[int]:
    out = []

    def walk(node):
        if node is None:
            return
        walk(tree["left"].get(node))
        walk(tree["right"].get(node))
        out.append(node)

    walk(tree["root"])
    return out


def levelorder(tree: dict) -> list[int]:
    out, queue = [], deque([tree["root"]] if tree["root"] is not None else [])
    while queue:
        node = queue.popleft()
        out.append(node)
        queue.extend(tree[s][node] for s in ("left", "right") if node in tree[s])
    return out


def depths(tree: dict) -> dict[int, int]:
    out, queue = {}, deque([(tree["root"], 0)] if tree["root"] is not None else [])
    while queue:
        node, d = queue.popleft()
        out[node] = d
        queue.extend((tree[s][node], d + 1) for s in ("left", "right") if node in tree[s])
    return out


def is_bst(tree: dict) -> bool:
    keys = inorder(tree)
    return keys == sorted(keys) and len(keys) == len(set(keys)) == len(depths(tree))


def search_path(tree: dict, key: int) -> list[int]:
    path, node = [], tree["root"]
    while node is not None:
        path.append(node)
        if key == node:
            break
        node = tree["left" if key < node else "right"].get(node)
    return path


# ---------------------------------------------------------------------------------------------
# Binary min-heaps as arrays


def heap_push(heap: list[int], value: int) -> tuple[list[int], list[int]]:
    """The heap after pushing, and the indices whose value changed (the sift-up path)."""
    h = [*heap, value]
    i, changed = len(h) - 1, {len(h) - 1}
    while i > 0 and h[(i - 1) // 2] > h[i]:
        p = (i - 1) // 2
        h[p], h[i] = h[i], h[p]
        changed |= {p, i}
        i = p
    return h, sorted(changed)


def heap_pop(heap: list[int]) -> tuple[list[int], list[int]]:
    """The heap after removing its minimum, and the indices whose value changed or vanished."""
    if not heap:
        raise ValueError("pop from an empty heap")
    h = heap[:-1]
    changed = {len(heap) - 1}
    if h:
        h[0] = heap[-1]
        changed.add(0)
        i = 0
        while True:
            small = min((c for c in (2 * i + 1, 2 * i + 2) if c < len(h)), key=lambda c: h[c], default=None)
            if small is None or h[small] >= h[i]:
                break
            h[i], h[small] = h[small], h[i]
            changed |= {i, small}
            i = small
    return h, sorted(changed)


def is_heap(h: list[int]) -> bool:
    return all(h[(i - 1) // 2] <= h[i] for i in range(1, len(h)))


# ---------------------------------------------------------------------------------------------
# Graphs: {"nodes": [names], "edges": [[a, b, weight]], "directed": bool}


def neighbours(graph: dict, node: str) -> list[str]:
    out = set()
    for a, b, _ in graph["edges"]:
        if a == node:
            out.add(b)
        elif b == node and not graph.get("directed"):
            out.add(a)
    return sorted(out)


def bfs(graph: dict, start: str) -> list[str]:
    order, seen, queue = [], {start}, deque([start])
    while queue:
        node = queue.popleft()
        order.append(node)
        for n in neighbours(graph, node):
            if n not in seen:
                seen.add(n)
                queue.append(n)
    return order


def dfs(graph: dict, start: str) -> list[str]:
    """Recursive-order DFS, neighbours in alphabetical order."""
    order, seen = [], set()

    def visit(node):
        seen.add(node)
        order.append(node)
        for n in neighbours(graph, node):
            if n not in seen:
                visit(n)

    visit(start)
    return order


def shortest_path(graph: dict, start: str, goal: str) -> tuple[float, list[str]]:
    """Dijkstra; ties broken by path order, so the answer is unique. (inf, []) when unreachable."""
    weight = {}
    for a, b, w in graph["edges"]:
        weight[(a, b)] = w
        if not graph.get("directed"):
            weight[(b, a)] = w
    queue, done = [(0.0, [start])], set()
    while queue:
        dist, path = heapq.heappop(queue)
        node = path[-1]
        if node == goal:
            return dist, path
        if node in done:
            continue
        done.add(node)
        for n in neighbours(graph, node):
            if n not in done:
                heapq.heappush(queue, (dist + weight[(node, n)], [*path, n]))
    return float("inf"), []


def edge_key(graph: dict, a: str, b: str) -> tuple[str, str]:
    return (a, b) if graph.get("directed") or a <= b else (b, a)


# ---------------------------------------------------------------------------------------------
# Finite automata: {"states": [...], "alphabet": [...], "start": s, "accept": [...],
#                   "delta": [[state, symbol, state]]}; a DFA has at most one move per (state, symbol)


def accepts(fa: dict, word: str) -> bool:
    """Subset simulation, so it answers for DFAs and NFAs alike (no epsilon moves)."""
    current = {fa["start"]}
    for symbol in word:
        current = {t for s, a, t in fa["delta"] if s in current and a == symbol}
        if not current:
            return False
    return bool(current & set(fa["accept"]))


def is_deterministic(fa: dict) -> bool:
    moves = [(s, a) for s, a, _ in fa["delta"]]
    return len(moves) == len(set(moves))
