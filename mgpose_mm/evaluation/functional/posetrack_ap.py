"""PoseTrack multi-person pose estimation AP, as the official ``poseval``.

A numpy re-implementation of the per-frame AP of
https://github.com/leonid-pishchulin/poseval (``py/eval_helpers.py``:
``assignGTmulti``, ``computeRPC``, ``VOCap``, ``getCum``, and
``py/evaluateAP.py``: ``computeMetrics``), working directly on arrays in the
17-keypoint PoseTrack18 order instead of poseval's 15-joint JSON structures.

What poseval does, and this module reproduces:

- A ground-truth (GT) joint counts when it is annotated (visibility > 0; in
  PoseTrack18 files unannotated joints are stored as ``(0, 0, 0)``). A
  predicted joint exists unless it is exactly ``(x, y, score) == (0, 0, 0)``.
- Points (GT and predicted) strictly inside an ignore-region polygon of the
  frame are removed before matching.
- Per frame, the distance of a predicted joint to a GT joint is normalised by
  the GT head size ``0.6 * ||(w, h)||`` of ``bbox_head``; a joint matches when
  the normalised distance is ``<= 0.5`` (PCKh@0.5). The pose-level score of a
  (prediction, GT) pair is the fraction of the GT's annotated joints matched.
- poseval assigns predictions to GT poses greedily: each prediction keeps only
  its best GT, then each GT takes its best remaining prediction, pairs with a
  zero score stay unmatched (``assignment='poseval'``). A one-to-one optimal
  assignment (Hungarian algorithm on the same score, scipy's
  ``linear_sum_assignment``) is available as ``assignment='hungarian'``.
- Every existing predicted joint is a detection with its own score: a true
  positive when its pose is matched and the joint is within the threshold,
  otherwise a false positive. Missed GT joints count through the recall.
- Per joint, AP is the area under the VOC-style interpolated
  precision/recall curve over all frames (in percent). A joint with no
  predictions gets AP 0; a joint with predictions but no GT gets NaN.
- ``Total`` is the mean AP over the 15 evaluated joints (NaN ignored); the
  groups average their joints. Ears (indices 3, 4) are not annotated in
  PoseTrack and are not evaluated.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

POSETRACK_KEYPOINT_NAMES = (
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')
NUM_KEYPOINTS = len(POSETRACK_KEYPOINT_NAMES)

# Joint groups of poseval's result table, in PoseTrack18 keypoint indices.
JOINT_GROUPS: 'OrderedDict[str, Tuple[int, ...]]' = OrderedDict([
    ('Head', (0, 1, 2)),
    ('Shoulder', (5, 6)),
    ('Elbow', (7, 8)),
    ('Wrist', (9, 10)),
    ('Hip', (11, 12)),
    ('Knee', (13, 14)),
    ('Ankle', (15, 16)),
])
EVALUATED_KEYPOINTS: Tuple[int, ...] = tuple(
    sorted(k for joints in JOINT_GROUPS.values() for k in joints))

ASSIGNMENTS = ('poseval', 'hungarian')


@dataclass
class FrameGroundTruth:
    """Ground truth of one evaluated frame.

    Attributes:
        keypoints (np.ndarray): (N, K, 2) joint coordinates.
        visible (np.ndarray): (N, K) bool, True where the joint is annotated.
        head_boxes (np.ndarray): (N, 4) head boxes ``[x, y, w, h]``.
        ignore_regions (list[np.ndarray]): polygons, each (V, 2) ``(x, y)``.
        eval_mask (np.ndarray, optional): (N, K) bool, the joints this
            evaluation counts (e.g. occluded joints only). GT joints where it
            is False are not positives, and predicted joints assigned to a GT
            person whose joint is masked out are dropped (neither true nor
            false positives); person matching still uses all annotated
            joints, and unassigned predicted joints stay false positives.
            None (default) counts every annotated joint.
    """
    keypoints: np.ndarray
    visible: np.ndarray
    head_boxes: np.ndarray
    ignore_regions: List[np.ndarray] = field(default_factory=list)
    eval_mask: Optional[np.ndarray] = None


@dataclass
class FramePrediction:
    """Predicted poses of one frame.

    Attributes:
        keypoints (np.ndarray): (P, K, 2) joint coordinates.
        scores (np.ndarray): (P, K) joint confidence scores.
    """
    keypoints: np.ndarray
    scores: np.ndarray

    @property
    def present(self) -> np.ndarray:
        """(P, K) bool: joints that exist for poseval (not ``(0, 0, 0)``)."""
        zero = (self.keypoints[..., 0] == 0) & (self.keypoints[..., 1] == 0)
        return ~(zero & (self.scores == 0))

    @classmethod
    def empty(cls, num_keypoints: int = NUM_KEYPOINTS) -> 'FramePrediction':
        return cls(
            np.zeros((0, num_keypoints, 2)), np.zeros((0, num_keypoints)))


def head_sizes(head_boxes: np.ndarray) -> np.ndarray:
    """PCKh reference size ``0.6 * ||(w, h)||`` of (N, 4) xywh head boxes."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64).reshape(-1, 4)
    return 0.6 * np.hypot(head_boxes[:, 2], head_boxes[:, 3])


def points_in_polygons(points: np.ndarray,
                       polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Whether each point lies inside any polygon (even-odd ray casting).

    Args:
        points (np.ndarray): (M, 2) points ``(x, y)``.
        polygons (Sequence[np.ndarray]): polygons, each (V, 2).

    Returns:
        np.ndarray: (M,) bool.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    inside_any = np.zeros(len(points), dtype=bool)
    px, py = points[:, 0:1], points[:, 1:2]
    for polygon in polygons:
        polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if len(polygon) < 3:
            continue
        x1, y1 = polygon[:, 0], polygon[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        # (M, V): edges crossing the horizontal line through each point.
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide='ignore', invalid='ignore'):
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside = np.count_nonzero(crosses & (px < x_cross), axis=1) % 2 == 1
        inside_any |= inside
    return inside_any


def _outside_ignore(keypoints: np.ndarray,
                    polygons: Sequence[np.ndarray]) -> np.ndarray:
    """(N, K) bool mask of joints that are not inside an ignore region."""
    if len(polygons) == 0 or keypoints.size == 0:
        return np.ones(keypoints.shape[:2], dtype=bool)
    inside = points_in_polygons(keypoints.reshape(-1, 2), polygons)
    return ~inside.reshape(keypoints.shape[:2])


def assign_predictions(pck: np.ndarray,
                       assignment: str = 'poseval') -> np.ndarray:
    """Assign predicted poses to GT poses from their PCKh pair scores.

    Args:
        pck (np.ndarray): (P, N) fraction of each GT's annotated joints that
            each prediction matches.
        assignment (str): ``'poseval'`` (greedy, as poseval) or
            ``'hungarian'`` (optimal one-to-one).

    Returns:
        np.ndarray: (P,) index of the matched GT pose, -1 if unmatched.
    """
    num_pred, num_gt = pck.shape
    gt_of_pred = np.full(num_pred, -1, dtype=np.int64)
    if num_pred == 0 or num_gt == 0:
        return gt_of_pred
    if assignment == 'poseval':
        # Same numpy calls (and tie-breaking) as poseval's assignGTmulti.
        best_gt = np.argmax(pck, axis=1)
        kept = np.zeros_like(pck)
        rows = np.arange(num_pred)
        kept[rows, best_gt] = pck[rows, best_gt]
        pred_of_gt = np.argmax(kept, axis=0)
        pred_of_gt[np.max(kept, axis=0) == 0] = -1
        for gt_idx, pred_idx in enumerate(pred_of_gt):
            if pred_idx >= 0:
                gt_of_pred[pred_idx] = gt_idx
    elif assignment == 'hungarian':
        rows, cols = linear_sum_assignment(pck, maximize=True)
        for pred_idx, gt_idx in zip(rows, cols):
            if pck[pred_idx, gt_idx] > 0:
                gt_of_pred[pred_idx] = gt_idx
    else:
        raise ValueError(f'assignment must be one of {ASSIGNMENTS}, '
                         f'got {assignment!r}')
    return gt_of_pred


def evaluate_frame(gt: FrameGroundTruth,
                   pred: FramePrediction,
                   dist_thr: float = 0.5,
                   assignment: str = 'poseval'
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match the predictions of one frame to its ground truth.

    Returns:
        tuple:
        - scores (np.ndarray): (P, K) joint scores of the predictions.
        - labels (np.ndarray): (P, K) bool, True for true-positive joints.
        - has_pred (np.ndarray): (P, K) bool, joints that count as detections.
        - num_gt (np.ndarray): (K,) number of annotated GT joints.
    """
    gt_kpts = np.asarray(gt.keypoints, dtype=np.float64).reshape(
        -1, NUM_KEYPOINTS, 2)
    pr_kpts = np.asarray(pred.keypoints, dtype=np.float64).reshape(
        -1, NUM_KEYPOINTS, 2)
    scores = np.asarray(pred.scores, dtype=np.float64).reshape(
        -1, NUM_KEYPOINTS)
    has_gt = np.asarray(gt.visible, dtype=bool).reshape(-1, NUM_KEYPOINTS)
    has_gt = has_gt & _outside_ignore(gt_kpts, gt.ignore_regions)
    has_pred = pred.present.reshape(-1, NUM_KEYPOINTS)
    has_pred = has_pred & _outside_ignore(pr_kpts, gt.ignore_regions)

    eval_mask = None
    if gt.eval_mask is not None:
        eval_mask = np.asarray(gt.eval_mask, dtype=bool)
        if eval_mask.shape != has_gt.shape:
            raise ValueError(f'eval_mask has shape {eval_mask.shape}, expected '
                             f'{has_gt.shape} (persons, keypoints)')

    labels = np.zeros(has_pred.shape, dtype=bool)
    if len(pr_kpts) and len(gt_kpts):
        sizes = head_sizes(gt.head_boxes)
        with np.errstate(divide='ignore', invalid='ignore'):
            dist = np.linalg.norm(
                pr_kpts[:, None] - gt_kpts[None], axis=-1) / sizes[None, :,
                                                                    None]
        dist[~(has_pred[:, None] & has_gt[None])] = np.inf
        match = dist <= dist_thr  # (P, N, K); NaN (zero head size) is False
        num_gt_joints = has_gt.sum(axis=1)
        pck = match.sum(axis=2).astype(np.float64)
        pck = np.where(num_gt_joints[None] > 0,
                       pck / np.maximum(num_gt_joints[None], 1), pck)
        gt_of_pred = assign_predictions(pck, assignment)
        for pred_idx, gt_idx in enumerate(gt_of_pred):
            if gt_idx >= 0:
                labels[pred_idx] = match[pred_idx, gt_idx]
                if eval_mask is not None:
                    has_pred[pred_idx] &= eval_mask[gt_idx]
    if eval_mask is not None:
        has_gt = has_gt & eval_mask
    return scores, labels & has_pred, has_pred, has_gt.sum(axis=0)


def compute_rpc(scores: np.ndarray, labels: np.ndarray,
                num_positives: float) -> Tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each rank of the detections sorted by score.

    Sorting uses poseval's ``argsort()[::-1]`` so ties are broken the same
    way. Returns (precision, recall), each (D,).
    """
    order = np.asarray(scores).argsort()[::-1]
    true_pos = np.cumsum(np.asarray(labels)[order] == 1)
    with np.errstate(divide='ignore', invalid='ignore'):
        recall = true_pos / np.float64(num_positives)
    precision = true_pos / np.arange(1, len(order) + 1)
    return precision, recall


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the monotone (VOC) precision envelope, as poseval."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def summarize_ap(per_joint_ap: np.ndarray) -> 'OrderedDict[str, float]':
    """Group (K,) per-joint AP into poseval's table (Head ... Ankle, Total)."""
    summary = OrderedDict()
    for name, joints in JOINT_GROUPS.items():
        summary[name] = float(np.mean(per_joint_ap[list(joints)]))
    evaluated = per_joint_ap[list(EVALUATED_KEYPOINTS)]
    valid = evaluated[~np.isnan(evaluated)]
    summary['Total'] = float(valid.mean()) if valid.size else float('nan')
    return summary


def posetrack_ap(frames: Sequence[Tuple[FrameGroundTruth, FramePrediction]],
                 dist_thr: float = 0.5,
                 assignment: str = 'poseval') -> Dict[str, object]:
    """PoseTrack AP over a set of frames.

    Args:
        frames: pairs ``(ground truth, predictions)``, one per evaluated
            frame (use ``FramePrediction.empty()`` for frames without
            predictions).
        dist_thr (float): PCKh threshold. Defaults to 0.5.
        assignment (str): ``'poseval'`` or ``'hungarian'``.

    Returns:
        dict: ``'per_joint_ap'`` (K,) in percent (NaN for ears),
        ``'precision'`` and ``'recall'`` (K,) at the last rank (percent),
        ``'num_gt'`` (K,), and ``'summary'`` (OrderedDict Head ... Total).
    """
    joint_scores: List[List[np.ndarray]] = [[] for _ in range(NUM_KEYPOINTS)]
    joint_labels: List[List[np.ndarray]] = [[] for _ in range(NUM_KEYPOINTS)]
    num_gt = np.zeros(NUM_KEYPOINTS, dtype=np.int64)
    for gt, pred in frames:
        scores, labels, has_pred, frame_gt = evaluate_frame(
            gt, pred, dist_thr, assignment)
        num_gt += frame_gt
        for k in range(NUM_KEYPOINTS):
            joint_scores[k].append(scores[has_pred[:, k], k])
            joint_labels[k].append(labels[has_pred[:, k], k])

    per_joint_ap = np.full(NUM_KEYPOINTS, np.nan)
    precision_at_end = np.full(NUM_KEYPOINTS, np.nan)
    recall_at_end = np.full(NUM_KEYPOINTS, np.nan)
    for k in EVALUATED_KEYPOINTS:
        scores = np.concatenate(joint_scores[k]) if joint_scores[k] else []
        labels = np.concatenate(joint_labels[k]) if joint_labels[k] else []
        per_joint_ap[k] = precision_at_end[k] = recall_at_end[k] = 0.0
        if len(scores) == 0:
            continue
        precision, recall = compute_rpc(scores, labels, num_gt[k])
        per_joint_ap[k] = voc_ap(recall, precision) * 100
        precision_at_end[k] = precision[-1] * 100
        recall_at_end[k] = recall[-1] * 100
    return dict(
        per_joint_ap=per_joint_ap,
        precision=precision_at_end,
        recall=recall_at_end,
        num_gt=num_gt,
        summary=summarize_ap(per_joint_ap))
