"""Rules that differ between poseval (PoseTrack17/18) and the PoseTrack21 kit,
hand-worked, and the official-format folder evaluator / CLI."""
import json

import numpy as np
import pytest
from test_metric import (GROUPS, HEAD_WH, annotated, coco_annotation,
                         data_samples, gt_pose, pose, predictions)

from mgpose_mm.evaluation import (PROTOCOLS, FrameGroundTruth, FramePrediction,
                                  PoseTrackAPMetric, PoseTrackInputError,
                                  evaluate_folders, posetrack_ap)
from mgpose_mm.evaluation.functional.posetrack_ap import points_in_polygons

NOSE, RIGHT_WRIST = 0, 10
ORIGIN = (20., 20.)


def one_person(origin=ORIGIN,
               visibility=None,
               keypoints=None,
               ignore_regions=()):
    keypoints = gt_pose(origin) if keypoints is None else keypoints
    if visibility is None:
        visibility = annotated().astype(float)
    return FrameGroundTruth(
        keypoints=keypoints[None],
        visibility=np.asarray(visibility, dtype=float)[None],
        head_boxes=np.array([[*origin, *HEAD_WH]]),
        ignore_regions=[np.asarray(r, dtype=float) for r in ignore_regions])


def perfect(origin=ORIGIN, score=0.9):
    return predictions([pose(origin)], [score])


def result(frames, protocol):
    return posetrack_ap(frames, protocol=protocol)


@pytest.mark.parametrize('protocol', ['poseval', 'posetrack21'])
def test_visibility_zero_joint_with_coordinates_is_evaluated(protocol):
    # PoseTrack2017 marks occluded joints (x, y, 0): both tools evaluate them,
    # so the (correct) wrist prediction is a true positive, not a false one.
    visibility = annotated().astype(float)
    visibility[RIGHT_WRIST] = 0
    out = result([(one_person(visibility=visibility), perfect())], protocol)
    assert out['num_gt'][RIGHT_WRIST] == 1
    assert out['per_joint_ap'][RIGHT_WRIST] == pytest.approx(100.)
    assert out['summary']['Total'] == pytest.approx(100.)


def test_joint_with_predictions_but_no_ground_truth():
    # The right wrist is stored (0, 0, 0) (not annotated) but predicted.
    keypoints = gt_pose(ORIGIN)
    keypoints[RIGHT_WRIST] = 0
    visibility = annotated().astype(float)
    visibility[RIGHT_WRIST] = 0
    frames = [(one_person(keypoints=keypoints,
                          visibility=visibility), perfect())]
    poseval = result(frames, 'poseval')
    # poseval: recall = TP / 0 -> AP NaN, left out of Total (14 joints at 100)
    assert poseval['num_gt'][RIGHT_WRIST] == 0
    assert np.isnan(poseval['per_joint_ap'][RIGHT_WRIST])
    assert np.isnan(poseval['summary']['Wrist'])
    assert poseval['summary']['Total'] == pytest.approx(100.)
    # PoseTrack21 kit: recall = TP / max(0, 1) = 0 -> AP 0, counted in Total
    pt21 = result(frames, 'posetrack21')
    assert pt21['per_joint_ap'][RIGHT_WRIST] == 0.
    assert pt21['summary']['Wrist'] == pytest.approx(50.)
    assert pt21['summary']['Total'] == pytest.approx(1400. / 15)


def test_coordinate_rules_differ_at_zero_and_negative_coordinates():
    # Person at the image corner: its nose is annotated at (0, 0) with v = 1.
    # poseval: (0, 0, 1) is a joint; the kit: x > 0 and y > 0 is required.
    origin = (0., 0.)
    frames = [(one_person(origin), perfect(origin))]
    poseval = result(frames, 'poseval')
    assert poseval['num_gt'][NOSE] == 1
    assert poseval['summary']['Total'] == pytest.approx(100.)
    pt21 = result(frames, 'posetrack21')
    # no GT nose and no predicted nose (the prediction is at (0, 0) too):
    # nose AP 0, Head = (0 + 100 + 100) / 3, Total = 14 * 100 / 15
    assert pt21['num_gt'][NOSE] == 0
    assert pt21['per_joint_ap'][NOSE] == 0.
    assert pt21['summary']['Head'] == pytest.approx(200. / 3)
    assert pt21['summary']['Total'] == pytest.approx(1400. / 15)

    # A predicted joint at negative x exists for poseval, not for the kit.
    # GT at ORIGIN; P0 (score 0.9) has its nose at (-5, 27), 26 px off;
    # P1 (score 0.5) is perfect. P1 matches the GT pose in both tools
    # (15/15 against P0's 14/15), P0 stays unmatched.
    shifted = pose(ORIGIN)
    shifted[NOSE] = (-5., 27.)
    both = FramePrediction(
        np.stack([shifted, pose(ORIGIN)]),
        np.stack([np.full(17, 0.9), np.full(17, 0.5)]))
    frames = [(one_person(), both)]
    # every joint but the nose: FP 0.9, TP 0.5 -> precision 0, 1/2 -> AP 50
    for protocol in PROTOCOLS:
        assert result(frames, protocol)['per_joint_ap'][RIGHT_WRIST] == \
            pytest.approx(50.)
    # nose: poseval ranks P0's nose (a FP) first -> AP 50; for the kit it
    # does not exist, P1's nose is the only detection -> AP 100
    assert result(frames, 'poseval')['per_joint_ap'][NOSE] == \
        pytest.approx(50.)
    assert result(frames, 'posetrack21')['per_joint_ap'][NOSE] == \
        pytest.approx(100.)


def test_points_on_ignore_region_boundary_are_outside():
    square = np.array([[0., 0.], [100., 0.], [100., 100.], [0., 100.]])
    points = np.array([[50., 50.], [50., 0.], [100., 70.], [0., 0.],
                       [100., 100.], [150., 50.]])
    assert points_in_polygons(points, [square]).tolist() == [
        True, False, False, False, False, False
    ]
    # The GT right wrist of a person at ORIGIN lies at (120, 90), on the left
    # edge of this region: kept (an even-odd ray test would drop it and the
    # wrist AP would be 0 for lack of GT and prediction).
    region = [[120., 80.], [170., 80.], [170., 100.], [120., 100.]]
    for protocol in PROTOCOLS:
        out = result([(one_person(ignore_regions=[region]), perfect())],
                     protocol)
        assert out['num_gt'][RIGHT_WRIST] == 1
        assert out['per_joint_ap'][RIGHT_WRIST] == pytest.approx(100.)


@pytest.mark.parametrize('protocol', ['poseval', 'posetrack21'])
def test_score_ties_rank_like_the_tools(protocol):
    # One GT person; two identical-score predictions: P_fp far away, P_tp on
    # the GT. Both tools rank with argsort()[::-1]: for two equal scores the
    # later detection comes first (numpy 1.22 and 2.x alike; for long tied
    # arrays the order depends on the numpy version, in the tools too).
    far = (500., 500.)
    tp_then_fp = predictions([pose(ORIGIN), pose(far)], [0.9, 0.9])
    fp_then_tp = predictions([pose(far), pose(ORIGIN)], [0.9, 0.9])
    # FP ranked first: precision 0, 1/2 at recall 0, 1 -> AP 50
    assert result([(one_person(), tp_then_fp)],
                  protocol)['summary']['Total'] == pytest.approx(50.)
    # TP ranked first: precision 1 at recall 1 -> AP 100
    assert result([(one_person(), fp_then_tp)],
                  protocol)['summary']['Total'] == pytest.approx(100.)


def test_eval_mask_restricts_positives_and_drops_assigned_detections():
    # Only the right wrist is in the subset. Two GT persons A (perfect
    # prediction, 0.9) and B (prediction 0.8, wrist 100 px off).
    a, b = (0., 0.), (300., 0.)
    mask = np.zeros((2, 17), dtype=bool)
    mask[:, RIGHT_WRIST] = True
    gt = FrameGroundTruth(
        keypoints=np.stack([gt_pose(a), gt_pose(b)]),
        visibility=np.stack([annotated().astype(float)] * 2),
        head_boxes=np.array([[*a, *HEAD_WH], [*b, *HEAD_WH]]),
        eval_mask=mask)
    p_b = pose(b)
    p_b[RIGHT_WRIST] += (100., 0.)
    out = posetrack_ap([(gt, predictions([pose(a), p_b], [0.9, 0.8]))])
    # wrist: TP 0.9, FP 0.8, 2 GT -> precision 1 at recall 1/2 -> AP 50;
    # every other joint: no positives and no detections (dropped) -> AP 0
    assert out['num_gt'][RIGHT_WRIST] == 2 and out['num_gt'][NOSE] == 0
    assert out['per_joint_ap'][RIGHT_WRIST] == pytest.approx(50.)
    assert out['per_joint_ap'][NOSE] == 0.


# --------------------------------------------------------- files and the CLI
def write_video_files(gt_dir, pred_dir, unlabelled_box_only=True):
    """Video a: frame 0 labelled with persons at (20, 20) and (300, 20); frame
    1 unlabelled but holding a box-only person.

    Predictions: perfect on frame
    0 (scores 0.9 / 0.8) and one person on frame 1 scored 0.95.
    """
    gt_dir.mkdir(parents=True, exist_ok=True)
    pred_dir.mkdir(parents=True, exist_ok=True)
    images = [
        dict(
            id=100,
            file_name='images/val/000001_mpii_test/000000.jpg',
            is_labeled=True,
            nframes=2,
            frame_id=100,
            ignore_regions_x=[],
            ignore_regions_y=[]),
        dict(
            id=101,
            file_name='images/val/000001_mpii_test/000001.jpg',
            is_labeled=False,
            nframes=2,
            frame_id=101,
            ignore_regions_x=[],
            ignore_regions_y=[]),
    ]
    gt_anns = [
        coco_annotation(1000, 100, (20., 20.)),
        coco_annotation(1001, 100, (300., 20.))
    ]
    if unlabelled_box_only:
        gt_anns.append(
            dict(
                id=1010,
                image_id=101,
                category_id=1,
                bbox=[0, 0, 50, 90],
                keypoints=[0] * 51,
                track_id=3))
    (gt_dir / '000001_mpii_test.json').write_text(
        json.dumps(dict(images=images, annotations=gt_anns)))

    def pred(ann_id, image_id, origin, score, track_id):
        kpts = np.concatenate([pose(origin), np.full((17, 1), score)], 1)
        return dict(
            id=ann_id,
            image_id=image_id,
            category_id=1,
            keypoints=kpts.reshape(-1).tolist(),
            scores=[score] * 17,
            track_id=track_id)

    preds = [
        pred(1, 100, (20., 20.), 0.9, 0),
        pred(2, 100, (300., 20.), 0.8, 1),
        pred(3, 101, (600., 20.), 0.95, 0)
    ]
    path = pred_dir / '000001_mpii_test.json'
    path.write_text(json.dumps(dict(images=images, annotations=preds)))
    return path


def test_unlabelled_frames_with_box_only_persons(tmp_path):
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    write_video_files(gt_dir, pred_dir)
    # poseval evaluates frame 1 (it has a GT person): its prediction is a
    # FP ranked first -> precision 0, 1/2, 2/3 at recall 0, 1/2, 1
    # -> AP = 1/2 * 2/3 + 1/2 * 2/3 = 66.67 for every joint
    poseval = evaluate_folders(str(gt_dir), str(pred_dir), 'poseval')
    assert poseval['num_frames'] == 2
    assert poseval['summary']['Total'] == pytest.approx(200. / 3)
    # the PoseTrack21 kit evaluates labelled frames only -> 100
    pt21 = evaluate_folders(str(gt_dir), str(pred_dir), 'posetrack21')
    assert pt21['num_frames'] == 1
    assert pt21['summary']['Total'] == pytest.approx(100.)
    # without the box-only person, poseval skips frame 1 as well
    write_video_files(tmp_path / 'gt2', tmp_path / 'pred2', False)
    assert evaluate_folders(str(tmp_path / 'gt2'), str(tmp_path / 'pred2'),
                            'poseval')['summary']['Total'] == \
        pytest.approx(100.)


def test_folder_input_errors_are_named(tmp_path):
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    path = write_video_files(gt_dir, pred_dir)
    content = json.loads(path.read_text())

    def rewrite(change):
        broken = json.loads(json.dumps(content))
        change(broken)
        path.write_text(json.dumps(broken))

    rewrite(lambda c: (c['images'].pop(), c['annotations'].pop()))
    with pytest.raises(PoseTrackInputError, match='1 prediction frames <> 2'):
        evaluate_folders(str(gt_dir), str(pred_dir))
    rewrite(lambda c: c['annotations'][1].update(track_id=0))
    with pytest.raises(PoseTrackInputError, match=r'duplicate track ids \[0'):
        evaluate_folders(str(gt_dir), str(pred_dir))
    rewrite(lambda c: c['annotations'][0].update(keypoints=[1.] * 45))
    with pytest.raises(ValueError, match='45 keypoint values, expected 51'):
        evaluate_folders(str(gt_dir), str(pred_dir))
    rewrite(lambda c: c['annotations'][0].pop('track_id'))
    with pytest.raises(PoseTrackInputError, match='has no track_id'):
        evaluate_folders(str(gt_dir), str(pred_dir))
    rewrite(lambda c: c['annotations'][0].update(track_id=10000))
    with pytest.raises(PoseTrackInputError, match='not below 10000'):
        evaluate_folders(str(gt_dir), str(pred_dir))
    # PoseTrack21: equal image ids at every labelled position
    rewrite(lambda c: c['images'].reverse())
    with pytest.raises(PoseTrackInputError, match='asserts equal image ids'):
        evaluate_folders(str(gt_dir), str(pred_dir), 'posetrack21')
    path.unlink()
    with pytest.raises(PoseTrackInputError, match='does not exist'):
        evaluate_folders(str(gt_dir), str(pred_dir))


def test_cli_prints_table_and_one_line_errors(tmp_path, capsys, repo_root):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'eval_posetrack',
        f'{repo_root}/tools/analysis_tools/eval_posetrack.py')
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    write_video_files(gt_dir, pred_dir)
    out = tmp_path / 'metrics.json'
    assert cli.main([str(gt_dir), str(pred_dir), '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'poseval protocol: 1 videos, 2 evaluated frames' in printed
    assert printed.split('\n')[1].split() == [
        'Head', '|', 'Shoulder', '|', 'Elbow', '|', 'Wrist', '|', 'Hip', '|',
        'Knee', '|', 'Ankle', '|', 'Total'
    ]
    assert printed.split('\n')[2].split('|')[-1].strip() == '66.7'
    assert json.loads(out.read_text())['Total AP'] == pytest.approx(200 / 3)
    assert cli.main([str(gt_dir), str(tmp_path / 'none')]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'does not exist' in err
    # a GT file where the GT folder is expected is named as such
    gt_file = sorted(gt_dir.glob('*.json'))[0]
    assert cli.main([str(gt_file), str(pred_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0
    assert f'GT folder {gt_file} is a file, not a folder' in err


def test_annolist_format_gives_the_same_numbers(tmp_path):
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    path = write_video_files(gt_dir, pred_dir)
    expected = evaluate_folders(str(gt_dir), str(pred_dir))['summary']
    # the same predictions in poseval's PoseTrack2017 format
    names = ('right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee',
             'left_ankle', 'right_wrist', 'right_elbow', 'right_shoulder',
             'left_shoulder', 'left_elbow', 'left_wrist', 'head_bottom',
             'nose', 'head_top')
    from mgpose_mm.evaluation.functional.posetrack_ap import \
        POSETRACK_KEYPOINT_NAMES as order
    content = json.loads(path.read_text())
    annolist = []
    for image in content['images']:
        rects = []
        for ann in content['annotations']:
            if ann['image_id'] != image['id']:
                continue
            kpts = np.reshape(ann['keypoints'], (17, 3))
            points = [
                dict(
                    id=[i],
                    x=[kpts[order.index(n), 0]],
                    y=[kpts[order.index(n), 1]],
                    score=[ann['scores'][order.index(n)]])
                for i, n in enumerate(names)
            ]
            rects.append(
                dict(
                    track_id=[ann['track_id']],
                    annopoints=[dict(point=points)]))
        annolist.append(
            dict(image=[dict(name=image['file_name'])], annorect=rects))
    path.write_text(json.dumps(dict(annolist=annolist)))
    got = evaluate_folders(str(gt_dir), str(pred_dir))['summary']
    assert got == pytest.approx(expected)


def test_cli_on_dumped_predictions_equals_in_run_metric(tmp_path):
    # Ground truth as one merged file (the metric) and per video (the CLI).
    images, anns = [], []
    for vid, video in (('000001', 'a_mpii_test'), ('000002', 'b_mpii_test')):
        for index in range(3):
            image_id = int(f'1{vid}{index:04d}')
            images.append(
                dict(
                    id=image_id,
                    file_name=f'images/val/{video}/{index:06d}.jpg',
                    is_labeled=index != 2,
                    nframes=3,
                    frame_id=image_id))
            if index != 2:
                anns += [
                    coco_annotation(image_id * 10, image_id, (20, 20)),
                    coco_annotation(image_id * 10 + 1, image_id, (300, 20))
                ]
    merged = tmp_path / 'val.json'
    merged.write_text(json.dumps(dict(images=images, annotations=anns)))
    gt_dir = tmp_path / 'gt'
    gt_dir.mkdir()
    for video in ('a_mpii_test', 'b_mpii_test'):
        own = [i for i in images if f'/{video}/' in i['file_name']]
        ids = {i['id'] for i in own}
        (gt_dir / f'{video}.json').write_text(
            json.dumps(
                dict(
                    images=own,
                    annotations=[a for a in anns if a['image_id'] in ids])))
    rng = np.random.default_rng(0)
    samples = data_samples(anns, shift_images={anns[0]['image_id']})
    for sample in samples:  # distinct scores: no ties
        sample['pred_instances']['keypoint_scores'] = \
            rng.uniform(0.1, 1, (1, 17))
        sample['pred_instances'][
            'keypoints'] = sample['pred_instances']['keypoints'] + rng.normal(
                0, 8, (1, 17, 2))
    for protocol in ('poseval', 'posetrack21'):
        out_dir = tmp_path / f'pred_{protocol}'
        metric = PoseTrackAPMetric(
            ann_file=str(merged),
            protocol=protocol,
            outfile_prefix=str(out_dir))
        metric.process([], samples)
        in_run = metric.evaluate(size=len(samples))
        files = evaluate_folders(str(gt_dir), str(out_dir), protocol)
        for name in GROUPS:
            assert files['summary'][name] == pytest.approx(
                in_run[f'posetrack/{name} AP'], abs=1e-9), (protocol, name)
        assert 0 < in_run['posetrack/Total AP'] < 100


def test_protocol_is_validated():
    with pytest.raises(ValueError, match='protocol must be one of'):
        PoseTrackAPMetric(ann_file='x.json', protocol='coco')
    with pytest.raises(ValueError, match='protocol must be one of'):
        posetrack_ap([], protocol='posetrack18')
