"""Planning and rendering of one synthetic video: people, camera, hard-frame
events, labels.

Every random choice draws from its own generator keyed by (seed, split, video,
purpose, ...), so changing one rate (e.g. occlusion_rate=0) leaves every other
part of the video unchanged.
"""
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

from . import render
from .skeleton import (JOINT_INDEX, KEYPOINT_JOINTS, PersonTrack, extent,
                       random_motion, random_style, simulate)

PURPOSES = {
    name: i
    for i, name in enumerate(('scene', 'person', 'truncate', 'events',
                              'occluder', 'ignore', 'noise', 'detections'))
}
# joints an occluder is put on, with their relative weights
OCCLUSION_TARGETS = {
    f'{side}_{joint}': weight
    for joint, weight in (('wrist', 3), ('elbow', 2), ('knee', 2),
                          ('ankle', 2), ('hip', 1), ('shoulder', 1))
    for side in ('left', 'right')
}
PAN_MARGIN = 8


def keyed_rng(seed, split_code, video_index, purpose, *extra):
    return np.random.default_rng([
        int(seed),
        int(split_code),
        int(video_index), PURPOSES[purpose], *[int(e) for e in extra]
    ])


@dataclass
class Event:
    kind: str  # 'occlusion' or 'blur'
    frames: list
    params: dict = field(default_factory=dict)


@dataclass
class VideoPlan:
    width: int
    height: int
    nframes: int
    # (H + 2 * PAN_MARGIN, W + 2 * PAN_MARGIN, 3) float32
    background: np.ndarray
    pan: np.ndarray  # (T, 2) integer camera offsets into the background
    light: np.ndarray  # (3,) unit light direction, image frame
    noise_sigma: float
    tracks: list
    events: dict  # frame index -> Event
    ignore_track: Optional[PersonTrack] = None
    ignore_polygon: Optional[np.ndarray] = None  # (N, 2) int


def _stochastic_round(rng, value):
    return int(np.floor(value) + (rng.random() < value - np.floor(value)))


def _fit_inside(motion, style, nframes, width, height, track_id, margin=2.0):
    """Simulate and adjust speed/size/position until the whole figure stays
    inside the image."""
    for attempt in range(40):
        # give up on travelling: stand still and only shrink from now on
        if attempt == 10:
            motion = replace(motion, velocity=(0.0, 0.0), scale_rate=0.0)
        track = simulate(motion, style, nframes, track_id)
        x0, y0, x1, y1 = extent(track)
        if x1 - x0 > width - 2 * margin:
            if abs(motion.velocity[0]) * nframes > 0.1 * width:
                motion = replace(
                    motion, velocity=(0.5 * motion.velocity[0], 0.0))
            else:
                motion = replace(motion, height0=0.85 * motion.height0)
        elif y1 - y0 > height - 2 * margin:
            motion = replace(
                motion,
                height0=0.95 * motion.height0 * (height - 2 * margin) /
                (y1 - y0),
                scale_rate=0.5 * motion.scale_rate)
        else:
            dx = max(margin - x0, 0.0) - max(x1 - (width - margin), 0.0)
            dy = max(margin - y0, 0.0) - max(y1 - (height - margin), 0.0)
            return track.shifted(dx, dy)
    raise RuntimeError(
        f'could not fit a {motion.kind} figure into a {width}x{height} image')


def _truncate(rng, track, width, height):
    """Shift a track so that at one frame part of its joints lie outside the
    image."""
    t = int(rng.integers(track.points.shape[0]))
    kpts = track.keypoints(t)
    kpts = kpts[~np.isnan(kpts[:, 0])]
    lo, hi = kpts.min(0), kpts.max(0)
    span = hi - lo
    side = rng.choice(['left', 'right', 'bottom'], p=[0.4, 0.4, 0.2])
    frac = rng.uniform(0.2, 0.45) if side != 'bottom' else rng.uniform(
        0.1, 0.3)
    if side == 'left':
        shifted = track.shifted(-lo[0] - frac * span[0] - 1, 0.0)
    elif side == 'right':
        shifted = track.shifted(width + frac * span[0] - hi[0], 0.0)
    else:
        shifted = track.shifted(0.0, height + frac * span[1] - hi[1])
    return replace(shifted, truncated_by_design=True)


def _place_people(cfg, seed, split_code, video_index):
    width, height = cfg.image_size
    nframes = cfg.frames_per_video
    rng = keyed_rng(seed, split_code, video_index, 'person')
    lo, hi = cfg.persons_per_video
    tracks = []
    for track_id in range(int(rng.integers(lo, hi + 1))):
        style = random_style(rng)
        size = height * rng.uniform(0.42, 0.82)
        candidates = rng.uniform(0.15 * width, 0.85 * width, 6)
        # spread people out so they do not stand on top of each other
        if tracks:
            placed = np.array([
                tr.points[:, JOINT_INDEX['pelvis'], 0].mean() for tr in tracks
            ])
            gx = candidates[np.argmax(
                np.abs(candidates[:, None] - placed[None]).min(1))]
        else:
            gx = candidates[0]
        gy = 0.1 * height + 1.05 * size + rng.uniform(
            0, max(1.0, 0.85 * height - 1.05 * size))
        motion = random_motion(rng, size, (gx, gy))
        tracks.append(
            _fit_inside(motion, style, nframes, width, height, track_id))
    trunc_rng = keyed_rng(seed, split_code, video_index, 'truncate')
    for i, track in enumerate(tracks):
        if trunc_rng.random() < cfg.truncation_rate:
            tracks[i] = _truncate(trunc_rng, track, width, height)
    return tracks


def _schedule_events(cfg, rng, tracks):
    """Frame-local occlusion/blur events of 1-2 frames, each with clean
    neighbouring frames."""
    nframes = cfg.frames_per_video
    pending = []
    for kind, rate in (('occlusion', cfg.occlusion_rate),
                       ('blur', cfg.motion_blur_rate)):
        remaining = _stochastic_round(rng, rate * nframes)
        while remaining > 0:
            length = 2 if remaining >= 2 and rng.random() < 0.5 else 1
            pending.append((kind, length))
            remaining -= length
    rng.shuffle(pending)
    busy = np.zeros(nframes + 2,
                    bool)  # index f + 1 is frame f; the ends pad the borders
    events = {}
    for kind, length in pending:
        for size in (length, 1):
            starts = [
                s for s in range(1, nframes - size)
                if not busy[s:s + size + 2].any()
            ]
            if starts:
                break
        if not starts:
            continue
        start = int(rng.choice(starts))
        frames = list(range(start, start + size))
        busy[start + 1:start + size + 1] = True
        event = Event(kind, frames,
                      _event_params(kind, rng, tracks, frames, cfg))
        if event.params is not None:
            events.update({f: event for f in frames})
    return events


def _joint_inside(track, joint, frames, width, height):
    p = track.points[frames, JOINT_INDEX[joint]]
    return bool(
        np.all((p[:, 0] >= 0) & (p[:, 0] <= width - 1) & (p[:, 1] >= 0)
               & (p[:, 1] <= height - 1)))


def _event_params(kind, rng, tracks, frames, cfg):
    width, height = cfg.image_size
    if kind == 'blur':
        return dict(
            whole_frame=bool(rng.random() < 0.5),
            track=int(rng.integers(len(tracks))),
            length=float(rng.uniform(0.035, 0.07) * max(width, height)),
            angle=float(rng.uniform(0, np.pi)))
    options = [(i, joint) for i, track in enumerate(tracks)
               for joint in OCCLUSION_TARGETS
               if _joint_inside(track, joint, frames, width, height)]
    if not options:
        return None
    weights = np.array([OCCLUSION_TARGETS[j] for _, j in options], np.float64)
    i, joint = options[int(
        rng.choice(len(options), p=weights / weights.sum()))]
    kind_occ = str(rng.choice(['box', 'blob', 'pole'], p=[0.5, 0.3, 0.2]))
    size = float(tracks[i].height[frames].mean() * rng.uniform(0.22, 0.38))
    max_off = 0.06 if kind_occ == 'pole' else 0.15
    return dict(
        track=i,
        joint=joint,
        kind=kind_occ,
        size=size,
        offset=rng.uniform(-max_off, max_off, 2) * size,
        key=int(rng.integers(1 << 30)))


def _ignore_figure(cfg, rng, tracks):
    """A faint small figure inside an ignore polygon that stays clear of the
    annotated people.

    Returns (PersonTrack, (N, 2) int polygon), or (None, None) when the scene
    has no room.
    """
    width, height = cfg.image_size
    boxes = np.array([extent(track) for track in tracks])
    style = random_style(rng)
    for _ in range(20):
        motion = random_motion(rng, height * rng.uniform(0.15, 0.35),
                               (0.0, 0.0))
        motion = replace(
            motion,
            velocity=(0.0, 0.0),
            scale_rate=0.0,
            kind='turn' if motion.kind == 'walk' else motion.kind,
            sub_kind='turn' if motion.kind == 'walk' else motion.sub_kind)
        track = simulate(motion, style, cfg.frames_per_video, track_id=-1)
        x0, y0, x1, y1 = extent(track)
        if x1 - x0 > width - 4 or y1 - y0 > height - 4:
            continue
        track = track.shifted(
            rng.uniform(2 - x0, width - 2 - x1),
            rng.uniform(2 - y0, height - 2 - y1))
        x0, y0, x1, y1 = extent(track)
        centre, half = np.array([x0 + x1, y0 + y1]) / 2, np.array(
            [x1 - x0, y1 - y0]) / 2
        radius = rng.uniform(1.25, 1.4, 10)
        ang = np.linspace(
            0, 2 * np.pi, 10, endpoint=False) + rng.uniform(0, 0.6)
        poly = centre + half * radius[:, None] * np.stack(
            [np.cos(ang), np.sin(ang)], 1)
        poly = np.clip(poly, 0, [width - 1, height - 1])
        lo, hi = poly.min(0) - 3, poly.max(0) + 3
        clear = ((boxes[:, 0] > hi[0]) | (boxes[:, 2] < lo[0]) |
                 (boxes[:, 1] > hi[1]) | (boxes[:, 3] < lo[1]))
        if clear.all():
            return track, np.round(poly).astype(np.int64)
    return None, None


def plan_video(cfg, seed, split_code, video_index):
    """All per-video decisions (scene, people, events, ignore region) ->
    VideoPlan."""
    width, height = cfg.image_size
    nframes = cfg.frames_per_video
    rng = keyed_rng(seed, split_code, video_index, 'scene')
    background = render.make_background(rng, width + 2 * PAN_MARGIN,
                                        height + 2 * PAN_MARGIN)
    t = np.arange(nframes)
    start = rng.uniform(0.25, 0.75, 2) * 2 * PAN_MARGIN
    velocity = rng.normal(0, 0.25, 2)
    pan = start + velocity * (t[:, None] - nframes / 2) + rng.normal(
        0, 0.4, (nframes, 2))
    pan = np.clip(np.round(pan), 0, 2 * PAN_MARGIN).astype(np.int64)
    light = np.array([rng.uniform(-0.7, 0.7), rng.uniform(-0.9, -0.3), 0.8])
    tracks = _place_people(cfg, seed, split_code, video_index)
    events = _schedule_events(
        cfg, keyed_rng(seed, split_code, video_index, 'events'), tracks)
    ignore_track, ignore_polygon = None, None
    ign_rng = keyed_rng(seed, split_code, video_index, 'ignore')
    if ign_rng.random() < cfg.ignore_region_rate:
        ignore_track, ignore_polygon = _ignore_figure(cfg, ign_rng, tracks)
    return VideoPlan(
        width=width,
        height=height,
        nframes=nframes,
        background=background,
        pan=pan,
        light=light / np.linalg.norm(light),
        noise_sigma=float(rng.uniform(1.0, 3.5)),
        tracks=tracks,
        events=events,
        ignore_track=ignore_track,
        ignore_polygon=ignore_polygon)


def person_label(track, t, width, height):
    """PoseTrack label of a person at frame t, or None when no keypoint is
    inside the image.

    Returns dict(track_id, keypoints (17, 3) [x, y, v], bbox [x, y, w, h],
    bbox_head [x, y, w, h], truncated bool).
    """
    kpts = track.keypoints(t)
    annotated = np.array([j is not None for j in KEYPOINT_JOINTS])
    with np.errstate(invalid='ignore'):
        inside = (
            annotated & (kpts[:, 0] >= 0) & (kpts[:, 0] <= width - 1) &
            (kpts[:, 1] >= 0) & (kpts[:, 1] <= height - 1))
    if not inside.any():
        return None
    labelled = np.zeros((len(kpts), 3))
    labelled[inside, :2] = kpts[inside]
    labelled[inside, 2] = 1
    vis = kpts[inside]
    (x0, y0), (x1, y1) = vis.min(0), vis.max(0)
    s = float(track.height[t])
    pad_x, pad_y = max(0.15 * (x1 - x0),
                       0.06 * s), max(0.15 * (y1 - y0), 0.06 * s)
    bx0, by0 = max(0.0, x0 - pad_x), max(0.0, y0 - pad_y)
    bx1, by1 = min(width - 1.0, x1 + pad_x), min(height - 1.0, y1 + pad_y)
    top = track.points[t, JOINT_INDEX['head_top']]
    bottom = track.points[t, JOINT_INDEX['head_bottom']]
    centre, dist = 0.5 * (top + bottom), float(np.linalg.norm(top - bottom))
    # Sized like PoseTrack's head boxes (whole head with hair): on the real
    # sample the PCKh threshold 0.5 * 0.6 * head-box diagonal is ~9% of the
    # person's keypoint height; this gives ~8.5%.
    head = [
        centre[0] - 0.65 * dist, centre[1] - 0.75 * dist, 1.3 * dist,
        1.5 * dist
    ]
    return dict(
        track_id=track.track_id,
        keypoints=labelled,
        bbox=[bx0, by0, bx1 - bx0, by1 - by0],
        bbox_head=head,
        truncated=bool((annotated & ~inside).any()))


def occluded_joints(keypoints, cover, threshold=0.5):
    """Which annotated joints an occluder covers.

    Args:
        keypoints: (K, 3) [x, y, v] label of one person (v > 0: annotated).
        cover: (H, W) float occluder coverage in [0, 1] drawn on the frame, or
            None (no occluder).
        threshold: a joint is occluded when the coverage at its (rounded) pixel
            exceeds this.

    Returns:
        (K,) int array, 1 where an annotated joint lies under the occluder,
        else 0.
    """
    keypoints = np.asarray(keypoints, np.float64)
    flags = np.zeros(len(keypoints), np.int64)
    if cover is None:
        return flags
    h, w = cover.shape[:2]
    for k, (x, y, v) in enumerate(keypoints):
        xi, yi = int(round(x)), int(round(y))
        if v > 0 and 0 <= xi < w and 0 <= yi < h:
            flags[k] = int(cover[yi, xi] > threshold)
    return flags


def blurred_by_box(keypoints, box, min_fraction=0.5):
    """Whether at least `min_fraction` of a person's annotated joints (K, 3)
    lie in the blurred box (x0, y0, x1, y1) of a person-local motion blur."""
    kpts = np.asarray(keypoints, np.float64)
    kpts = kpts[kpts[:, 2] > 0]
    if len(kpts) == 0:
        return False
    x0, y0, x1, y1 = box
    inside = (kpts[:, 0] >= x0) & (kpts[:, 0] <= x1) & (kpts[:, 1] >= y0) & (
        kpts[:, 1] <= y1)
    return bool(inside.mean() >= min_fraction)


def _draw_event(img, plan, t, seed, split_code, video_index):
    """Draw frame t's occluder or motion blur (if any) into ``img``.

    Returns:
        tuple: the image, the occluder's (H, W) coverage (or None), the box
        (x0, y0, x1, y1) of a person-local blur (or None) and whether the
        whole frame is blurred.
    """
    event = plan.events.get(t)
    if event is None:
        return img, None, None, False
    p = event.params
    if event.kind == 'occlusion':
        track = plan.tracks[p['track']]
        centre = track.points[t, JOINT_INDEX[p['joint']]] + p['offset']
        rng = keyed_rng(seed, split_code, video_index, 'occluder', p['key'])
        polygon = render.occluder_polygon(rng, centre, p['size'], p['kind'])
        return img, render.draw_occluder(img, rng, polygon,
                                         p['kind']), None, False
    blur_box = None
    if not p['whole_frame']:
        x0, y0, x1, y1 = extent(plan.tracks[p['track']], t)
        blur_box = (x0 - p['length'], y0 - p['length'], x1 + p['length'],
                    y1 + p['length'])
    img = render.apply_motion_blur(img, p['length'], p['angle'], blur_box)
    return img, None, blur_box, p['whole_frame']


def render_frame(plan, t, seed, split_code, video_index):
    """Render frame t -> (uint8 BGR image (H, W, 3), labels list, attributes
    dict, distractors).

    Each label (see :func:`person_label`) also holds ``occluded_joints`` ((K,)
    0/1: annotated joints under the frame's occluder) and ``motion_blurred``
    (the person lies in the blurred region: a whole-frame blur, or a
    person-local blur covering most of its joints).

    distractors: boxes [x, y, w, h] of visible but unannotated figures (for the
    detector file).
    """
    width, height = plan.width, plan.height
    ox, oy = plan.pan[t]
    img = plan.background[oy:oy + height, ox:ox + width].copy()
    distractors = []
    if plan.ignore_track is not None:
        render.draw_person(img, plan.ignore_track, t, plan.light, alpha=0.4)
        x0, y0, x1, y1 = extent(plan.ignore_track, t)
        distractors.append([x0, y0, x1 - x0, y1 - y0])
    # smaller = farther: drawn first
    for track in sorted(plan.tracks, key=lambda tr: tr.height[t]):
        render.draw_person(img, track, t, plan.light)
    img, occluder_cover, blur_box, blur_all = _draw_event(
        img, plan, t, seed, split_code, video_index)
    noise_rng = keyed_rng(seed, split_code, video_index, 'noise', t)
    image = render.finish_frame(img, noise_rng, plan.noise_sigma)
    labels = []
    for track in plan.tracks:
        lab = person_label(track, t, width, height)
        if lab is None:
            continue
        lab['occluded_joints'] = occluded_joints(lab['keypoints'],
                                                 occluder_cover)
        lab['motion_blurred'] = bool(
            blur_all or (blur_box is not None
                         and blurred_by_box(lab['keypoints'], blur_box)))
        labels.append(lab)
    event = plan.events.get(t)
    attributes = dict(
        occluded=bool(event is not None and event.kind == 'occlusion'),
        motion_blur=bool(event is not None and event.kind == 'blur'),
        truncated=any(lab['truncated'] for lab in labels))
    return image, labels, attributes, distractors
