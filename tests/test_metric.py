"""PoseTrack AP: functional computation (shared rules) and the metric."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mgpose_mm.evaluation import (FrameGroundTruth, FramePrediction,
                                  PoseTrackAPMetric, posetrack_ap)
from mgpose_mm.evaluation.functional.posetrack_ap import (EVALUATED_KEYPOINTS,
                                                          assign_predictions)

SAMPLE_ROOT = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data' \
    / 'posetrack18_sample'
GROUPS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle',
          'Total')
RIGHT_WRIST = 10
# head box 30 x 40 -> head size 0.6 * 50 = 30 px, PCKh@0.5 radius 15 px
HEAD_WH = (30., 40.)
HEAD_SIZE = 30.


def pose(origin):
    """(17, 2) pose: joint k at origin + (10 k, 7 k); ears unannotated."""
    k = np.arange(17, dtype=np.float64)[:, None]
    return np.asarray(origin, dtype=np.float64) + k * np.array([10., 7.])


def annotated():
    visible = np.ones(17, dtype=bool)
    visible[[3, 4]] = False  # ears are not annotated in PoseTrack
    return visible


def gt_pose(origin):
    """(17, 2) GT pose: unannotated ears stored as (0, 0), as in the files."""
    keypoints = pose(origin)
    keypoints[~annotated()] = 0
    return keypoints


def ground_truth(origins, ignore_regions=()):
    return FrameGroundTruth(
        keypoints=np.stack([gt_pose(o) for o in origins]),
        visibility=np.stack([annotated().astype(float) for _ in origins]),
        head_boxes=np.array([[o[0], o[1], *HEAD_WH] for o in origins]),
        ignore_regions=[
            np.asarray(r, dtype=np.float64) for r in ignore_regions
        ])


def predictions(poses, scores):
    return FramePrediction(
        keypoints=np.stack(poses),
        scores=np.stack([np.full(17, s, dtype=np.float64) for s in scores]))


def summary(frames, **kwargs):
    return posetrack_ap(frames, **kwargs)['summary']


def test_perfect_predictions_give_100():
    origins = [(0., 0.), (300., 0.)]
    gt = ground_truth(origins)
    frames = [(gt, predictions([pose(o) for o in origins], [0.9, 0.8])),
              (ground_truth([(50., 400.)]),
               predictions([pose((50., 400.))], [0.7]))]
    result = summary(frames)
    assert list(result) == list(GROUPS)
    for name in GROUPS:
        assert result[name] == pytest.approx(100.)


def test_shift_beyond_half_head_size_gives_0_and_within_gives_100():
    origins = [(0., 0.), (300., 0.)]
    gt = ground_truth(origins)
    shift = np.array([0.51 * HEAD_SIZE, 0.])
    far = predictions([pose(o) + shift for o in origins], [0.9, 0.8])
    near = predictions([pose(o) + 0.98 * shift for o in origins], [0.9, 0.8])
    for name, value in summary([(gt, far)]).items():
        assert value == 0., name
    for name, value in summary([(gt, near)]).items():
        assert value == pytest.approx(100.), name


def hand_worked_frame(ignore_regions=()):
    """Two GT people A, B; P1 finds A but misplaces A's right wrist, P2 finds
    B, P3 is a false-positive person with the highest score."""
    a, b, fp = (0., 0.), (300., 0.), (1000., 1000.)
    p1 = pose(a)
    p1[RIGHT_WRIST] += [100., 0.]
    return (ground_truth([a, b], ignore_regions),
            predictions([p1, pose(b), pose(fp)], [0.9, 0.8, 0.95]))


def test_hand_worked_two_people_missed_joint_false_positive():
    # P1 matches A (14/15 joints), P2 matches B (15/15), P3 matches nobody.
    # Every evaluated joint except the right wrist, ranked by score:
    #   P3 0.95 FP, P1 0.9 TP, P2 0.8 TP; 2 GT joints
    #   precision 0, 1/2, 2/3; recall 0, 1/2, 1
    #   VOC envelope at recall steps 0->1/2 and 1/2->1 is 2/3 both
    #   AP = 1/2 * 2/3 + 1/2 * 2/3 = 2/3 -> 66.67
    # Right wrist: P3 FP, P1 FP (100 px > 15 px), P2 TP
    #   precision 0, 0, 1/3; recall 0, 0, 1/2
    #   AP = 1/2 * 1/3 + 1/2 * 0 = 1/6 -> 16.67
    # Wrist = (66.67 + 16.67) / 2 = 41.67
    # Total = (14 * 200/3 + 50/3) / 15 = 950 / 15 = 63.33
    result = posetrack_ap([hand_worked_frame()])
    per_joint = result['per_joint_ap']
    for k in EVALUATED_KEYPOINTS:
        expected = 100. / 6 if k == RIGHT_WRIST else 200. / 3
        assert per_joint[k] == pytest.approx(expected), k
    assert np.isnan(per_joint[[3, 4]]).all()
    assert result['num_gt'][EVALUATED_KEYPOINTS[0]] == 2
    s = result['summary']
    assert s['Head'] == pytest.approx(200. / 3)
    assert s['Wrist'] == pytest.approx((200. / 3 + 100. / 6) / 2)
    assert s['Total'] == pytest.approx(950. / 15)


def test_ignore_regions_remove_points_inside():
    # Region around P3 (x, y in ~[1000, 1230]): P3's joints vanish.
    #   other joints: P1 TP, P2 TP -> AP 100
    #   right wrist: P1 0.9 FP, P2 0.8 TP; precision 0, 1/2; recall 0, 1/2
    #   AP = 1/2 * 1/2 = 25
    #   Total = (14 * 100 + 25) / 15 = 95
    around_fp = [[990, 990], [1300, 990], [1300, 1300], [990, 1300]]
    s = summary([hand_worked_frame([around_fp])])
    assert s['Head'] == pytest.approx(100.)
    assert s['Wrist'] == pytest.approx((100. + 25.) / 2)
    assert s['Total'] == pytest.approx(95.)

    # Thin band holding A's GT right wrist (100, 70) and P1's misplaced one
    # (200, 70) but no other point: that GT joint and that FP are both
    # gone. Right wrist: P3 0.95 FP, P2 0.8 TP, 1 GT joint
    #   precision 0, 1/2; recall 0, 1 -> AP = 1 * 1/2 = 50
    #   Total = (14 * 200/3 + 50) / 15 = 2950 / 45
    around_wrist = [[95, 68], [205, 68], [205, 72], [95, 72]]
    result = posetrack_ap([hand_worked_frame([around_wrist])])
    assert result['per_joint_ap'][RIGHT_WRIST] == pytest.approx(50.)
    assert result['num_gt'][RIGHT_WRIST] == 1
    assert result['summary']['Total'] == pytest.approx(2950. / 45)


def test_frames_without_predictions_count_as_missed():
    # frame 1 found (TP at 0.9), frame 2 has no prediction: per joint
    # precision 1, recall 1/2 -> AP 50
    frames = [(ground_truth([(0., 0.)]), predictions([pose((0., 0.))], [0.9])),
              (ground_truth([(0., 0.)]), FramePrediction.empty())]
    for value in summary(frames).values():
        assert value == pytest.approx(50.)


def test_greedy_poseval_and_hungarian_assignment():
    # pred 0 prefers GT 0 (0.6), pred 1 also (0.55): poseval keeps pred 0
    # for GT 0 and leaves GT 1 and pred 1 unmatched; the Hungarian
    # assignment maximises the sum (0.5 + 0.55) instead.
    pck = np.array([[0.6, 0.5], [0.55, 0.0]])
    assert assign_predictions(pck, 'poseval').tolist() == [0, -1]
    assert assign_predictions(pck, 'hungarian').tolist() == [1, 0]
    with pytest.raises(ValueError, match='assignment'):
        assign_predictions(pck, 'greedy')


def coco_annotation(ann_id, image_id, origin):
    keypoints = np.concatenate([pose(origin), annotated()[:, None]], axis=1)
    keypoints[~annotated()] = 0
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        bbox=[origin[0] - 10, origin[1] - 10, 200, 150],
        bbox_head=[origin[0], origin[1], *HEAD_WH],
        keypoints=keypoints.reshape(-1).tolist(),
        track_id=ann_id % 10)


def write_gt(tmp_path):
    """Two videos, 2 frames each; video a's second frame is unlabelled, video
    b's frames are flagged occluded / not."""
    images, anns = [], []
    for vid_id, video in (('000001', 'a_mpii_test'), ('000002',
                                                      'b_mpii_test')):
        for index in range(2):
            image_id = int(f'1{vid_id}{index:04d}')
            labelled = not (video.startswith('a') and index == 1)
            images.append(
                dict(
                    id=image_id,
                    file_name=f'images/val/{video}/{index:06d}.jpg',
                    vid_id=vid_id,
                    frame_id=image_id,
                    nframes=2,
                    is_labeled=labelled,
                    attributes=dict(
                        occluded=video.startswith('b') and index == 0)))
            if labelled:
                anns.append(coco_annotation(image_id * 10, image_id, (0, 0)))
                anns.append(
                    coco_annotation(image_id * 10 + 1, image_id, (300, 0)))
    path = tmp_path / 'posetrack18_val.json'
    path.write_text(json.dumps(dict(images=images, annotations=anns)))
    return path, anns


def data_samples(anns, shift_images=(), as_tensor=False):
    samples = []
    for ann in anns:
        kpts = np.array(ann['keypoints'], dtype=np.float64).reshape(17, 3)
        shifted = ann['image_id'] in shift_images
        xy = kpts[None, :, :2] + (50. if shifted else 0.)
        scores = kpts[None, :, 2] * (0.5 if shifted else 0.9)
        if as_tensor:
            xy, scores = torch.from_numpy(xy), torch.from_numpy(scores)
        samples.append(
            dict(
                id=ann['id'],
                img_id=ann['image_id'],
                pred_instances=dict(keypoints=xy, keypoint_scores=scores),
                gt_instances=dict(bbox_scores=np.ones(1))))
    return samples


def test_metric_reports_groups_hard_subset_and_writes_videos(tmp_path):
    ann_file, anns = write_gt(tmp_path)
    hard_image = int('1' + '000002' + '0000')  # video b, frame 0
    out_dir = tmp_path / 'pred'
    metric = PoseTrackAPMetric(
        ann_file=str(ann_file),
        attribute_subsets=True,
        outfile_prefix=str(out_dir))
    easy_images = {a['image_id'] for a in anns} - {hard_image}
    metric.process([],
                   data_samples(
                       anns, shift_images=easy_images, as_tensor=True))
    results = metric.evaluate(size=len(anns))
    # hard frame perfect, the other two labelled frames shifted by 50 px
    for name in GROUPS:
        assert results[f'posetrack/hard/{name} AP'] == pytest.approx(100.)
    # 3 evaluated frames (the unlabelled one is skipped), 6 GT joints per
    # joint type; ranked: 2 TP (0.9) then 4 FP (0.5)
    # -> precision 1, 1 at recall 1/6, 2/6, then lower -> AP = 2/6
    for name in GROUPS:
        assert results[f'posetrack/{name} AP'] == pytest.approx(100. / 3)

    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ['a_mpii_test.json', 'b_mpii_test.json']
    video_a = json.loads((out_dir / 'a_mpii_test.json').read_text())
    assert [img['id']
            for img in video_a['images']] == [10000010000, 10000010001]
    assert len(video_a['annotations']) == 2
    first = video_a['annotations'][0]
    assert len(first['keypoints']) == 51 and len(first['scores']) == 17
    # video a's frame was shifted by 50 px and scored 0.5: [x, y, score]
    assert first['keypoints'][:3] == pytest.approx([50., 50., 0.5])
    assert first['score'] == pytest.approx(0.5)
    assert sorted(a['track_id'] for a in video_a['annotations']) == [0, 1]


def test_metric_format_only_and_bad_inputs(tmp_path):
    ann_file, anns = write_gt(tmp_path)
    metric = PoseTrackAPMetric(
        ann_file=str(ann_file),
        format_only=True,
        outfile_prefix=str(tmp_path / 'out'))
    metric.process([], data_samples(anns[:1]))
    assert metric.evaluate(size=1) == {}
    assert (tmp_path / 'out' / 'b_mpii_test.json').is_file()

    with pytest.raises(ValueError, match='outfile_prefix'):
        PoseTrackAPMetric(ann_file=str(ann_file), format_only=True)
    unknown = PoseTrackAPMetric(ann_file=str(ann_file))
    stray = data_samples(anns[:1])
    stray[0]['img_id'] = 123
    unknown.process([], stray)
    with pytest.raises(ValueError, match='not in ann_file'):
        unknown.evaluate(size=1)
    with pytest.raises(FileNotFoundError, match='missing.json'):
        PoseTrackAPMetric(ann_file=str(tmp_path / 'missing.json')).\
            compute_metrics([])


@pytest.mark.skipif(
    not SAMPLE_ROOT.is_dir(),
    reason=f'shared PoseTrack18 sample not found at {SAMPLE_ROOT}')
@pytest.mark.parametrize(
    'ann_file', ['annotations/test_posetrack18_val.json', 'annotations/val'])
def test_shared_sample_ground_truth_as_predictions(ann_file):
    content = json.loads((SAMPLE_ROOT / 'annotations' /
                          'test_posetrack18_val.json').read_text())
    metric = PoseTrackAPMetric(ann_file=str(SAMPLE_ROOT / ann_file))
    metric.process([], data_samples(content['annotations']))
    results = metric.evaluate(size=len(content['annotations']))
    for name in GROUPS:
        assert results[f'posetrack/{name} AP'] == pytest.approx(100.)


def test_oks_nms_removes_duplicate_predictions(tmp_path):
    ann_file, anns = write_gt(tmp_path)
    # every person predicted twice: the original (scores 0.9) and a 2 px
    # shifted duplicate scored 0.95 (OKS ~0.99 with the original)
    duplicates = data_samples(anns)
    for dup in duplicates:
        dup['id'] += 10**6
        pred = dup['pred_instances']
        pred['keypoints'] = pred['keypoints'] + 2.
        pred['keypoint_scores'] = pred['keypoint_scores'] / 0.9 * 0.95

    def total_ap(nms_mode):
        metric = PoseTrackAPMetric(ann_file=str(ann_file), nms_mode=nms_mode)
        metric.dataset_meta = dict(
            dataset_name='posetrack18', sigmas=np.full(17, 0.08))
        metric.process([], data_samples(anns) + duplicates)
        return metric.evaluate(size=2 * len(anns))['posetrack/Total AP']

    # No NMS: each GT takes the first listed prediction (the original, TP at
    # 0.9); the duplicates are FPs ranked above: 6 FP then 6 TP for 6 GT
    # joints -> precision 1/7 ... 6/12, envelope 1/2 -> AP 50.
    assert total_ap('none') == pytest.approx(50.)
    # OKS NMS keeps the higher-scored duplicate, still within 15 px: AP 100.
    assert total_ap('oks_nms') == pytest.approx(100.)
