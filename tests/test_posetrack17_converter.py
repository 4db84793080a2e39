"""PoseTrack2017 annolist -> COCO-style PoseTrack18 layout
(tools/dataset_converters/posetrack17_to_coco.py)."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import REPO_ROOT

CONVERTER = osp.join(REPO_ROOT, 'tools', 'dataset_converters',
                     'posetrack17_to_coco.py')
# frames 0007_crop.jpg .. 0010_crop.jpg (irregular names)
VIDEO_A = 'bonn_5sec/000342_mpii'
VIDEO_B = 'mpii_5sec/00098_mpii'  # frames 00000001.jpg, 00000002.jpg
ID_A = [int(f'1000342{i:04d}') for i in range(4)]
ID_B = [int(f'100098{i:04d}') for i in range(2)]


def write_frame(path, value):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(str(path), np.full((48, 64, 3), value, dtype=np.uint8))


def point(joint, x, y, visible=None):
    p = {'id': [joint], 'x': [x], 'y': [y]}
    if visible is not None:
        p['is_visible'] = [visible]
    return p


def entry(name, rects=(), labeled=None, ignore=None):
    e = {'image': [{'name': name}], 'annorect': list(rects)}
    if labeled is not None:
        e['is_labeled'] = [labeled]
    if ignore is not None:
        e['ignore_regions'] = ignore
    return e


def head_rect(points, track_id, head=(5, 6, 15, 18)):
    rect = {
        'x1': [head[0]],
        'y1': [head[1]],
        'x2': [head[2]],
        'y2': [head[3]],
        'track_id': [track_id]
    }
    if points is not None:
        rect['annopoints'] = [{'point': points}]
    return rect


@pytest.fixture(scope='module')
def posetrack17(tmp_path_factory):
    """Two tiny 2017 videos: annolist files, frames with distinct pixel values,
    a detection file."""
    root = tmp_path_factory.mktemp('posetrack17')
    image_root = root / 'posetrack_data'
    ann_dir = image_root / 'annotations' / 'val'
    for number in (7, 8, 9, 10):
        write_frame(image_root / 'images' / VIDEO_A / f'{number:04d}_crop.jpg',
                    10 * number)
    for number in (1, 2):
        write_frame(image_root / 'images' / VIDEO_B / f'{number:08d}.jpg',
                    200 + number)
    person_a = head_rect([
        point(13, 10, 12),
        point(8, 20, 30, visible=0),
        point(0, 30, 40, visible=1)
    ], 3)
    annolist_a = [
        entry(f'images/{VIDEO_A}/0007_crop.jpg', labeled=0),
        entry(
            f'images/{VIDEO_A}/0008_crop.jpg',
            [person_a, head_rect(None, 4)],
            labeled=1),
        entry(
            f'images/{VIDEO_A}/0009_crop.jpg', [],
            labeled=1,
            ignore=[{
                'point': [{
                    'x': [1],
                    'y': [2]
                }, {
                    'x': [30],
                    'y': [2]
                }, {
                    'x': [30],
                    'y': [40]
                }]
            }]),
    ]  # 0010_crop.jpg is not in the annolist: an unlabelled frame
    all_joints = [point(j, 5 + 3 * j, 4 + 2 * j) for j in range(15)]
    annolist_b = [
        entry(f'images/{VIDEO_B}/00000001.jpg',
              [head_rect(all_joints, 0, head=(0, 0, 8, 6))])
    ]
    os.makedirs(ann_dir)
    (ann_dir / '000342_mpii_relpath_5sec_testsub.json').write_text(
        json.dumps({'annolist': annolist_a}))
    (ann_dir / '00098_mpii_relpath_5sec_testsub.json').write_text(
        json.dumps({'annolist': annolist_b}))
    det_file = root / 'boxes.json'
    det_file.write_text(
        json.dumps([
            {
                'image_name': f'images/{VIDEO_A}/0008_crop.jpg',
                'bbox': [1, 2, 30, 40],
                'score': 0.9,
                'category_id': 1
            },
            {
                'image_name': f'images/{VIDEO_B}/00000002.jpg',
                'bbox': [0, 0, 10, 10],
                'score': 0.5,
                'category_id': 1
            },
        ]))
    return dict(
        root=root, image_root=image_root, ann_dir=ann_dir, det_file=det_file)


def load_converter():
    spec = importlib.util.spec_from_file_location('posetrack17_to_coco',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convert(ann_dir, image_root, out_dir, *extra):
    """Run the converter's command line in this process."""
    load_converter().main([
        '--ann-dir',
        str(ann_dir), '--image-root',
        str(image_root), '--split', 'val', '--out-dir',
        str(out_dir), *extra
    ])


@pytest.fixture(scope='module')
def converted(posetrack17):
    out_dir = posetrack17['root'] / 'out'
    convert(posetrack17['ann_dir'], posetrack17['image_root'], out_dir,
            '--det-file', str(posetrack17['det_file']))
    with open(out_dir / 'annotations' / 'posetrack17_val.json') as f:
        merged = json.load(f)
    return dict(out_dir=out_dir, merged=merged)


def test_frames_are_renumbered_from_zero_and_linked(converted, posetrack17):
    images = {im['id']: im for im in converted['merged']['images']}
    assert sorted(images) == sorted(ID_A + ID_B)
    for index, image_id in enumerate(ID_A):
        image = images[image_id]
        assert image['file_name'] == f'images/val/000342_mpii/{index:06d}.jpg'
        assert (image['nframes'], image['width'], image['height'],
                image['vid_id']) == (4, 64, 48, '000342')
        assert image['frame_id'] == image_id
        path = converted['out_dir'] / image['file_name']
        assert osp.islink(path)
        assert osp.realpath(path) == osp.realpath(posetrack17['image_root'] /
                                                  'images' / VIDEO_A /
                                                  f'{index + 7:04d}_crop.jpg')
    assert [images[i]['is_labeled']
            for i in ID_A] == [False, True, True, False]
    assert [images[i]['is_labeled'] for i in ID_B] == [True, False]
    assert images[ID_A[2]]['ignore_regions_x'] == [[1, 30, 30]]
    assert images[ID_A[2]]['ignore_regions_y'] == [[2, 2, 40]]
    assert images[ID_A[1]]['ignore_regions_x'] == []


def test_joints_boxes_and_ids_follow_posetrack18(converted):
    anns = {a['image_id']: a for a in converted['merged']['annotations']}
    assert sorted(anns) == [ID_B[0],
                            ID_A[1]]  # the person without joints is dropped
    person = anns[ID_A[1]]
    kpts = np.array(person['keypoints']).reshape(17, 3)
    np.testing.assert_allclose(kpts[0], [10, 12, 1])  # nose (2017 id 13)
    np.testing.assert_allclose(kpts[6],
                               [20, 30, 0
                                ])  # right shoulder (id 8), is_visible 0
    np.testing.assert_allclose(kpts[16], [30, 40, 1])  # right ankle (id 0)
    assert not kpts[[1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15]].any()
    assert person['num_keypoints'] == 2
    np.testing.assert_allclose(person['bbox'],
                               [7.0, 7.8, 26.0, 36.4
                                ])  # extent x1.3 around the centre
    assert person['bbox_head'] == [5, 6, 10, 12]
    assert (person['id'], person['track_id'],
            person['category_id']) == (ID_A[1] * 100, 3, 1)
    full = np.array(anns[ID_B[0]]['keypoints']).reshape(17, 3)
    names = converted['merged']['categories'][0]['keypoints']
    assert names[3:5] == ['left_ear', 'right_ear'] and not full[3:5].any()
    np.testing.assert_allclose(full[names.index('head_top'), :2],
                               [5 + 3 * 14, 4 + 2 * 14])
    np.testing.assert_allclose(full[names.index('left_wrist'), :2],
                               [5 + 3 * 11, 4 + 2 * 11])
    assert anns[ID_B[0]]['num_keypoints'] == 15


def test_per_video_files_and_detections(converted):
    ann_dir = converted['out_dir'] / 'annotations'
    with open(ann_dir / 'val' / '000342_mpii.json') as f:
        video_a = json.load(f)
    assert [im['id'] for im in video_a['images']] == ID_A
    assert [a['image_id'] for a in video_a['annotations']] == [ID_A[1]]
    assert sorted(os.listdir(
        ann_dir / 'val')) == ['000342_mpii.json', '00098_mpii.json']
    with open(ann_dir / 'posetrack17_val_human_detections.json') as f:
        dets = json.load(f)
    assert dets == [
        dict(image_id=ID_A[1], bbox=[1, 2, 30, 40], score=0.9, category_id=1),
        dict(image_id=ID_B[1], bbox=[0, 0, 10, 10], score=0.5, category_id=1)
    ]


def test_summary_line(posetrack17, tmp_path, capsys):
    convert(posetrack17['ann_dir'], posetrack17['image_root'], tmp_path,
            '--frames', 'copy')
    printed = capsys.readouterr().out
    assert 'PoseTrack2017 val: 2 videos, 6 frames, 2 persons' in printed
    copied = tmp_path / 'images' / 'val' / '00098_mpii' / '000001.jpg'
    assert not osp.islink(copied) and int(cv2.imread(
        str(copied))[0, 0, 0]) == pytest.approx(
            202, abs=2)


def test_renamed_detection_numbering_and_unknown_frames(posetrack17, tmp_path):
    det_file = tmp_path / 'renamed.json'
    det_file.write_text(
        json.dumps([{
            'image_name': f'images_renamed/{VIDEO_A}/00000002.jpg',
            'bbox': [0, 0, 4, 4],
            'score': 1.0
        }]))
    out_dir = tmp_path / 'out'
    convert(posetrack17['ann_dir'], posetrack17['image_root'], out_dir,
            '--frames', 'none', '--det-file', str(det_file), '--det-numbering',
            'renamed')
    with open(out_dir / 'annotations' /
              'posetrack17_val_human_detections.json') as f:
        assert [d['image_id'] for d in json.load(f)
                ] == [ID_A[1]]  # 1-based position 2 = original 0008
    assert not (out_dir / 'images').exists()

    det_file.write_text(
        json.dumps([{
            'image_name': f'images/{VIDEO_A}/0042_crop.jpg',
            'bbox': [0, 0, 4, 4],
            'score': 1.0
        }]))
    with pytest.raises(
            KeyError, match='0042_crop.jpg, a frame of no converted video'):
        convert(posetrack17['ann_dir'], posetrack17['image_root'], out_dir,
                '--frames', 'none', '--det-file', str(det_file))


def test_annotated_frame_missing_on_disk_is_an_error(posetrack17, tmp_path):
    ann_dir = tmp_path / 'ann'
    ann_dir.mkdir()
    (ann_dir / 'a.json').write_text(
        json.dumps({'annolist': [entry(f'images/{VIDEO_A}/0011_crop.jpg')]}))
    with pytest.raises(
            FileNotFoundError, match='0011_crop.jpg, which is not in'):
        convert(ann_dir, posetrack17['image_root'], tmp_path / 'o')
    (ann_dir / 'a.json').write_text(json.dumps({'images': []}))
    with pytest.raises(
            ValueError, match='not a PoseTrack2017 annotation file'):
        convert(ann_dir, posetrack17['image_root'], tmp_path / 'o')


def test_converted_data_loads_as_clips_and_evaluates(converted):
    """The posetrack17 config's dataset and metric read the output: clips clamp
    at video ends."""
    from mmpose.registry import DATASETS

    from mgpose_mm.evaluation import PoseTrackAPMetric
    out_dir = str(converted['out_dir']) + '/'
    dataset = DATASETS.build(
        dict(
            type='PoseTrackVideoDataset',
            data_root=out_dir,
            ann_file='annotations/posetrack17_val.json',
            data_prefix=dict(img=''),
            frame_offsets=(-1, 0, 1),
            test_mode=True,
            pipeline=[dict(type='LoadVideoFrames')]))
    samples = {dataset[i]['img_id']: dataset[i] for i in range(len(dataset))}
    assert sorted(samples) == [ID_B[0], ID_A[1]]
    clip_a = samples[ID_A[1]]
    assert [osp.basename(p) for p in clip_a['frame_paths']
            ] == ['000000.jpg', '000001.jpg', '000002.jpg']
    assert [int(frame[0, 0, 0])
            for frame in clip_a['img']] == pytest.approx([70, 80, 90], abs=2)
    clip_b = samples[ID_B[0]]
    assert [osp.basename(p) for p in clip_b['frame_paths']
            ] == ['000000.jpg', '000000.jpg', '000001.jpg']

    metric = PoseTrackAPMetric(ann_file=out_dir +
                               'annotations/posetrack17_val.json')
    predictions = []
    for ann in converted['merged']['annotations']:
        kpts = np.array(ann['keypoints'], dtype=np.float64).reshape(1, 17, 3)
        predictions.append(
            dict(
                id=ann['id'],
                img_id=ann['image_id'],
                gt_instances=dict(bbox_scores=np.ones(1)),
                pred_instances=dict(
                    keypoints=kpts[..., :2],
                    keypoint_scores=kpts[..., 2] * 0.9)))
    metric.process([], predictions)
    assert metric.evaluate(
        size=len(predictions))['posetrack/Total AP'] == pytest.approx(100.)
