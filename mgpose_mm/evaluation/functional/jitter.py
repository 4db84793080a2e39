"""Temporal smoothness of predicted poses: the acceleration error.

For a GT person (one track id) annotated in three consecutive frames
``t - 1, t, t + 1`` and matched to a predicted pose in each of them (the PCKh
assignment of the AP evaluation), and a joint that the evaluation counts in
all three GT frames and that is predicted in all three, the acceleration
error is

    || (p[t+1] - 2 p[t] + p[t-1]) - (g[t+1] - 2 g[t] + g[t-1]) ||

in % of the person's size at ``t`` (the square root of the GT box area, as
COCO's OKS scale). Jitter is its mean over all such (person, frame, joint)
triples: 0 for predictions that follow the GT's motion (a constant offset
included), growing with frame-to-frame noise. A pose moved by ``d`` in a
single frame of a long track adds ``d, 2 d, d`` to three triples.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import numpy as np

from .posetrack_ap import (EVALUATED_KEYPOINTS, NUM_KEYPOINTS,
                           POSETRACK_KEYPOINT_NAMES, FrameGroundTruth,
                           FramePrediction, match_frame, per_person)


@dataclass
class TrackedFrame:
    """One annotated frame of a video with the GT persons' tracks.

    Attributes:
        gt (FrameGroundTruth): the frame's N GT persons.
        track_ids (np.ndarray): (N,) GT track ids (-1: no track, not used).
        sizes (np.ndarray): (N,) person sizes in pixels (sqrt of box area).
        pred (FramePrediction): the frame's P predicted poses.
    """
    gt: FrameGroundTruth
    track_ids: np.ndarray
    sizes: np.ndarray
    pred: FramePrediction


def _matched_joints(frame: TrackedFrame, protocol: str) -> Dict[int, tuple]:
    """``track id -> (gt (K, 2), pred (K, 2), joints (K,) bool, size)`` of the
    GT persons of a frame that a prediction is matched to."""
    m = match_frame(frame.gt, frame.pred, protocol)
    gt_kpts = per_person(frame.gt.keypoints, 2)
    pr_kpts = per_person(frame.pred.keypoints, 2)
    matched = {}
    for pred_idx, gt_idx in enumerate(m.gt_of_pred):
        track = int(frame.track_ids[gt_idx]) if gt_idx >= 0 else -1
        if track >= 0:
            matched[track] = (gt_kpts[gt_idx], pr_kpts[pred_idx],
                              m.has_gt[gt_idx] & m.has_pred[pred_idx],
                              float(frame.sizes[gt_idx]))
    return matched


def acceleration_errors(frames: Sequence[Optional[TrackedFrame]],
                        protocol: str = 'poseval') -> np.ndarray:
    """Acceleration errors of one video.

    Args:
        frames (Sequence[TrackedFrame | None]): every frame of the video in
            order; None for a frame without GT (it breaks the triples).
        protocol (str): which joints count (``'poseval'`` or
            ``'posetrack21'``), as for AP.

    Returns:
        np.ndarray: (M, K) errors in % of the person size, one row per
        (person, centre frame) triple, NaN for joints that do not count.
    """
    matched = [
        None if f is None else _matched_joints(f, protocol) for f in frames
    ]
    rows = []
    for t in range(1, len(frames) - 1):
        before, now, after = matched[t - 1], matched[t], matched[t + 1]
        if before is None or now is None or after is None:
            continue
        for track in sorted(set(before) & set(now) & set(after)):
            (g0, p0, j0, _), (g1, p1, j1, size), (g2, p2, j2, _) = \
                before[track], now[track], after[track]
            error = np.linalg.norm(
                (p2 - 2 * p1 + p0) -
                (g2 - 2 * g1 + g0), axis=-1) / max(size, 1e-6) * 100
            rows.append(np.where(j0 & j1 & j2, error, np.nan))
    return np.array(rows).reshape(-1, NUM_KEYPOINTS)


def summarize_jitter(errors: np.ndarray) -> dict:
    """Mean acceleration error of stacked :func:`acceleration_errors` rows.

    Returns:
        dict: ``jitter`` (mean over the counted joints, NaN when there is
        none), ``per_joint`` (name -> mean, evaluated joints only) and
        ``num_joints`` (how many (person, frame, joint) triples count).
    """
    errors = np.asarray(errors, np.float64).reshape(-1, NUM_KEYPOINTS)
    counted = ~np.isnan(errors)
    with np.errstate(invalid='ignore'):
        per_joint = np.nansum(errors, axis=0) / counted.sum(axis=0)
    total = np.nansum(errors) / counted.sum() if counted.any() else np.nan
    return dict(
        jitter=float(total),
        per_joint={
            POSETRACK_KEYPOINT_NAMES[k]: float(per_joint[k])
            for k in EVALUATED_KEYPOINTS
        },
        num_joints=int(counted.sum()))
