"""Difficulty-subset AP (eval_mask), frame records and video-weighted AP, on
hand-worked cases."""
import math

import numpy as np
import pytest

from mgpose_mm.evaluation.functional.posetrack_ap import (FrameGroundTruth,
                                                          FramePrediction,
                                                          compute_rpc,
                                                          evaluate_frame,
                                                          posetrack_ap, voc_ap)
from mgpose_mm.evaluation.functional.subsets import (JointDetections,
                                                     difficulty_masks,
                                                     frame_records, records_ap,
                                                     subset_masks, weighted_ap)

K = 17
EARS = (3, 4)


def _person(y):
    """A GT person with joint k at (10 k, y); ears unannotated; head size 0.6 *
    50 = 30."""
    kpts = np.stack([np.arange(K) * 10.0, np.full(K, float(y))], 1)
    visible = np.ones(K, bool)
    visible[list(EARS)] = False
    return kpts, visible


def _frame():
    """GT persons A (y=0) and B (y=1000); predictions P0 = A exactly (score
    0.9), P1 = B with joint 9 far off (0.8), P2 far from everyone (0.5)."""
    (ka, va), (kb, vb) = _person(0), _person(1000)
    gt = FrameGroundTruth(
        keypoints=np.stack([ka, kb]),
        visibility=np.stack([va, vb]).astype(float),
        head_boxes=np.array([[0, 0, 30, 40], [0, 0, 30, 40]], float))
    p1 = kb.copy()
    p1[9] += 500
    pred = FramePrediction(
        keypoints=np.stack([ka, p1, np.full((K, 2), 5000.0)]),
        scores=np.stack([np.full(K, 0.9),
                         np.full(K, 0.8),
                         np.full(K, 0.5)]))
    return gt, pred


def _masked(gt, mask):
    return FrameGroundTruth(
        gt.keypoints, gt.visibility, gt.head_boxes, eval_mask=mask)


def test_eval_mask_occluded_joints_by_hand():
    gt, pred = _frame()
    mask = np.zeros((2, K), bool)
    mask[0, 9] = mask[1, 9] = mask[1, 13] = True
    scores, labels, has_pred, num_gt = evaluate_frame(_masked(gt, mask), pred)
    assert num_gt.tolist() == [0] * 9 + [2] + [0] * 3 + [1] + [0] * 3
    # joint 9: P0 -> A (TP), P1 -> B (masked in, too far: FP), P2 unassigned
    # (FP)
    assert has_pred[:, 9].tolist() == [True, True, True]
    assert labels[:, 9].tolist() == [True, False, False]
    # joint 13: P0 -> A is masked out (dropped), P1 -> B (TP), P2 unassigned
    # stays FP
    assert has_pred[:, 13].tolist() == [False, True, True]
    assert labels[:, 13].tolist() == [False, True, False]
    # joint 0 is masked out for both persons: only the unassigned P2 is left,
    # as an FP
    assert has_pred[:, 0].tolist() == [False, False, True]
    # AP: joint 9: ranks TP, FP, FP of 2 positives -> 0.5; joint 13: TP first
    # of 1 -> 1.0
    summary = records_ap(
        frame_records([(gt, pred)], [{
            'occluded': mask
        }], ['v'])['occluded'])
    assert summary['Wrist'] == pytest.approx(50.0)
    assert summary['Knee'] == pytest.approx(100.0)
    assert summary['Total'] == pytest.approx(75.0)
    assert math.isnan(summary['Head']) and math.isnan(summary['Ankle'])


def test_eval_mask_blurred_person_by_hand():
    gt, pred = _frame()
    mask = np.zeros((2, K), bool)
    mask[1] = True  # person B blurred
    summary = records_ap(
        frame_records([(gt, pred)], [{
            'blurred': mask
        }], ['v'])['blurred'])
    # every evaluated joint has 1 positive (B); P0 is dropped (assigned to A);
    # P1 (0.8) is a TP before P2 (0.5, FP) -> AP 100, except joint 9 where P1
    # misses -> AP 0
    assert summary['Wrist'] == pytest.approx(50.0)  # (0 + 100) / 2
    assert summary['Total'] == pytest.approx(1400 / 15)


def test_matching_uses_all_annotated_joints_not_the_mask():
    # P1 matches B on 14 of 15 joints; masking all but B's missed joint 9 must
    # keep P1 on B
    gt, pred = _frame()
    mask = np.zeros((2, K), bool)
    mask[1, 9] = True
    _, labels, has_pred, num_gt = evaluate_frame(_masked(gt, mask), pred)
    assert num_gt[9] == 1 and has_pred[:, 9].tolist() == [False, True, True]
    assert not labels[:, 9].any()


def test_no_mask_is_the_usual_ap_and_bad_mask_raises():
    gt, pred = _frame()
    expected = posetrack_ap([(gt, pred)])['summary']
    summary = records_ap(
        frame_records([(gt, pred)], [{
            'total': None
        }], ['v'])['total'])
    assert summary['Total'] == pytest.approx(expected['Total'])
    assert summary['Total'] == pytest.approx((14 * 100 + 50) / 15)
    with pytest.raises(ValueError, match='eval_mask has shape'):
        evaluate_frame(_masked(gt, np.ones((3, K), bool)), pred)


def test_subset_masks_from_annotations():
    gt, _ = _frame()
    occ = [0] * K
    occ[9], occ[3] = 1, 1  # the ear is not annotated: never counted
    anns = [
        dict(id=1, occluded_joints=occ, motion_blurred=False),
        dict(id=2, occluded_joints=[0] * K, motion_blurred=True)
    ]
    masks = subset_masks(gt, anns, hard_frame=True)
    assert set(masks) == {'total', 'hard', 'occluded', 'blurred'}
    assert np.flatnonzero(masks['occluded'][0]).tolist() == [9]
    assert not masks['occluded'][1].any()
    assert masks['blurred'][1].all() and not masks['blurred'][0].any()
    plain = [dict(id=1),
             dict(id=2)]  # no difficulty fields (e.g. real PoseTrack)
    assert set(subset_masks(gt, plain, hard_frame=False)) == {'total'}
    with pytest.raises(ValueError, match='occluded_joints has 3 values'):
        difficulty_masks([dict(id=7, occluded_joints=[0, 1, 0])])


def test_weighted_ap_matches_voc_ap_and_resampling():
    rng = np.random.default_rng(1)
    scores = rng.random(40)
    labels = rng.random(40) < 0.6
    videos = rng.integers(0, 4, 40)
    num_gt = np.array([9, 8, 7, 6])
    order = scores.argsort()[::-1]
    precision, recall = compute_rpc(scores, labels, num_gt.sum())
    ap = weighted_ap(labels[order], videos[order], num_gt, np.ones((1, 4)))
    assert ap[0] == pytest.approx(voc_ap(recall, precision))
    # weights (2, 0, 1, 1): the detections of video 0 twice, none of video 1
    keep = np.concatenate([order[videos[order] == 0], order])
    keep = keep[videos[keep] != 1]
    keep = keep[np.argsort(-scores[keep], kind='stable')]
    p2, r2 = compute_rpc(scores[keep], labels[keep], 2 * 9 + 7 + 6)
    w = weighted_ap(labels[order], videos[order], num_gt,
                    np.array([[2, 0, 1, 1.]]))
    assert w[0] == pytest.approx(voc_ap(r2, p2))
    assert np.isnan(
        weighted_ap(labels[order], videos[order], num_gt * 0, np.ones(
            (1, 4)))[0])


def test_joint_detections_total_matches_records_and_weights():
    gt, pred = _frame()
    records = frame_records([(gt, pred), (gt, pred)], [{
        'total': None
    }] * 2, ['a', 'b'])['total']
    det = JointDetections(records)
    assert det.videos == ['a', 'b']
    assert det.total_ap() == pytest.approx((14 * 100 + 50) / 15)
    totals = det.total_ap(np.array([[2, 0], [0, 2], [1, 1]], float))
    assert totals == pytest.approx([det.total_ap()] * 3)
