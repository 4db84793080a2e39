"""PoseTrack18 COCO-style entries and files for the synthetic videos.

Layout (see the project contract): images/<split>/<video>/<frame:06d>.jpg,
annotations/posetrack18_<split>.json (all videos),
annotations/<split>/<video>.json (one video),
annotations/posetrack18_val_human_detections.json (detector-like boxes for
val).
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

from mgpose_mm.datasets.posetrack_json import POSETRACK_CATEGORIES


def video_name(vid_id):
    return f'{vid_id}_synth'


def frame_id(vid_id, frame_index):
    """PoseTrack18 frame id, e.g. vid_id '000001', frame 3 -> 10000010003."""
    return int(f'1{vid_id}{frame_index:04d}')


def _r(values, ndigits=2):
    return [round(float(v), ndigits) for v in values]


def image_entry(split, vid_id, frame_index, nframes, width, height,
                ignore_polygons, attributes):
    """COCO image dict of one frame; ignore_polygons: list of (N, 2) integer
    arrays."""
    fid = frame_id(vid_id, frame_index)
    return dict(
        is_labeled=True,
        nframes=int(nframes),
        frame_id=fid,
        vid_id=vid_id,
        file_name=f'images/{split}/{video_name(vid_id)}/{frame_index:06d}.jpg',
        width=int(width),
        height=int(height),
        ignore_regions_x=[[int(v) for v in p[:, 0]] for p in ignore_polygons],
        ignore_regions_y=[[int(v) for v in p[:, 1]] for p in ignore_polygons],
        id=fid,
        attributes={
            k: bool(attributes[k])
            for k in ('occluded', 'motion_blur', 'truncated')
        })


def annotation_entry(image_id, label):
    """COCO annotation dict of one person label (see scene.person_label /
    render_frame).

    Besides the PoseTrack fields it holds ``occluded_joints`` (K ints, 1 where
    an occluder covers an annotated joint) and ``motion_blurred`` (bool), which
    evaluation reads only for its difficulty subsets, never as keypoint
    visibility: occluded joints stay annotated (v = 1) and must be predicted.
    """
    kpts = label['keypoints']
    return dict(
        bbox_head=_r(label['bbox_head']),
        keypoints=[
            round(float(v), 2) if j % 3 < 2 else int(v)
            for j, v in enumerate(kpts.reshape(-1))
        ],
        track_id=int(label['track_id']),
        image_id=int(image_id),
        bbox=_r(label['bbox']),
        scores=[],
        category_id=1,
        id=int(image_id) * 100 + int(label['track_id']),
        iscrowd=False,
        num_keypoints=int((kpts[:, 2] > 0).sum()),
        occluded_joints=[
            int(v) for v in label.get('occluded_joints', [0] * len(kpts))
        ],
        motion_blurred=bool(label.get('motion_blurred', False)))


def detections_for_frame(rng, image_id, labels, distractors, width, height):
    """Detector-like results for one frame: jittered GT boxes, misses, low-
    score false positives.

    Returns a list of {'bbox', 'category_id', 'image_id', 'score'} sorted by
    score.
    """
    dets = []
    for label in labels:
        x, y, w, h = label['bbox']
        visible_frac = float((label['keypoints'][:, 2] > 0).mean()) / (15 / 17)
        miss = 0.03 + 0.25 * max(0.0, 0.7 - visible_frac) + (0.2 if w * h < 200
                                                             else 0.0)
        if rng.random() < miss:
            continue
        cx = x + w / 2 + rng.normal(0, 0.04) * w
        cy = y + h / 2 + rng.normal(0, 0.04) * h
        w2, h2 = w * np.exp(rng.normal(0, 0.07)), h * np.exp(
            rng.normal(0, 0.07))
        score = np.clip(
            0.72 + 0.25 * min(visible_frac, 1.0) + rng.normal(0, 0.05), 0.3,
            0.999)
        dets.append(
            _det_box(image_id, cx - w2 / 2, cy - h2 / 2, cx + w2 / 2,
                     cy + h2 / 2, score, width, height))
    for x, y, w, h in distractors:
        if rng.random() < 0.5:
            dets.append(
                _det_box(image_id, x, y, x + w, y + h, rng.uniform(0.2, 0.6),
                         width, height))
    if rng.random() < 0.2:  # a false positive somewhere in the clutter
        h = rng.uniform(0.2, 0.5) * height
        w = h * rng.uniform(0.3, 0.6)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        dets.append(
            _det_box(image_id, x, y, x + w, y + h, rng.uniform(0.05, 0.4),
                     width, height))
    dets = [d for d in dets if d['bbox'][2] >= 2 and d['bbox'][3] >= 2]
    return sorted(dets, key=lambda d: -d['score'])


def _det_box(image_id, x0, y0, x1, y1, score, width, height):
    x0, x1 = np.clip([x0, x1], 0, width - 1)
    y0, y1 = np.clip([y0, y1], 0, height - 1)
    return dict(
        bbox=_r([x0, y0, x1 - x0, y1 - y0]),
        category_id=1,
        image_id=int(image_id),
        score=round(float(score), 4))


def write_json(path, obj):
    """Write compact, deterministic JSON (creating parent folders)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, separators=(',', ':'))


def coco_dict(images, annotations):
    return dict(
        categories=POSETRACK_CATEGORIES,
        images=images,
        annotations=annotations)


def write_jpeg(path, image, quality):
    """Encode a uint8 BGR image (H, W, 3) as JPEG at `path`."""
    ok, buf = cv2.imencode('.jpg', image,
                           [int(cv2.IMWRITE_JPEG_QUALITY),
                            int(quality)])
    if not ok:
        raise RuntimeError(f'JPEG encoding failed for {path}')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(buf.tobytes())
