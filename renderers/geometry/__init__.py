"""Solid geometry: exact 3D models of solids, constructions and measures (model, solids,
construct, measure), and their textbook drawing: cameras, exact visibility, an independent
ray-cast check, scenes for the SVG renderer (camera, visibility, raycast, scene)."""
