"""The stages of ``synth rotate``: render views of one asset from the row's seed (a pair, or a
turntable of N views; Object-First: orbit cameras; Background-First: one camera over a photo, the
object turned), verify them by re-rendering each checked view's silhouette from the recorded camera
(and model rotation), by counting background pixels that changed (Background-First) and by
measuring how much consecutive views differ, then decide from those stored scores."""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from pipelines.rotate import background_first as bf
from pipelines.rotate.config import RotateConfig, Thresholds
from pipelines.rotate.naming import NameObject
from pipelines.rotate.poses import draw_pose, target_view
from pipelines.rotate.text import PHRASINGS, Names, object_names, write_texts
from pipelines.rotate.views import (
    background,
    cameras,
    grid,
    mask_png_array,
    orbit_cameras,
    rotation_change,
    side_by_side,
)
from renderers.mesh import (
    AssetReader,
    AssetReject,
    LoadLimits,
    PerspectiveCamera,
    load_asset,
    relative_rotation,
    render_object,
    silhouette_iou,
)
from renderers.mesh.samples import sample_assets
from renderers.mesh.scene import Prepared, Render, prepare
from synth.decision import Decide, Decision, Verdict
from synth.identity import sample_rng
from synth.imageio import DecodeError, decode_image, encode_png
from synth.sampling import NotApplicable, choice, pick
from synth.schema import image_value
from synth.sources import GROUND_PHOTOS, PhotoPool
from synth.stage import Row, Stage, mark

CACHE = 16  # prepared assets kept per worker (a file's rows usually come together)
STRATEGY_STREAM = (
    0x5354  # the strategy is drawn from a stream of its own: mixing strategies moves no other draw
)


SYMMETRIC_SHARE = 0.1  # how often the vase is drawn against another asset: enough to exercise the rejection


@functools.cache
def samples() -> dict[str, bytes]:
    """The bundled assets a ``--num`` row draws from (the vase too: its turns must be rejected)."""
    return sample_assets()


def sample_weights() -> dict[str, float]:
    """Every bundled file equally often, the symmetric vase less: its left and right turns are
    rejected by design, and a demo should not spend a third of its rows on them."""
    return {f: SYMMETRIC_SHARE if f.startswith("vase.") else 1.0 for f in samples()}


def sniff(data: bytes) -> str:
    """A suffix for bytes without a name (a Parquet cell): GLB by its magic, PLY by its header,
    glTF by its JSON, else OBJ (plain text)."""
    if data[:4] == b"glTF":
        return ".glb"
    if data[:3] == b"ply":
        return ".ply"
    return ".gltf" if data.lstrip()[:1] == b"{" else ".obj"


@dataclass
class Drawn:
    """What a strategy drew: its record, the views (the source first) and where pixels may change
    (Object-First pair: the target's mask; otherwise the objects and shadows of every view)."""

    spec: dict
    views: list[Render]
    support: np.ndarray  # (H, W) bool


class RenderRotation(Stage):
    """Reads the asset (in the reader's child process, with a timeout), draws the views from the
    row's seed with the same lights and background, and writes an edit, und or turntable row."""

    name = "render"
    error_reason = "render_error"
    keeps_model = True  # the reader's child process and the GL context live as long as the worker
    reads = ("seed", "meta", "_input")
    writes = (
        "domain", "subdomain", "task", "language", "width", "height", "source_image", "target_image",
        "aux_images", "instruction", "instructions", "response", "spec", "license", "meta",
        "_asset", "_views", "_support",
    )  # fmt: skip

    def __init__(self, cfg: RotateConfig):
        self.cfg = cfg

    def setup(self) -> None:
        r = self.cfg.read
        self.limits = LoadLimits(r.max_bytes, r.max_triangles, r.max_texture_side, r.up)
        self.reader = AssetReader(r.timeout_s)
        self.cache: OrderedDict[str, Prepared] = OrderedDict()
        s = self.cfg.sources
        self.photos = (
            PhotoPool(s.images, s.image_column, s.caption_column, bundled=GROUND_PHOTOS)
            if self.cfg.strategy.get("background_first", 0) > 0
            else None
        )

    def asset(self, data: bytes, suffix: str, trusted: bool = False) -> tuple[Prepared, str]:
        """The prepared asset and its content digest; read and prepared once per worker. Input
        files are parsed in the reader's child process; the bundled samples (trusted, built here)
        in this one, so a --num run starts no child at all."""
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.cache:
            self.cache.move_to_end(digest)
        else:
            read = load_asset if trusted else self.reader.read
            self.cache[digest] = prepare(read(data, suffix, self.limits))
            while len(self.cache) > CACHE:
                self.cache.popitem(last=False)
        return self.cache[digest], digest

    def process_row(self, row: Row) -> Row:
        cfg, rng = self.cfg, sample_rng(row["seed"])
        given = row.get("_input")
        if given is None:
            file = choice(rng, sample_weights())
            data, suffix, license_ = samples()[file], "." + file.rsplit(".", 1)[1], "generated"
        else:
            file, data, suffix, license_ = given["key"], given["bytes"], given["suffix"], None
            suffix = suffix or sniff(data)
        try:
            asset, digest = self.asset(data, suffix, trusted=given is None)
        except AssetReject as e:  # a hang is an error (another try may pass); the rest are final
            return mark(row, "render_timeout" if e.reason == "timeout" else e.reason, e.detail)
        if not asset.parts:
            return mark(row, "render_error", "the asset has no triangles to draw")
        strategy = choice(np.random.default_rng([row["seed"], STRATEGY_STREAM]), cfg.strategy)
        task = choice(rng, cfg.tasks)
        try:
            if strategy == "background_first":
                drawn = self.background_first(rng, asset, turntable=task == "turntable")
            elif task == "turntable":
                drawn = self.object_first_turntable(rng, asset)
            else:
                drawn = self.object_first(rng, asset)
        except DecodeError as e:
            return mark(row, e.reason, str(e))
        except NotApplicable as e:
            return mark(row, "render_error", str(e))
        if strategy == "background_first":
            photo = drawn.spec["background"].get("license") or f"from {cfg.sources.images}"
            license_ = f"asset: {license_ or 'from the input'}; photo: {photo}"
        spec = {"strategy": strategy, "asset": asset.name, "file": file, **drawn.spec}
        row.update(
            domain="spatial",
            subdomain=f"rotate/{strategy}/{'turntable' if task == 'turntable' else spec['direction']}",
            task="edit" if task == "turntable" else task,
            language="en",
            license=license_,
            meta={**(row.get("meta") or {}), "asset": asset.name, "file": file, "digest": digest[:16]},
            _asset=asset,
            _views=drawn.views,
            _support=drawn.support,
        )
        compose(row, task, spec, drawn, object_names(asset.name), rng, cfg)
        return row

    def object_first(self, rng, asset: Prepared) -> Drawn:
        """The camera orbits the object on a plain or gradient background; lights turn with the
        camera. What may change is the target's mask."""
        cfg = self.cfg
        pose = draw_pose(rng, cfg)
        bg_kind = choice(rng, cfg.background)
        bg, bg_record = background(rng, bg_kind, cfg.render.size)
        source_cam, target_cam = cameras(asset, pose, cfg.render)
        source, target = (render_object(asset, c, background=bg) for c in (source_cam, target_cam))
        spec = {
            "direction": pose.direction,
            "angle_deg": pose.angle,
            "source_view": {"azimuth_deg": pose.azimuth, "elevation_deg": pose.elevation},
            "target_view": {"azimuth_deg": pose.target[0], "elevation_deg": pose.target[1]},
            "source_camera": source_cam.to_dict(),
            "target_camera": target_cam.to_dict(),
            "rotation": relative_rotation(source_cam, target_cam),
            "background": bg_record,
        }
        return Drawn(spec, [source, target], target.mask)

    def object_first_turntable(self, rng, asset: Prepared) -> Drawn:
        """turntable.views orbit cameras 360/views degrees apart at one elevation, the first the
        source view; view k sees the object turned k steps toward the direction."""
        cfg, tt = self.cfg, self.cfg.turntable
        direction = bf.turn_direction(rng, tt.directions)
        step = 360.0 / tt.views
        azimuth = round(float(rng.uniform(0.0, 360.0)), 2)
        elevation = round(float(rng.uniform(*cfg.elevation.source)), 2)
        bg_kind = choice(rng, cfg.background)
        bg, bg_record = background(rng, bg_kind, tt.cell)
        poses = [target_view(azimuth, elevation, direction, k * step) for k in range(tt.views)]
        cams = orbit_cameras(asset, poses, cfg.render, tt.cell)
        views = [render_object(asset, c, background=bg) for c in cams]
        spec = {
            "direction": direction,
            "angle_deg": step,
            "views": [
                {
                    "azimuth_deg": a,
                    "elevation_deg": e,
                    "camera": c.to_dict(),
                    "rotation": relative_rotation(cams[0], c),
                }
                for (a, e), c in zip(poses, cams, strict=True)
            ],
            "background": bg_record,
        }
        return Drawn(spec, views, np.logical_or.reduce([v.mask for v in views]))

    def background_first(self, rng, asset: Prepared, turntable: bool = False) -> Drawn:
        """One camera and one world light over a photo; the source shows the asset as it is, the
        target (or each view of a turntable) the asset turned about its base centre."""
        cfg, tt = self.cfg, self.cfg.turntable
        ref = self.photos[int(rng.integers(len(self.photos)))]
        photo = self.photos.load(ref)
        size = tt.cell if turntable else cfg.render.size
        pixels, crop = bf.fit_photo(photo.pixels, size)
        scene = (
            bf.draw_scene(rng, cfg, angle=360.0 / tt.views, directions=tt.directions)
            if turntable
            else bf.draw_scene(rng, cfg)
        )
        about = bf.pivot(asset)
        yaws = [k * scene.yaw for k in range(tt.views if turntable else 2)]
        poses = [bf.turned(asset, yaw, about) if yaw else asset for yaw in yaws]
        cam = bf.camera(poses, scene, cfg, size)
        matched = bf.photo_light(pixels)
        views = [bf.render_view(a, cam, scene, pixels, cfg, matched) for a in poses]
        spec = {
            "direction": scene.direction,
            "angle_deg": scene.angle,
            "view": {"azimuth_deg": scene.azimuth, "elevation_deg": scene.elevation},
            **(
                {
                    "views": [
                        {"camera": cam.to_dict(), "model_rotation": bf.model_rotation(y, about)} for y in yaws
                    ]
                }
                if turntable
                else {
                    "source_camera": cam.to_dict(),
                    "target_camera": cam.to_dict(),
                    "model_rotation": bf.model_rotation(yaws[1], about),
                }
            ),
            "light": {
                "direction": list(scene.light_dir),
                "fill_direction": list(scene.fill_dir),
                "frame": "world, toward the light; the same for every view",
                **matched,
                "matched": "grey world: tint from the photo's mean linear colour, exposure from its luminance",
            },
            "shadow": {
                "softness_px": bf.shadow_softness(cfg, size),
                "strength": cfg.scene.shadow_strength,
                "ground": "z = 0",
            },
            "background": {
                "kind": "photo",
                "ref": photo.ref,
                "digest": photo.digest,
                "source": cfg.sources.images or "skimage",
                "crop": crop,
                "license": photo.license,
            },
        }
        support = np.logical_or.reduce([v.support for v in views])
        return Drawn(spec, [v.render for v in views], support)


def compose(row: Row, task: str, spec: dict, drawn: Drawn, names: Names, rng, cfg: RotateConfig) -> None:
    """The row's images for its task (an edit pair, the two views side by side for a question, or
    a turntable grid), the choices its texts need drawn from rng into the spec, then its texts."""
    views, size = drawn.views, drawn.views[0].rgb.shape[0]
    if task == "und":
        kind = pick(rng, ("angle", "direction"))
        if spec["angle_deg"] >= 180:  # half a turn is as much left as right
            kind = "angle"
        gap = max(1, size // 32)
        row.update(
            width=2 * size + gap,
            height=size,
            source_image=image_value(encode_png(side_by_side(views[0].rgb, views[1].rgb, gap))),
            target_image=None,
            spec={**spec, "question": kind, "layout": f"source | {gap} px gap | target"},
        )
    else:
        if task == "turntable":
            columns = cfg.turntable.columns
            target = grid([v.rgb for v in views], columns)
            mask = grid([mask_png_array(drawn.support)] * len(views), columns)
            layout = {"columns": columns, "rows": len(views) // columns, "cell": size}
            spec = {**spec, "grid": {**layout, "order": "row-major from the top left"}}
        else:
            target, mask = views[1].rgb, mask_png_array(drawn.support)
        row.update(
            width=target.shape[1],
            height=target.shape[0],
            source_image=image_value(encode_png(views[0].rgb)),
            target_image=image_value(encode_png(target)),
            aux_images=[image_value(encode_png(mask))],
            spec={**spec, "phrasing": int(rng.integers(PHRASINGS))},
        )
    write_texts(row, names, cfg.angles)


class VerifyRotation(Stage):
    """Re-renders each checked view's silhouette (a pair's target, every view of a turntable) from
    the camera and model rotation the spec records and compares it with the view's mask (the stored
    PNG for an Object-First edit pair), and measures how much consecutive views differ."""

    name = "verify"
    error_reason = "render_error"
    keeps_model = True  # the GL context
    reads = ("spec", "task", "aux_images", "_asset", "_views", "_support")
    writes = ("scores",)

    def process_row(self, row: Row) -> Row:
        spec, views = row["spec"], row["_views"]
        background_first = spec["strategy"] == "background_first"
        if "views" in spec:
            checks = [
                (v["camera"], v.get("model_rotation"), r.mask)
                for v, r in zip(spec["views"], views, strict=True)
            ]
        else:
            stored = views[1].mask
            if row.get("aux_images") and not background_first:
                stored = decode_image(row["aux_images"][0]["bytes"])[..., 0] > 127
            checks = [(spec["target_camera"], spec.get("model_rotation"), stored)]
        iou = 1.0
        for camera, rotation, stored in checks:
            asset = row["_asset"] if rotation is None else bf.turned_from_record(row["_asset"], rotation)
            again = render_object(asset, PerspectiveCamera.from_dict(camera)).mask
            iou = min(iou, silhouette_iou(again, stored))
        scores: dict[str, float] = {"silhouette_iou": round(iou, 6)}
        if background_first:
            support = row["_support"]
            if row.get("aux_images") and "views" not in spec:
                support = decode_image(row["aux_images"][0]["bytes"])[..., 0] > 127
            scores["background_changed"] = max(
                bf.background_changed(views[0].rgb, v.rgb, support) for v in views[1:]
            )
        scores["rotation_change"] = round(min(rotation_change(a, b) for a, b in itertools.pairwise(views)), 6)
        row["scores"] = {**(row.get("scores") or {}), **scores}
        return row


def decide(s: dict[str, float], row: Row, t: Thresholds) -> Verdict:
    """A wrong record first (the target is not what its camera shows), then a degenerate pair."""
    if s.get("silhouette_iou", 0.0) < t.min_silhouette_iou:
        return "verify_failed", (
            f"silhouette mismatch: IoU {s.get('silhouette_iou', 0.0):.4f} of the target's mask and a "
            f"re-render from the recorded camera (< {t.min_silhouette_iou})"
        )
    if s.get("background_changed", 0) > t.max_background_changed:
        return "verify_failed", (
            f"background changed: {s['background_changed']:g} pixels differ outside the objects and their "
            f"shadows (> {t.max_background_changed})"
        )
    if s.get("rotation_change", 0.0) < t.min_change:
        return "verify_failed", (
            f"rotation not visible: the views differ by {s.get('rotation_change', 0.0):.4f} "
            f"over the object (< {t.min_change})"
        )
    return None


DECISION = Decision(decide, frozenset({"verify_failed"}))


def build_stages(cfg: RotateConfig) -> list[Stage]:
    """Naming comes last: only kept rows are worth a request."""
    naming = [NameObject(cfg)] if cfg.name_with_llm else []
    return [RenderRotation(cfg), VerifyRotation(), Decide(DECISION, cfg.thresholds), *naming]
