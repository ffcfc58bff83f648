"""The stages of ``synth rotate``: render a pair of views of one asset from the row's seed
(Object-First: two orbit cameras; Background-First: one camera over a photo, the object turned),
verify it by re-rendering the target's silhouette from the recorded camera (and model rotation),
by counting background pixels that changed (Background-First) and by measuring how much the two
views differ, then decide from those stored scores."""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict

import numpy as np

from pipelines.rotate import background_first as bf
from pipelines.rotate.config import RotateConfig, Thresholds
from pipelines.rotate.poses import draw_pose
from pipelines.rotate.text import instructions, question
from pipelines.rotate.views import background, cameras, mask_png_array, rotation_change, side_by_side
from renderers.mesh import (
    AssetReader,
    AssetReject,
    LoadLimits,
    PerspectiveCamera,
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
from synth.sources import PhotoPool
from synth.stage import Row, Stage, mark

CACHE = 16  # prepared assets kept per worker (a file's rows usually come together)
STRATEGY_STREAM = (
    0x5354  # the strategy is drawn from a stream of its own: mixing strategies moves no other draw
)


SYMMETRIC_SHARE = 0.25  # how often the vase is drawn against another asset: enough to exercise the rejection


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


class RenderRotation(Stage):
    """Reads the asset (in the reader's child process, with a timeout), draws the pose from the
    row's seed and renders the source and target views with the same lights and background."""

    name = "render"
    error_reason = "render_error"
    keeps_model = True  # the reader's child process and the GL context live as long as the worker
    reads = ("seed", "meta", "_input")
    writes = (
        "domain", "subdomain", "task", "language", "width", "height", "source_image", "target_image",
        "aux_images", "instruction", "instructions", "response", "spec", "license", "meta",
        "_asset", "_source", "_target", "_support",
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
            PhotoPool(s.images, s.image_column, s.caption_column)
            if self.cfg.strategy.get("background_first", 0) > 0
            else None
        )

    def asset(self, data: bytes, suffix: str) -> tuple[Prepared, str]:
        """The prepared asset and its content digest; read and prepared once per worker."""
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.cache:
            self.cache.move_to_end(digest)
        else:
            self.cache[digest] = prepare(self.reader.read(data, suffix, self.limits))
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
            asset, digest = self.asset(data, suffix)
        except AssetReject as e:  # a hang is an error (another try may pass); the rest are final
            return mark(row, "render_timeout" if e.reason == "timeout" else e.reason, e.detail)
        if not asset.parts:
            return mark(row, "render_error", "the asset has no triangles to draw")
        strategy = choice(np.random.default_rng([row["seed"], STRATEGY_STREAM]), cfg.strategy)
        task = choice(rng, cfg.tasks)
        if strategy == "background_first":
            try:
                drawn = self.background_first(rng, asset)
            except DecodeError as e:
                return mark(row, e.reason, str(e))
        else:
            try:
                drawn = self.object_first(rng, asset)
            except NotApplicable as e:
                return mark(row, "render_error", str(e))
        spec, source, target, mask = drawn
        direction, angle = spec["direction"], spec["angle_deg"]
        spec = {"strategy": strategy, "asset": asset.name, "file": file, **spec}
        variants = instructions(asset.name, direction, angle)
        english = [v for v in variants if v["language"] == "en"]
        size = cfg.render.size
        row.update(
            domain="spatial",
            subdomain=f"rotate/{strategy}/{direction}",
            task=task,
            language="en",
            license=license_,
            meta={**(row.get("meta") or {}), "asset": asset.name, "file": file, "digest": digest[:16]},
            _asset=asset,
            _source=source,
            _target=target,
            _support=mask if strategy == "background_first" else None,
        )
        if task == "edit":
            row.update(
                width=size,
                height=size,
                instruction=english[int(rng.integers(len(english)))]["text"],
                instructions=variants,
                source_image=image_value(encode_png(source.rgb)),
                target_image=image_value(encode_png(target.rgb)),
                aux_images=[image_value(encode_png(mask_png_array(mask)))],
                spec=spec,
            )
            return row
        kind = pick(rng, ("angle", "direction"))
        if angle >= 180:  # half a turn is as much left as right
            kind = "angle"
        q = question(kind, asset.name, direction, angle, cfg.angles)
        gap = max(1, size // 32)
        row.update(
            width=2 * size + gap,
            height=size,
            instruction=q.en,
            instructions=[
                {"style": "question", "language": "en", "text": q.en},
                {"style": "question", "language": "zh", "text": q.zh},
            ],
            response=q.answer,
            source_image=image_value(encode_png(side_by_side(source.rgb, target.rgb, gap))),
            target_image=None,
            spec={**spec, "question": kind, "answer": q.answer, "layout": f"source | {gap} px gap | target"},
        )
        return row

    def object_first(self, rng, asset: Prepared) -> tuple[dict, Render, Render, np.ndarray]:
        """(spec, source, target, target mask): the camera orbits the object on a plain or
        gradient background; lights turn with the camera."""
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
        return spec, source, target, target.mask

    def background_first(self, rng, asset: Prepared) -> tuple[dict, Render, Render, np.ndarray]:
        """(spec, source, target, what may change): one camera and one world light over a photo;
        the source shows the asset as it is, the target the asset turned about its base centre."""
        cfg = self.cfg
        ref = self.photos[int(rng.integers(len(self.photos)))]
        photo = self.photos.load(ref)
        pixels, crop = bf.fit_photo(photo.pixels, cfg.render.size)
        scene = bf.draw_scene(rng, cfg)
        about = bf.pivot(asset)
        moved = bf.turned(asset, scene.yaw, about)
        cam = bf.camera(asset, moved, scene, cfg)
        source, target = (bf.render_view(a, cam, scene, pixels, cfg) for a in (asset, moved))
        spec = {
            "direction": scene.direction,
            "angle_deg": scene.angle,
            "view": {"azimuth_deg": scene.azimuth, "elevation_deg": scene.elevation},
            "source_camera": cam.to_dict(),
            "target_camera": cam.to_dict(),
            "model_rotation": bf.model_rotation(scene.yaw, about),
            "light": {
                "direction": list(scene.light_dir),
                "fill_direction": list(scene.fill_dir),
                "frame": "world, toward the light; the same for both views",
            },
            "shadow": {
                "softness_px": cfg.scene.shadow_softness_px * cfg.render.size / bf.REFERENCE_SIZE,
                "strength": cfg.scene.shadow_strength,
                "ground": "z = 0",
            },
            "background": {
                "kind": "photo",
                "ref": photo.ref,
                "digest": photo.digest,
                "source": cfg.sources.images or "skimage",
                "crop": crop,
            },
        }
        return spec, source.render, target.render, source.support | target.support


class VerifyRotation(Stage):
    """Re-renders the target's silhouette from the camera the spec records and compares it with
    the target's mask (the stored PNG for an edit row), and measures how much the views differ."""

    name = "verify"
    error_reason = "render_error"
    keeps_model = True  # the GL context
    reads = ("spec", "aux_images", "_asset", "_source", "_target", "_support")
    writes = ("scores",)

    def process_row(self, row: Row) -> Row:
        spec = row["spec"]
        camera = PerspectiveCamera.from_dict(spec["target_camera"])
        scores: dict[str, float] = {}
        if spec["strategy"] == "background_first":
            asset = bf.turned_from_record(row["_asset"], spec["model_rotation"])
            again = render_object(asset, camera).mask
            stored = row["_target"].mask
            support = row["_support"]
            if row.get("aux_images"):
                support = decode_image(row["aux_images"][0]["bytes"])[..., 0] > 127
            scores["background_changed"] = bf.background_changed(
                row["_source"].rgb, row["_target"].rgb, support
            )
        else:
            again = render_object(row["_asset"], camera).mask
            stored = row["_target"].mask
            if row.get("aux_images"):
                stored = decode_image(row["aux_images"][0]["bytes"])[..., 0] > 127
        row["scores"] = {
            **(row.get("scores") or {}),
            "silhouette_iou": round(silhouette_iou(again, stored), 6),
            **scores,
            "rotation_change": round(rotation_change(row["_source"], row["_target"]), 6),
        }
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
    return [RenderRotation(cfg), VerifyRotation(), Decide(DECISION, cfg.thresholds)]
