"""PoseTrack multi-person pose AP, rule for rule as the official tools.

Two protocols, each a numpy re-implementation of one official tool, working
on arrays in the 17-keypoint PoseTrack18 order:

``'poseval'`` (PoseTrack2017 / 2018,
https://github.com/leonid-pishchulin/poseval: ``convert.py``,
``eval_helpers.py`` ``assignGTmulti`` / ``computeRPC`` / ``VOCap``,
``evaluateAP.py`` ``computeMetrics``):

- a GT joint exists unless it is stored as ``(x, y, v) == (0, 0, 0)``
  (``Person.to_old``): a joint with visibility 0 but real coordinates (how
  PoseTrack2017 marks occluded joints) is evaluated. A predicted joint exists
  under the same rule, ``v`` being the third value of its ``keypoints``.
- every frame with at least one GT person entry is evaluated, whatever
  ``is_labeled`` says (frame selection lives in the file readers).
- a joint type with predictions but no GT joint gets AP NaN and is left out
  of ``Total`` (recall divides by 0).

``'posetrack21'`` (the PoseTrack21 kit, ``eval/posetrack21``, TrackEval's
``PosemAP`` with ``datasets/posetrack.py``):

- a GT joint exists when ``x > 0 and y > 0``, whatever its visibility; a
  predicted joint likewise.
- only frames with ``is_labeled`` are evaluated.
- recall divides by ``max(num_gt, 1)``: a joint type with predictions but no
  GT gets AP 0 and counts in ``Total``.

Shared by both: points strictly inside an ignore-region polygon
(shapely's ``Polygon.contains``: a point on the boundary is outside) are
removed before matching; a joint matches when its distance to the GT joint,
divided by the GT head size ``0.6 * ||(w, h)||`` of ``bbox_head``, is
``<= 0.5``; the pose-level score of a (prediction, GT) pair is the fraction
of the GT's joints matched; predictions are assigned to GT poses greedily
(each prediction keeps its best GT, each GT takes its best remaining
prediction, zero scores stay unmatched); every existing predicted joint is a
detection with its own score, a true positive when its pose is assigned and
the joint matches; per joint type, AP is the VOC area under the
precision/recall curve over all frames (detections ranked with
``argsort()[::-1]``, as both tools, so score ties break the same way).
``Total`` is the mean over the 15 evaluated joints (NaN left out); each group
averages its joints. Ears (indices 3, 4) are not evaluated.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from mgpose_mm.datasets.posetrack_json import POSETRACK_KEYPOINT_NAMES
from mgpose_mm.errors import ConfigValueError

NUM_KEYPOINTS = len(POSETRACK_KEYPOINT_NAMES)

# Joint groups of the official result tables, in PoseTrack18 indices.
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

PROTOCOLS = ('poseval', 'posetrack21')
ASSIGNMENTS = ('poseval', 'hungarian')


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ConfigValueError(
            f'protocol must be one of {PROTOCOLS} (poseval for '
            'PoseTrack2017/2018, posetrack21 for PoseTrack21), '
            f'got {protocol!r}')
    return protocol


def check_assignment(assignment: str) -> str:
    if assignment not in ASSIGNMENTS:
        raise ConfigValueError(f'assignment must be one of {ASSIGNMENTS}, '
                               f'got {assignment!r}')
    return assignment


@dataclass
class FrameGroundTruth:
    """Ground truth of one evaluated frame.

    Attributes:
        keypoints (np.ndarray): (N, K, 2) joint coordinates as stored.
        visibility (np.ndarray): (N, K) the third ``keypoints`` value as
            stored (``(0, 0, 0)`` marks an unannotated joint).
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
    visibility: np.ndarray
    head_boxes: np.ndarray
    ignore_regions: List[np.ndarray] = field(default_factory=list)
    eval_mask: Optional[np.ndarray] = None


@dataclass
class FramePrediction:
    """Predicted poses of one frame.

    Attributes:
        keypoints (np.ndarray): (P, K, 2) joint coordinates.
        scores (np.ndarray): (P, K) joint confidence scores.
        flags (np.ndarray, optional): (P, K) the third ``keypoints`` value
            of the prediction file (poseval drops ``(0, 0, 0)`` joints).
            None means the scores (what this package writes).
    """
    keypoints: np.ndarray
    scores: np.ndarray
    flags: Optional[np.ndarray] = None

    @classmethod
    def empty(cls, num_keypoints: int = NUM_KEYPOINTS) -> 'FramePrediction':
        return cls(
            np.zeros((0, num_keypoints, 2)), np.zeros((0, num_keypoints)))


def per_person(array, *trailing, dtype=np.float64) -> np.ndarray:
    """``array`` as (N, K, *trailing) of ``dtype`` (N may be 0)."""
    return np.asarray(array, dtype=dtype).reshape(-1, NUM_KEYPOINTS, *trailing)


def joints_exist(keypoints: np.ndarray, third: np.ndarray,
                 protocol: str) -> np.ndarray:
    """(N, K) bool: which stored joints the protocol evaluates.

    Args:
        keypoints (np.ndarray): (N, K, 2) coordinates.
        third (np.ndarray): (N, K) the third stored value (visibility).
        protocol (str): ``'poseval'`` or ``'posetrack21'``.
    """
    x, y = keypoints[..., 0], keypoints[..., 1]
    if check_protocol(protocol) == 'poseval':
        return ~((x == 0) & (y == 0) & (third == 0))
    return (x > 0) & (y > 0)


def head_sizes(head_boxes: np.ndarray) -> np.ndarray:
    """PCKh reference size ``0.6 * ||(w, h)||`` of (N, 4) xywh head boxes."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64).reshape(-1, 4)
    return 0.6 * np.hypot(head_boxes[:, 2], head_boxes[:, 3])


def points_in_polygons(points: np.ndarray,
                       polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Whether each point lies strictly inside any polygon (shapely's
    ``contains``, as both official tools; boundary points are outside).

    Args:
        points (np.ndarray): (M, 2) points ``(x, y)``.
        polygons (Sequence[np.ndarray]): polygons, each (V, 2).

    Returns:
        np.ndarray: (M,) bool.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(points), dtype=bool)
    for polygon in polygons:
        polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        try:
            shape = shapely.Polygon(polygon)
        except ValueError as error:
            raise ValueError(f'ignore region with {len(polygon)} points is '
                             f'not a polygon: {error}') from None
        inside |= shapely.contains_xy(shape, points[:, 0], points[:, 1])
    return inside


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
        pck (np.ndarray): (P, N) fraction of each GT's joints that each
            prediction matches.
        assignment (str): ``'poseval'`` (greedy, as both official tools) or
            ``'hungarian'`` (optimal one-to-one; not official).

    Returns:
        np.ndarray: (P,) index of the matched GT pose, -1 if unmatched.
    """
    num_pred, num_gt = pck.shape
    gt_of_pred = np.full(num_pred, -1, dtype=np.int64)
    check_assignment(assignment)
    if num_pred == 0 or num_gt == 0:
        return gt_of_pred
    if assignment == 'poseval':
        # Same numpy calls (and tie-breaking) as assignGTmulti / PosemAP.
        best_gt = np.argmax(pck, axis=1)
        kept = np.zeros_like(pck)
        rows = np.arange(num_pred)
        kept[rows, best_gt] = pck[rows, best_gt]
        pred_of_gt = np.argmax(kept, axis=0)
        pred_of_gt[np.max(kept, axis=0) == 0] = -1
        for gt_idx, pred_idx in enumerate(pred_of_gt):
            if pred_idx >= 0:
                gt_of_pred[pred_idx] = gt_idx
    else:
        rows, cols = linear_sum_assignment(pck, maximize=True)
        for pred_idx, gt_idx in zip(rows, cols):
            if pck[pred_idx, gt_idx] > 0:
                gt_of_pred[pred_idx] = gt_idx
    return gt_of_pred


@dataclass
class FrameMatch:
    """Predictions of one frame matched to its ground truth (PCKh, greedy as
    the official tools).

    Attributes:
        has_gt (np.ndarray): (N, K) bool, GT joints the protocol evaluates
            (annotated, not an ear, outside the ignore regions).
        has_pred (np.ndarray): (P, K) bool, predicted joints that count.
        match (np.ndarray): (P, N, K) bool, prediction joint within
            ``dist_thr`` head sizes of the GT joint.
        gt_of_pred (np.ndarray): (P,) matched GT person, -1 if none.
    """
    has_gt: np.ndarray
    has_pred: np.ndarray
    match: np.ndarray
    gt_of_pred: np.ndarray


def match_frame(gt: FrameGroundTruth,
                pred: FramePrediction,
                protocol: str = 'poseval',
                dist_thr: float = 0.5,
                assignment: str = 'poseval') -> FrameMatch:
    """Match the predicted poses of one frame to its GT poses."""
    gt_kpts, gt_vis = per_person(gt.keypoints, 2), per_person(gt.visibility)
    pr_kpts, scores = per_person(pred.keypoints, 2), per_person(pred.scores)
    flags = scores if pred.flags is None else per_person(pred.flags)
    # Both tools drop the ears before anything else (not in their 15 joints).
    evaluated = np.zeros(NUM_KEYPOINTS, dtype=bool)
    evaluated[list(EVALUATED_KEYPOINTS)] = True
    has_gt = joints_exist(gt_kpts, gt_vis, protocol) & evaluated
    has_gt &= _outside_ignore(gt_kpts, gt.ignore_regions)
    has_pred = joints_exist(pr_kpts, flags, protocol) & evaluated
    has_pred &= _outside_ignore(pr_kpts, gt.ignore_regions)
    match = np.zeros((len(pr_kpts), len(gt_kpts), NUM_KEYPOINTS), dtype=bool)
    gt_of_pred = np.full(len(pr_kpts), -1, dtype=np.int64)
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
    return FrameMatch(has_gt, has_pred, match, gt_of_pred)


def evaluate_frame(
    gt: FrameGroundTruth,
    pred: FramePrediction,
    protocol: str = 'poseval',
    dist_thr: float = 0.5,
    assignment: str = 'poseval'
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match the predictions of one frame to its ground truth.

    Returns:
        tuple:
        - scores (np.ndarray): (P, K) joint scores of the predictions.
        - labels (np.ndarray): (P, K) bool, True for true-positive joints.
        - has_pred (np.ndarray): (P, K) bool, joints that count as detections.
        - num_gt (np.ndarray): (K,) number of GT joints (positives).
    """
    scores = per_person(pred.scores)
    m = match_frame(gt, pred, protocol, dist_thr, assignment)
    has_gt, has_pred = m.has_gt, m.has_pred
    eval_mask = None
    if gt.eval_mask is not None:
        eval_mask = np.asarray(gt.eval_mask, dtype=bool)
        if eval_mask.shape != has_gt.shape:
            raise ValueError(
                f'eval_mask has shape {eval_mask.shape}, expected '
                f'{has_gt.shape} (persons, keypoints)')
    counted = has_gt if eval_mask is None else has_gt & eval_mask
    labels = np.zeros(has_pred.shape, dtype=bool)
    for pred_idx, gt_idx in enumerate(m.gt_of_pred):
        if gt_idx >= 0:
            labels[pred_idx] = m.match[pred_idx, gt_idx]
            if eval_mask is not None:
                has_pred[pred_idx] &= eval_mask[gt_idx]
    return scores, labels & has_pred, has_pred, counted.sum(axis=0)


def compute_rpc(scores: np.ndarray,
                labels: np.ndarray,
                num_positives: float,
                protocol: str = 'poseval') -> Tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each rank of the detections sorted by score.

    Sorting uses the tools' ``argsort()[::-1]`` so ties break the same way.
    poseval divides recall by ``num_positives`` (NaN when 0), the PoseTrack21
    kit by ``max(num_positives, 1)``. Returns (precision, recall), each (D,).
    """
    order = np.asarray(scores).argsort()[::-1]
    true_pos = np.cumsum(np.asarray(labels)[order] == 1)
    if check_protocol(protocol) == 'posetrack21':
        num_positives = max(num_positives, 1)
    with np.errstate(divide='ignore', invalid='ignore'):
        recall = true_pos / np.float64(num_positives)
    precision = true_pos / np.arange(1, len(order) + 1)
    return precision, recall


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the monotone precision envelope (the tools' ``VOCap``).

    MMDetection's ``average_precision(mode='area')`` is the same sum, but
    importing ``mmdet.evaluation`` loads ``mmcv.ops``, which the metric and the
    standalone evaluator do not otherwise need.
    """
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def summarize_ap(per_joint_ap: np.ndarray,
                 skip_nan: bool = False) -> 'OrderedDict[str, float]':
    """Group (K,) per-joint AP into the official table (Head ... Total).

    ``Total`` leaves NaN joints out; with ``skip_nan`` every group does too (a
    group without any joint is NaN), else a NaN joint makes its group NaN.
    """
    summary = OrderedDict()
    for name, joints in list(
            JOINT_GROUPS.items()) + [('Total', EVALUATED_KEYPOINTS)]:
        values = per_joint_ap[list(joints)]
        if skip_nan:
            values = values[np.isfinite(values)]
        elif name == 'Total':
            values = values[~np.isnan(values)]
        summary[name] = float(values.mean()) if values.size else float('nan')
    return summary


def ap_from_detections(joint_scores: Sequence[np.ndarray],
                       joint_labels: Sequence[np.ndarray],
                       num_gt: np.ndarray,
                       protocol: str = 'poseval') -> Dict[str, object]:
    """Per-joint AP from pooled detections.

    Args:
        joint_scores, joint_labels: K arrays, the scores and TP flags of every
            detection of each joint type, in frame order.
        num_gt (np.ndarray): (K,) number of GT joints.
        protocol (str): ``'poseval'`` or ``'posetrack21'``.

    Returns:
        dict: ``'per_joint_ap'`` (K,) in percent (NaN for ears),
        ``'precision'`` and ``'recall'`` (K,) at the last rank (percent),
        ``'num_gt'`` (K,), and ``'summary'`` (OrderedDict Head ... Total).
    """
    per_joint_ap = np.full(NUM_KEYPOINTS, np.nan)
    precision_at_end = np.full(NUM_KEYPOINTS, np.nan)
    recall_at_end = np.full(NUM_KEYPOINTS, np.nan)
    for k in EVALUATED_KEYPOINTS:
        per_joint_ap[k] = precision_at_end[k] = recall_at_end[k] = 0.0
        if len(joint_scores[k]) == 0:
            continue
        precision, recall = compute_rpc(joint_scores[k], joint_labels[k],
                                        num_gt[k], protocol)
        per_joint_ap[k] = voc_ap(recall, precision) * 100
        precision_at_end[k] = precision[-1] * 100
        recall_at_end[k] = recall[-1] * 100
    return dict(
        per_joint_ap=per_joint_ap,
        precision=precision_at_end,
        recall=recall_at_end,
        num_gt=np.asarray(num_gt),
        summary=summarize_ap(per_joint_ap))


def posetrack_ap(frames: Sequence[Tuple[FrameGroundTruth, FramePrediction]],
                 protocol: str = 'poseval',
                 dist_thr: float = 0.5,
                 assignment: str = 'poseval') -> Dict[str, object]:
    """PoseTrack AP over a set of evaluated frames.

    Args:
        frames: pairs ``(ground truth, predictions)``, one per evaluated
            frame, in the tools' order (videos, then frames in file order);
            ``FramePrediction.empty()`` for frames without predictions.
        protocol (str): ``'poseval'`` (PoseTrack2017/2018) or
            ``'posetrack21'``. Defaults to ``'poseval'``.
        dist_thr (float): PCKh threshold. Defaults to 0.5.
        assignment (str): ``'poseval'`` (official) or ``'hungarian'``.

    Returns:
        dict: see :func:`ap_from_detections`.
    """
    check_protocol(protocol)
    joint_scores: List[List[np.ndarray]] = [[] for _ in range(NUM_KEYPOINTS)]
    joint_labels: List[List[np.ndarray]] = [[] for _ in range(NUM_KEYPOINTS)]
    num_gt = np.zeros(NUM_KEYPOINTS, dtype=np.int64)
    for gt, pred in frames:
        scores, labels, has_pred, frame_gt = evaluate_frame(
            gt, pred, protocol, dist_thr, assignment)
        num_gt += frame_gt
        for k in range(NUM_KEYPOINTS):
            joint_scores[k].append(scores[has_pred[:, k], k])
            joint_labels[k].append(labels[has_pred[:, k], k])
    return ap_from_detections([np.concatenate(s) for s in joint_scores],
                              [np.concatenate(lab) for lab in joint_labels],
                              num_gt, protocol)
