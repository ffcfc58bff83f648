"""Triangle meshes for every domain that renders 3D: offscreen shaded renders with exact masks and
depth (render), for CAD parts now and 3D assets later."""

from renderers.mesh.render import OrthoCamera, Shaded, shade, silhouette_iou, weld

__all__ = ["OrthoCamera", "Shaded", "shade", "silhouette_iou", "weld"]
