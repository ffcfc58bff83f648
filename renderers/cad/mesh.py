"""Facts read from a part's triangle mesh, independent of the kernel's B-rep measures, so a verifier
can set one against the other (volume, bounding box) and read what the B-rep does not state
(watertightness, bodies, genus).

Genus counts the handles of a closed surface: chi = V - E + F = 2 - 2g for one connected,
watertight body. Every through opening adds one: a through hole, a through slot, a bore; blind holes,
pockets, keyways, counterbores, fillets and chamfers add none. So a plate's genus is its through
holes plus its slots: facts["holes"] minus facts["blind_holes"] (slots are not holes there: their
half-cylinder ends never close), plus one per slot.
"""

from __future__ import annotations

import numpy as np
import trimesh

from renderers.mesh.render import weld


def as_trimesh(vertices: np.ndarray, triangles: np.ndarray) -> trimesh.Trimesh:
    """The mesh with vertices welded (tolerance relative to its size: the kernel repeats every
    B-rep edge's vertices once per face), so edges are shared and the surface can close."""
    v, t = weld(vertices, triangles)
    return trimesh.Trimesh(v, t, process=True)


def mesh_facts(vertices: np.ndarray, triangles: np.ndarray) -> dict:
    """{"watertight", "volume" (mm^3), "area" (mm^2), "bbox_size" [x, y, z], "genus" (None unless
    one watertight body), "bodies"}."""
    mesh = as_trimesh(vertices, triangles)
    watertight = bool(mesh.is_watertight)
    bodies = int(mesh.body_count)
    genus = None
    if watertight and bodies == 1:
        chi = int(mesh.euler_number)
        genus = (2 - chi) // 2 if chi % 2 == 0 and chi <= 2 else None
    return {
        "watertight": watertight,
        "volume": float(mesh.volume),
        "area": float(mesh.area),
        "bbox_size": [float(s) for s in mesh.extents],
        "genus": genus,
        "bodies": bodies,
    }
