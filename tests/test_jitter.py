"""The acceleration error (jitter) on hand-built tracks whose value is known,
and in the folder evaluation and its CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT
from test_metric import HEAD_WH, annotated, ground_truth, pose, predictions

from mgpose_mm.evaluation import evaluate_folders
from mgpose_mm.evaluation.functional.jitter import (TrackedFrame,
                                                    acceleration_errors,
                                                    summarize_jitter)

SIZE = 100.  # person size: sqrt of a 100 x 100 box
COUNTED = int(annotated().sum())  # 15 joints: no ears


def walk(t):
    """GT origin at frame t: constant velocity, so GT acceleration is 0."""
    return (20. + 5. * t, 30. + 2. * t)


def track(num_frames, shift=lambda t: (0., 0.), missing=()):
    """One person walking; the prediction is the GT moved by ``shift(t)``; no
    GT at the frames in ``missing``."""
    frames = []
    for t in range(num_frames):
        if t in missing:
            frames.append(None)
            continue
        origin = walk(t)
        frames.append(
            TrackedFrame(
                ground_truth([origin]), np.array([7]), np.array([SIZE]),
                predictions([pose(origin) + np.asarray(shift(t))], [0.9])))
    return frames


def jitter(frames):
    return summarize_jitter(acceleration_errors(frames))


def test_predictions_following_the_motion_have_no_jitter():
    for frames in (track(5), track(5, shift=lambda t: (4., -3.))):
        result = jitter(frames)
        assert result['jitter'] == 0. and result['num_joints'] == 3 * COUNTED


def test_one_displaced_frame_adds_d_2d_d():
    # frame 2 of 5 moved 6 px: triples centred at 1, 2, 3 see 6, 12, 6 px
    # -> mean 8 px = 8 % of the 100 px person
    result = jitter(track(5, shift=lambda t: (6., 0.) if t == 2 else (0., 0.)))
    assert result['jitter'] == pytest.approx(8.)
    assert result['num_joints'] == 3 * COUNTED
    assert list(result['per_joint'].values()) == [pytest.approx(8.)] * 15
    assert 'left_ear' not in result['per_joint']
    errors = acceleration_errors(
        track(5, shift=lambda t: (6., 0.) if t == 2 else (0., 0.)))
    np.testing.assert_allclose(errors[:, 0], [6., 12., 6.])


def test_alternating_noise():
    # +-d on alternate frames: every triple sees |d + 2d + d| = 4d
    result = jitter(track(6, shift=lambda t: (3. * (-1)**t, 0.)))
    assert result['jitter'] == pytest.approx(12.)
    assert result['num_joints'] == 4 * COUNTED


def test_a_frame_without_ground_truth_breaks_the_triples():
    # frames 0 1 _ 3 4 5: only the triple centred at 4 remains
    result = jitter(
        track(
            6, shift=lambda t: (6., 0.) if t == 4 else (0., 0.), missing={2}))
    assert result['num_joints'] == COUNTED
    assert result['jitter'] == pytest.approx(12.)


def test_unmatched_frames_and_unannotated_joints_do_not_count():
    frames = track(5)
    # frame 2's prediction is far away: no match, no triple has all three
    frames[2].pred = predictions([pose((900., 900.))], [0.9])
    assert jitter(frames)['num_joints'] == 0
    assert np.isnan(jitter(frames)['jitter'])
    frames = track(3)
    frames[1].gt.keypoints[0, 0] = 0  # nose not annotated at the centre
    frames[1].gt.visibility[0, 0] = 0
    result = jitter(frames)
    assert result['num_joints'] == COUNTED - 1
    assert np.isnan(result['per_joint']['nose'])


def test_tracks_are_followed_by_gt_track_id():
    # two people who swap their order in the GT lists: the ids pair them up
    frames = []
    for t in range(3):
        a, b = walk(t), (400. + 3. * t, 50.)
        gt_order = [a, b] if t != 1 else [b, a]
        ids = np.array([1, 2]) if t != 1 else np.array([2, 1])
        frames.append(
            TrackedFrame(
                ground_truth(gt_order), ids, np.array([SIZE, SIZE]),
                predictions([pose(b), pose(a) + [2. * (t == 1), 0.]],
                            [0.9, 0.8])))
    result = jitter(frames)
    assert result['num_joints'] == 2 * COUNTED
    # person 1 moved 2 px at the centre frame: 4 % of 15 joints, person 2: 0
    assert result['jitter'] == pytest.approx(2.)


def write_folders(tmp_path, shift):
    """One GT video file of 5 frames (one person, track 3, 100 x 100 box) and
    its prediction file."""
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    gt_dir.mkdir()
    pred_dir.mkdir()
    images, gt_anns, pred_anns = [], [], []
    for t in range(5):
        image_id = 10000 + t
        images.append(
            dict(
                id=image_id,
                file_name=f'images/val/000001/{t:06d}.jpg',
                is_labeled=True,
                frame_id=image_id,
                vid_id='000001'))
        keypoints = pose(walk(t))
        flags = annotated().astype(float)
        keypoints[~annotated()] = 0
        gt_anns.append(
            dict(
                id=t,
                image_id=image_id,
                track_id=3,
                bbox=[*walk(t), 100., 100.],
                bbox_head=[*walk(t), *HEAD_WH],
                keypoints=np.column_stack([keypoints, flags]).ravel().tolist(),
                num_keypoints=int(flags.sum()),
                category_id=1))
        predicted = pose(walk(t)) + np.asarray(shift(t))
        pred_anns.append(
            dict(
                image_id=image_id,
                track_id=0,
                keypoints=np.column_stack([predicted,
                                           np.ones(17)]).ravel().tolist(),
                scores=[0.9] * 17,
                category_id=1))
    categories = [dict(id=1, name='person')]
    (gt_dir / '000001.json').write_text(
        json.dumps(
            dict(images=images, annotations=gt_anns, categories=categories)))
    (pred_dir / '000001.json').write_text(
        json.dumps(
            dict(images=images, annotations=pred_anns, categories=categories)))
    return gt_dir, pred_dir


@pytest.mark.parametrize('protocol', ['poseval', 'posetrack21'])
def test_folder_evaluation_reports_jitter(tmp_path, protocol):
    gt_dir, pred_dir = write_folders(
        tmp_path, lambda t: (6., 0.) if t == 2 else (0., 0.))
    result = evaluate_folders(str(gt_dir), str(pred_dir), protocol)
    assert result['jitter']['jitter'] == pytest.approx(8.)
    assert result['jitter']['num_joints'] == 3 * COUNTED
    assert result['summary']['Total'] == pytest.approx(100.)


def test_metric_jitter_equals_the_folder_evaluation(tmp_path):
    from mgpose_mm.datasets.posetrack_json import load_videos
    from mgpose_mm.evaluation.metrics.posetrack_results import \
        video_jitter_errors
    gt_dir, pred_dir = write_folders(tmp_path, lambda t: (0., 0.5 * t * t))
    folder = evaluate_folders(str(gt_dir), str(pred_dir))['jitter']
    predicted = json.loads((pred_dir / '000001.json').read_text())
    preds_by_image = {
        p['image_id']: [
            dict(
                keypoints=np.reshape(p['keypoints'], (17, 3))[:, :2],
                keypoint_scores=np.asarray(p['scores']))
        ]
        for p in predicted['annotations']
    }
    (video, ) = load_videos(str(gt_dir))
    in_run = summarize_jitter(video_jitter_errors(video, preds_by_image))
    # constant acceleration 1 px / frame^2 in y -> 1 % everywhere
    assert in_run['jitter'] == folder['jitter'] == pytest.approx(1.)
    assert in_run['num_joints'] == folder['num_joints'] == 3 * COUNTED


def test_eval_posetrack_prints_and_writes_jitter(tmp_path):
    gt_dir, pred_dir = write_folders(tmp_path, lambda t: (3. * (-1)**t, 0.))
    out = tmp_path / 'metrics.json'
    proc = subprocess.run([
        sys.executable, f'{REPO_ROOT}/tools/analysis_tools/eval_posetrack.py',
        str(gt_dir),
        str(pred_dir), '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          check=True)
    assert 'Jitter (acceleration error): 12.00 % of the person size ' \
        'over 45 joints' in proc.stdout
    written = json.loads(out.read_text())
    assert written['jitter'] == pytest.approx(12.)
    assert written['jitter_num_joints'] == 45
    assert written['per_joint_jitter']['nose'] == pytest.approx(12.)


def test_record_files_keep_the_jitter_per_video(tmp_path):
    from mgpose_mm.evaluation.metrics.posetrack_subsets import (dump_records,
                                                                load_jitter)
    errors = acceleration_errors(
        track(5, shift=lambda t: (6., 0.) if t == 2 else (0., 0.)))
    path = str(tmp_path / 'records.npz')
    dump_records({}, path, jitter={'000002': errors, '000001': errors[:1]})
    loaded = load_jitter(path)
    assert list(loaded) == ['000002', '000001']
    np.testing.assert_array_equal(loaded['000002'], errors)
    np.testing.assert_array_equal(loaded['000001'], errors[:1])
    dump_records({}, path)
    assert load_jitter(path) is None
