"""Tests of the synthetic PoseTrack18-style video generator
(mgpose_mm.synthetic)."""
import glob
import hashlib
import json
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mgpose_mm.synthetic import generate_posetrack_dataset

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
KEYPOINT_NAMES = [
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]
SMALL = dict(
    num_train_videos=2,
    num_val_videos=2,
    frames_per_video=8,
    image_size=(96, 80),
    persons_per_video=(1, 3))


def _load(path):
    with open(path) as f:
        return json.load(f)


def _files(root):
    return sorted(
        p for p in glob.glob(osp.join(root, '**', '*'), recursive=True)
        if osp.isfile(p))


def _frame_index(image):
    return int(osp.splitext(osp.basename(image['file_name']))[0])


def _tracks(coco):
    """(vid_id, track_id) -> {frame index: (17, 3) keypoints}."""
    images = {im['id']: im for im in coco['images']}
    tracks = defaultdict(dict)
    for ann in coco['annotations']:
        im = images[ann['image_id']]
        tracks[(im['vid_id'], ann['track_id'])][_frame_index(im)] = np.reshape(
            ann['keypoints'], (17, 3))
    return tracks


@pytest.fixture(scope='module')
def small_dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synth_small'))
    summary = generate_posetrack_dataset(root, seed=3, **SMALL)
    return root, summary


@pytest.fixture(scope='module')
def large_dataset(tmp_path_factory):
    """Enough frames for rate statistics: 30 videos x 16 frames of 96x80."""
    root = str(tmp_path_factory.mktemp('synth_large'))
    summary = generate_posetrack_dataset(
        root,
        num_train_videos=30,
        num_val_videos=6,
        frames_per_video=16,
        image_size=(96, 80),
        persons_per_video=(1, 3),
        seed=11,
        occlusion_rate=0.15,
        motion_blur_rate=0.1,
        truncation_rate=0.2,
        ignore_region_rate=0.3)
    return root, summary


# sha256[:16] of the seed-3 data: a refactoring must leave the data unchanged
GOLDEN_DIGESTS = {
    'posetrack18_train.json': '08cb89840eb0fad5',
    'posetrack18_val.json': '5bc99fac37f8158a',
    'posetrack18_val_human_detections.json': '2fd056a2f6cf4ac0',
}


def test_deterministic_for_a_seed(tmp_path, small_dataset):
    root, _ = small_dataset
    again = str(tmp_path / 'again')
    generate_posetrack_dataset(again, seed=3, **SMALL)
    first, second = _files(root), _files(again)
    assert [osp.relpath(p, root)
            for p in first] == [osp.relpath(p, again) for p in second]
    for a, b in zip(first, second):
        with open(a, 'rb') as fa, open(b, 'rb') as fb:
            content = fa.read()
            assert content == fb.read(), f'{osp.relpath(a, root)} differs'
        if osp.basename(a) in GOLDEN_DIGESTS:
            digest = hashlib.sha256(content).hexdigest()[:16]
            assert digest == GOLDEN_DIGESTS[osp.basename(a)], a
    assert set(GOLDEN_DIGESTS) <= {osp.basename(p) for p in first}
    other = str(tmp_path / 'other')
    generate_posetrack_dataset(other, seed=4, **SMALL)
    ann = 'annotations/posetrack18_train.json'
    assert _load(osp.join(root, ann)) != _load(osp.join(other, ann))
    img = 'images/train/000001_synth/000000.jpg'
    assert not np.array_equal(
        cv2.imread(osp.join(root, img)), cv2.imread(osp.join(other, img)))


def test_json_schema_and_layout(small_dataset):
    root, summary = small_dataset
    image_keys = {
        'id', 'file_name', 'vid_id', 'frame_id', 'nframes', 'is_labeled',
        'width', 'height', 'ignore_regions_x', 'ignore_regions_y', 'attributes'
    }
    ann_keys = {
        'id', 'image_id', 'category_id', 'bbox', 'bbox_head', 'keypoints',
        'num_keypoints', 'track_id', 'iscrowd', 'occluded_joints',
        'motion_blurred'
    }
    all_image_ids, all_ann_ids = set(), set()
    for split, first_vid in (('train', 1), ('val', 500001)):
        coco = _load(
            osp.join(root, 'annotations', f'posetrack18_{split}.json'))
        assert summary[split]['images'] == len(coco['images']) == 2 * 8
        assert summary[split]['annotations'] == len(coco['annotations'])
        cat = coco['categories'][0]
        assert cat['id'] == 1 and cat['name'] == 'person' and cat[
            'keypoints'] == KEYPOINT_NAMES
        assert [16, 14] in cat['skeleton'] and len(cat['skeleton']) == 19
        per_video = defaultdict(list)
        for im in coco['images']:
            assert image_keys <= set(im), f'missing {image_keys - set(im)}'
            idx = _frame_index(im)
            name = f'{im["vid_id"]}_synth'
            assert im['file_name'] == f'images/{split}/{name}/{idx:06d}.jpg'
            assert im['frame_id'] == im['id'] == int(
                f'1{im["vid_id"]}{idx:04d}')
            assert im['is_labeled'] is True and im['nframes'] == 8
            assert set(
                im['attributes']) == {'occluded', 'motion_blur', 'truncated'}
            assert len(im['ignore_regions_x']) == len(im['ignore_regions_y'])
            frame = cv2.imread(osp.join(root, im['file_name']))
            assert frame.shape == (im['height'], im['width'], 3) == (80, 96, 3)
            per_video[name].append(im)
        assert sorted(int(n[:6])
                      for n in per_video) == [first_vid, first_vid + 1]
        for name, images in per_video.items():
            assert sorted(_frame_index(im) for im in images) == list(range(8))
        image_ids = {im['id'] for im in coco['images']}
        assert len(image_ids) == len(
            coco['images']) and not image_ids & all_image_ids
        all_image_ids |= image_ids
        for ann in coco['annotations']:
            assert ann_keys <= set(ann), f'missing {ann_keys - set(ann)}'
            assert ann['image_id'] in image_ids and ann['category_id'] == 1
            assert ann['iscrowd'] in (0,
                                      False) and ann['id'] not in all_ann_ids
            assert ann['id'] == ann['image_id'] * 100 + ann['track_id']
            all_ann_ids.add(ann['id'])
        # the per-video files hold exactly the merged file's entries, in the
        # same order
        merged_images, merged_anns = [], []
        for name in sorted(per_video):
            video = _load(osp.join(root, 'annotations', split, f'{name}.json'))
            assert video['categories'] == coco['categories']
            assert {im['vid_id'] for im in video['images']} == {name[:6]}
            merged_images += video['images']
            merged_anns += video['annotations']
        assert merged_images == coco['images'] and merged_anns == coco[
            'annotations']


def test_detection_file(large_dataset):
    root, summary = large_dataset
    coco = _load(osp.join(root, 'annotations', 'posetrack18_val.json'))
    dets = _load(summary['det_file'])
    images = {im['id']: im for im in coco['images']}
    gt = defaultdict(list)
    for ann in coco['annotations']:
        gt[ann['image_id']].append(ann['bbox'])
    assert isinstance(dets,
                      list) and len(dets) == summary['num_detections'] > 0
    matched_scores, unmatched_scores = [], []
    for det in dets:
        assert set(det) == {'image_id', 'bbox', 'score', 'category_id'}
        assert det['category_id'] == 1 and det['image_id'] in images
        x, y, w, h = det['bbox']
        im = images[det['image_id']]
        assert w > 0 and h > 0 and x >= 0 and y >= 0
        assert x + w <= im['width'] and y + h <= im['height']
        assert 0 < det['score'] <= 1
        ious = [_iou(det['bbox'], box) for box in gt[det['image_id']]]
        (matched_scores if ious and max(ious) > 0.5 else
         unmatched_scores).append(det['score'])
    n_gt = len(coco['annotations'])
    # realistic detector: most people found with high scores, some missed,
    # low-score clutter
    assert 0.8 * n_gt <= len(matched_scores) < n_gt
    assert np.mean(matched_scores) > 0.85
    assert len(unmatched_scores) > 0 and np.mean(unmatched_scores) < 0.5


def _iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_keypoints_inside_image_and_bbox(large_dataset):
    root, _ = large_dataset
    coco = _load(osp.join(root, 'annotations', 'posetrack18_train.json'))
    images = {im['id']: im for im in coco['images']}
    for ann in coco['annotations']:
        im = images[ann['image_id']]
        kpts = np.reshape(ann['keypoints'], (17, 3))
        vis = kpts[:, 2] > 0
        assert set(np.unique(kpts[:, 2])) <= {0, 1}
        assert ann['num_keypoints'] == vis.sum() > 0
        assert not vis[3] and not vis[
            4], 'ears are never annotated in PoseTrack'
        assert np.all(kpts[~vis, :2] == 0)
        x, y, w, h = ann['bbox']
        assert x >= 0 and y >= 0 and x + w <= im['width'] and y + h <= im[
            'height']
        pts = kpts[vis, :2]
        assert np.all((pts >= 0)
                      & (pts <= [im['width'] - 1, im['height'] - 1]))
        assert np.all((pts >= [x, y]) & (pts <= [x + w, y + h]))
        hx, hy, hw, hh = ann['bbox_head']
        assert 0 < hw < hh < 0.5 * im['height']
        for k in (1, 2):  # head_bottom, head_top lie in the head box
            if vis[k]:
                assert hx <= kpts[k, 0] <= hx + hw and hy <= kpts[k,
                                                                  1] <= hy + hh


def test_motion_is_smooth(large_dataset):
    root, _ = large_dataset
    coco = _load(osp.join(root, 'annotations', 'posetrack18_train.json'))
    height = coco['images'][0]['height']
    steps = []
    for frames in _tracks(coco).values():
        for f, kpts in frames.items():
            nxt = frames.get(f + 1)
            if nxt is None:
                continue
            both = (kpts[:, 2] > 0) & (nxt[:, 2] > 0)
            steps.extend(
                np.linalg.norm(kpts[both, :2] - nxt[both, :2], axis=1))
    steps = np.array(steps)
    assert len(steps) > 1000
    assert steps.max(
    ) < 0.15 * height, 'a joint jumped between consecutive frames'
    assert np.median(steps) > 0.2, 'people should move'


def test_attribute_rates_and_locality(large_dataset):
    root, summary = large_dataset
    coco = _load(osp.join(root, 'annotations', 'posetrack18_train.json'))
    images = coco['images']
    occluded = np.mean([im['attributes']['occluded'] for im in images])
    blurred = np.mean([im['attributes']['motion_blur'] for im in images])
    assert abs(occluded - 0.15) < 0.04 and abs(blurred - 0.1) < 0.04
    assert summary['train']['occluded'] == round(occluded * len(images))
    by_video = defaultdict(dict)
    for im in images:
        a = im['attributes']
        by_video[im['vid_id']][_frame_index(
            im)] = a['occluded'] or a['motion_blur']
    for hard in by_video.values():
        flags = [hard[f] for f in range(16)]
        assert not flags[0] and not flags[-1]
        run = 0
        # runs of hard frames last 1-2 frames, between clean frames
        for flag in flags:
            run = run + 1 if flag else 0
            assert run <= 2
    # truncation: the requested fraction of persons has joints outside the
    # image
    tracks = _tracks(coco)
    cut = [
        any((k[[0, 1, 2] + list(range(5, 17)), 2] == 0).any()
            for k in frames.values()) for frames in tracks.values()
    ]
    assert abs(np.mean(cut) - 0.2) < 0.12
    flagged = {(im['vid_id'], _frame_index(im))
               for im in images if im['attributes']['truncated']}
    expected = {(vid, f)
                for (vid, _), frames in tracks.items()
                for f, k in frames.items()
                if (k[[0, 1, 2] + list(range(5, 17)), 2] == 0).any()}
    assert flagged == expected and flagged
    with_ignore = [im for im in images if im['ignore_regions_x']]
    assert 0 < len({im['vid_id'] for im in with_ignore}) < 30
    # annotated people never fall inside an ignore region
    for im in with_ignore:
        poly = np.stack([im['ignore_regions_x'][0], im['ignore_regions_y'][0]],
                        1)
        assert len(poly) >= 3
        for ann in coco['annotations']:
            if ann['image_id'] == im['id']:
                k = np.reshape(ann['keypoints'], (17, 3))
                for x, y, v in k:
                    if v:
                        assert cv2.pointPolygonTest(
                            poly.astype(np.float32),
                            (float(x), float(y)), False) < 0


def test_occluders_hide_annotated_joints(tmp_path):
    kwargs = dict(
        num_train_videos=4,
        num_val_videos=0,
        frames_per_video=12,
        image_size=(96, 80),
        seed=5,
        motion_blur_rate=0.0,
        ignore_region_rate=0.0)
    with_occ, without = str(tmp_path / 'occ'), str(tmp_path / 'clean')
    generate_posetrack_dataset(with_occ, occlusion_rate=0.3, **kwargs)
    generate_posetrack_dataset(without, occlusion_rate=0.0, **kwargs)
    ann = 'annotations/posetrack18_train.json'
    a, b = _load(osp.join(with_occ, ann)), _load(osp.join(without, ann))

    # occluded joints stay annotated: the labels are the same with and without
    # occluders (apart from the occluded_joints difficulty field, see
    # test_synthetic_difficulty.py)
    def strip(anns):
        return [{k: v
                 for k, v in x.items() if k != 'occluded_joints'}
                for x in anns]

    assert strip(a['annotations']) == strip(b['annotations'])
    anns = defaultdict(list)
    for x in a['annotations']:
        anns[x['image_id']].append(np.reshape(x['keypoints'], (17, 3)))
    n_occluded = 0
    for im in a['images']:
        img_a = cv2.imread(osp.join(with_occ,
                                    im['file_name'])).astype(np.float32)
        img_b = cv2.imread(osp.join(without,
                                    im['file_name'])).astype(np.float32)
        if not im['attributes']['occluded']:
            assert np.abs(img_a -
                          img_b).max() == 0, 'only occluded frames may change'
            continue
        n_occluded += 1
        diff = np.abs(img_a - img_b).mean(-1)
        local = []
        for kpts in anns[im['id']]:
            for x, y, v in kpts:
                if v:
                    xi, yi = int(round(x)), int(round(y))
                    local.append(diff[max(0, yi - 1):yi + 2,
                                      max(0, xi - 1):xi + 2].mean())
        assert max(local) > 25, 'the occluder must cover an annotated joint'
    assert n_occluded >= 8


def test_bad_arguments_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match='persons_per_video'):
        generate_posetrack_dataset(
            str(tmp_path / 'a'), persons_per_video=(3, 1))
    with pytest.raises(ValueError, match='image_size'):
        generate_posetrack_dataset(str(tmp_path / 'b'), image_size=(20, 20))
    with pytest.raises(ValueError, match='occlusion_rate'):
        generate_posetrack_dataset(str(tmp_path / 'c'), occlusion_rate=1.5)
    out = str(tmp_path / 'd')
    generate_posetrack_dataset(
        out,
        num_train_videos=1,
        num_val_videos=0,
        frames_per_video=2,
        image_size=(64, 64))
    with pytest.raises(FileExistsError, match='posetrack18_train.json'):
        generate_posetrack_dataset(
            out,
            num_train_videos=1,
            num_val_videos=0,
            frames_per_video=2,
            image_size=(64, 64))


def test_cli_writes_dataset_and_prints_summary(tmp_path):
    out = str(tmp_path / 'cli')
    script = osp.join(REPO_ROOT, 'tools', 'dataset_converters',
                      'make_synthetic_posetrack.py')
    result = subprocess.run([
        sys.executable, script, '--out-dir', out, '--num-train-videos', '2',
        '--num-val-videos', '1', '--frames-per-video', '5', '--image-size',
        '96', '80', '--persons', '1', '2', '--seed', '7'
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'train: 2 videos, 10 images' in result.stdout
    assert 'val: 1 videos, 5 images' in result.stdout
    val = _load(osp.join(out, 'annotations', 'posetrack18_val.json'))
    val_summary = result.stdout.split('val:')[1]
    assert f'{len(val["annotations"])} person annotations' in val_summary
    assert {im['width'] for im in val['images']} == {96}
    tracks = {ann['track_id'] for ann in val['annotations']}
    assert 1 <= len(tracks) <= 2
    assert osp.isfile(
        osp.join(out, 'images', 'val', '500001_synth', '000004.jpg'))
    assert osp.isfile(
        osp.join(out, 'annotations', 'posetrack18_val_human_detections.json'))


def test_mmpose_posetrack18_video_dataset_reads_it(small_dataset):
    pytest.importorskip('xtcocotools')
    datasets = pytest.importorskip('mmpose.datasets')
    root, summary = small_dataset
    gt = datasets.PoseTrack18VideoDataset(
        ann_file='annotations/posetrack18_val.json',
        data_root=root,
        data_prefix=dict(img=''),
        frame_sampler_mode='fixed',
        frame_indices=[-1, 0, 1],
        frame_weights=[0.25, 0.5, 0.25],
        test_mode=True,
        pipeline=[])
    assert len(gt) == summary['val']['annotations']
    for i in range(len(gt)):
        paths = gt.get_data_info(i)['img_path']
        assert len(paths) == 3 and all(osp.isfile(p) for p in paths)
    det = datasets.PoseTrack18VideoDataset(
        ann_file='annotations/posetrack18_val.json',
        bbox_file=summary['det_file'],
        data_root=root,
        data_prefix=dict(img=''),
        frame_sampler_mode='fixed',
        frame_indices=[-1, 0, 1],
        frame_weights=[0.25, 0.5, 0.25],
        test_mode=True,
        pipeline=[])
    assert len(det) == summary['num_detections']
