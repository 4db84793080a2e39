"""PoseTrack AP on difficulty subsets, per-video records and bootstrap
intervals over videos.

Subsets of the synthetic benchmark (person annotations carry
``occluded_joints`` and ``motion_blurred``, see :mod:`mgpose_mm.synthetic`):

- ``total``: every annotated joint of every evaluated frame (the usual Total
  AP);
- ``hard``: every joint of the frames flagged ``occluded`` or ``motion_blur``;
- ``occluded``: only the joints an occluder covers, on the frames that have
  one;
- ``blurred``: only the joints of motion-blurred persons, on the frames that
  have one.

A subset is evaluated through ``FrameGroundTruth.eval_mask``: persons are
matched with all their annotated joints, masked-out GT joints are no positives
and predicted joints assigned to them are dropped; predicted joints assigned to
no GT person stay false positives.

Each evaluated frame is reduced to a :class:`FrameRecord` (the per-frame output
of :func:`evaluate_frame`); AP is recomputed from any list of records with
:func:`records_ap`, so a bootstrap over videos resamples videos, concatenates
their records and recomputes AP. Unlike :func:`posetrack_ap`, a joint without
any GT positive in the records gets NaN (not 0, whatever the protocol), so a
subset that never occludes, e.g., the head is averaged over the joints it does
contain; joint matching follows the protocol's rules.
"""
import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .posetrack_ap import (EVALUATED_KEYPOINTS, NUM_KEYPOINTS,
                           FrameGroundTruth, FramePrediction, evaluate_frame,
                           joints_exist, per_person, summarize_ap)

SUBSETS = ('total', 'hard', 'occluded', 'blurred')


@dataclass
class FrameRecord:
    """Per-frame matching result (see :func:`evaluate_frame`).

    Attributes:
        video (str): name of the frame's video (the bootstrap unit).
        scores (np.ndarray): (P, K) predicted joint scores.
        labels (np.ndarray): (P, K) bool, true positives.
        has_pred (np.ndarray): (P, K) bool, joints that count as detections.
        num_gt (np.ndarray): (K,) GT positives of the frame.
    """
    video: str
    scores: np.ndarray
    labels: np.ndarray
    has_pred: np.ndarray
    num_gt: np.ndarray


def difficulty_masks(annotations: Sequence[dict]
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Occluded joints (N, K) bool and motion-blurred persons (N,) bool of a
    frame's annotations.

    Annotations without the synthetic fields count as neither occluded nor
    blurred. A malformed ``occluded_joints`` (not K values) raises ValueError.
    """
    occluded = np.zeros((len(annotations), NUM_KEYPOINTS), dtype=bool)
    blurred = np.zeros(len(annotations), dtype=bool)
    for i, ann in enumerate(annotations):
        flags = ann.get('occluded_joints')
        if flags is not None:
            flags = np.asarray(flags).reshape(-1)
            if flags.size != NUM_KEYPOINTS:
                raise ValueError(
                    f'annotation {ann.get("id")}: occluded_joints has '
                    f'{flags.size} '
                    f'values, expected {NUM_KEYPOINTS}')
            occluded[i] = flags > 0
        blurred[i] = bool(ann.get('motion_blurred', False))
    return occluded, blurred


def subset_masks(gt: FrameGroundTruth, annotations: Sequence[dict],
                 hard_frame: bool) -> Dict[str, Optional[np.ndarray]]:
    """Evaluation mask of each subset for one frame; a subset absent from the
    frame is omitted.

    Returns:
        dict: subset name -> (N, K) bool mask, or None for all joints
        (``total``, ``hard``).
    """
    occluded, blurred = difficulty_masks(annotations)
    occluded &= joints_exist(
        np.asarray(gt.keypoints), np.asarray(gt.visibility), 'poseval')
    not_evaluated = np.setdiff1d(np.arange(NUM_KEYPOINTS), EVALUATED_KEYPOINTS)
    occluded[:, not_evaluated] = False
    masks: Dict[str, Optional[np.ndarray]] = {'total': None}
    if hard_frame:
        masks['hard'] = None
    if occluded.any():
        masks['occluded'] = occluded
    if blurred.any():
        masks['blurred'] = np.repeat(blurred[:, None], NUM_KEYPOINTS, axis=1)
    return masks


def frame_records(frames: Sequence[Tuple[FrameGroundTruth, FramePrediction]],
                  masks: Sequence[Dict[str, Optional[np.ndarray]]],
                  videos: Sequence[str],
                  dist_thr: float = 0.5,
                  assignment: str = 'poseval',
                  protocol: str = 'poseval') -> Dict[str, List[FrameRecord]]:
    """Evaluate every frame on each of its subsets.

    Args:
        frames: (GT, predictions) per evaluated frame.
        masks: per frame, subset name -> eval mask (see :func:`subset_masks`).
        videos: per frame, its video name.

    Returns:
        dict: subset name -> list of :class:`FrameRecord` (every name in
        :data:`SUBSETS`).
    """
    if not len(frames) == len(masks) == len(videos):
        raise ValueError(
            f'frames ({len(frames)}), masks ({len(masks)}) and videos '
            f'({len(videos)}) must have the same length')
    records: Dict[str, List[FrameRecord]] = {name: [] for name in SUBSETS}
    for (gt, pred), frame_masks, video in zip(frames, masks, videos):
        for name, mask in frame_masks.items():
            if name not in records:
                raise ValueError(
                    f'unknown subset {name!r}; expected one of {SUBSETS}')
            scores, labels, has_pred, num_gt = evaluate_frame(
                dataclasses.replace(gt, eval_mask=mask), pred, protocol,
                dist_thr, assignment)
            records[name].append(
                FrameRecord(video, scores, labels, has_pred, num_gt))
    return records


def weighted_ap(labels: np.ndarray, det_video: np.ndarray, num_gt: np.ndarray,
                weights: np.ndarray) -> np.ndarray:
    """VOC AP (fraction) of score-sorted detections under video weights, for
    many weightings.

    A weight is how often a video is drawn (a bootstrap resample), so weight 1
    for every video gives poseval's AP, weight 2 counts a video twice and 0
    leaves it out.

    Args:
        labels (np.ndarray): (D,) bool, true positives, sorted by descending
            score.
        det_video (np.ndarray): (D,) int, video index of each detection.
        num_gt (np.ndarray): (V,) GT positives per video.
        weights (np.ndarray): (B, V) non-negative video weights.

    Returns:
        np.ndarray: (B,) AP; NaN where the weighted number of positives is 0, 0
        where there are positives but no weighted detection.
    """
    weights = np.asarray(weights, dtype=np.float64)
    positives = weights @ np.asarray(num_gt, dtype=np.float64)
    ap = np.full(len(weights), np.nan)
    valid = positives > 0
    ap[valid] = 0.0
    if len(labels) == 0 or not valid.any():
        return ap
    w = weights[valid][:, det_video]  # (B', D)
    cum_tp = np.cumsum(w * labels[None], axis=1)
    cum_det = np.cumsum(w, axis=1)
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = np.where(cum_det > 0, cum_tp / cum_det, 0.0)
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    recall_step = w * labels[None] / positives[valid][:, None]
    ap[valid] = np.sum(recall_step * envelope, axis=1)
    return ap


class JointDetections:
    """All detections of each joint over a set of frame records, grouped for
    video resampling.

    Detections are sorted per joint by descending score exactly as poseval's
    ``computeRPC`` (``argsort()[::-1]`` of the frames' detections in order), so
    unit weights reproduce the AP of :func:`posetrack_ap` (for joints with
    positives).

    Attributes:
        videos (list[str]): video names (the resampling units).
        num_gt (np.ndarray): (V, K) GT positives per video.
        labels / det_video (list[np.ndarray]): per joint, (D_k,) sorted TP
            flags and videos.
    """

    def __init__(self,
                 records: Sequence[FrameRecord],
                 videos: Optional[Sequence[str]] = None):
        self.videos = list(videos) if videos is not None else list(
            OrderedDict.fromkeys(r.video for r in records))
        index = {v: i for i, v in enumerate(self.videos)}
        self.num_gt = np.zeros((len(self.videos), NUM_KEYPOINTS),
                               dtype=np.int64)
        # per record: video index (P,), has_pred, scores, labels (P, K)
        rows = [(np.zeros(0, np.int64), np.zeros(
            (0, NUM_KEYPOINTS), bool), np.zeros(
                (0, NUM_KEYPOINTS)), np.zeros((0, NUM_KEYPOINTS), bool))]
        for r in records:
            if r.video not in index:
                raise ValueError(
                    f'record of video {r.video!r} not in the given video list')
            v = index[r.video]
            self.num_gt[v] += np.asarray(r.num_gt, dtype=np.int64)
            has_pred = per_person(r.has_pred, dtype=bool)
            rows.append(
                (np.full(len(has_pred), v, dtype=np.int64), has_pred,
                 per_person(r.scores), per_person(r.labels, dtype=bool)))
        owners, has_pred, scores, labels = map(np.concatenate, zip(*rows))
        self.labels, self.det_video = [], []
        for k in range(NUM_KEYPOINTS):
            found = has_pred[:, k]
            order = scores[found, k].argsort()[::-1]
            self.labels.append(labels[found, k][order])
            self.det_video.append(owners[found][order])

    def per_joint_ap(self, weights: Optional[np.ndarray] = None) -> np.ndarray:
        """Per-joint AP in percent.

        Args:
            weights (np.ndarray, optional): (B, V) video weights (bootstrap
                counts); None for every video once.

        Returns:
            np.ndarray: (B, K), or (K,) without weights; NaN for joints without
            positives and for the joints poseval does not evaluate.
        """
        single = weights is None
        if single:
            weights = np.ones((1, len(self.videos)))
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 2 or weights.shape[1] != len(self.videos):
            raise ValueError(
                f'weights must be (B, {len(self.videos)}), got {weights.shape}'
            )
        ap = np.full((len(weights), NUM_KEYPOINTS), np.nan)
        for k in EVALUATED_KEYPOINTS:
            ap[:, k] = 100 * weighted_ap(self.labels[k], self.det_video[k],
                                         self.num_gt[:, k], weights)
        return ap[0] if single else ap

    def total_ap(self, weights: Optional[np.ndarray] = None):
        """Mean AP over the evaluated joints that have positives: (B,) or a
        float."""
        ap = self.per_joint_ap(weights)[..., list(EVALUATED_KEYPOINTS)]
        finite = np.isfinite(ap)
        total = np.where(finite, ap, 0).sum(-1) / np.maximum(finite.sum(-1), 1)
        total = np.where(finite.any(-1), total, np.nan)
        return float(total) if np.ndim(total) == 0 else total


def records_ap(records: Sequence[FrameRecord]) -> 'OrderedDict[str, float]':
    """AP table (Head to Ankle, Total) of a list of frame records; joints
    without positives in the records are left out of every mean."""
    return summarize_ap(JointDetections(records).per_joint_ap(), skip_nan=True)
