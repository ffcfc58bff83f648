"""Triangle meshes for every domain that renders 3D: offscreen shaded renders with exact masks and
depth (render: orthographic, for CAD views), 3D assets read safely from GLB, glTF, OBJ and PLY
(asset, load; test assets built here in samples), exact perspective cameras (camera) and object
renders with ground shadows composited on backgrounds (scene), for the rotation data."""

from renderers.mesh.asset import Asset, Part
from renderers.mesh.camera import PerspectiveCamera, fit_distance, orbit, relative_rotation
from renderers.mesh.load import AssetReader, AssetReject, LoadLimits, load_asset
from renderers.mesh.render import OrthoCamera, Shaded, shade, silhouette_iou, weld
from renderers.mesh.scene import Render, composite, gradient_background, ground_shadow, render_object

__all__ = [
    "Asset",
    "AssetReader",
    "AssetReject",
    "LoadLimits",
    "OrthoCamera",
    "Part",
    "PerspectiveCamera",
    "Render",
    "Shaded",
    "composite",
    "fit_distance",
    "gradient_background",
    "ground_shadow",
    "load_asset",
    "orbit",
    "relative_rotation",
    "render_object",
    "shade",
    "silhouette_iou",
    "weld",
]
