"""Clip datasets (PoseTrack18/17 COCO-style, PoseTrack21) and clip pipeline."""
import json
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix

import mgpose_mm.datasets  # noqa: F401  (registers the components)
from mgpose_mm.datasets import VIDEO_META_KEYS, clip_frame_paths

SAMPLE_ROOT = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data' \
    / 'posetrack18_sample'
IMG_SIZE = 64
SQUARE = 6
INPUT_SIZE = (48, 48)


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def person(ann_id, image_id, nose_xy=(32, 32), bbox=(8, 8, 48, 48)):
    """A person annotation with the nose and both shoulders labelled."""
    keypoints = np.zeros((17, 3))
    keypoints[0] = [*nose_xy, 1]
    keypoints[5] = [20, 40, 1]
    keypoints[6] = [44, 40, 1]
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        bbox=list(bbox),
        bbox_head=[24, 20, 16, 16],
        keypoints=keypoints.reshape(-1).tolist(),
        num_keypoints=3,
        track_id=0,
        iscrowd=0)


def image_entry(video, vid_id, index, nframes, labelled, ext='.png'):
    return dict(
        id=int(f'1{vid_id}{index:04d}'),
        file_name=f'images/val/{video}/{index:06d}{ext}',
        vid_id=vid_id,
        frame_id=int(f'1{vid_id}{index:04d}'),
        nframes=nframes,
        is_labeled=labelled,
        width=IMG_SIZE,
        height=IMG_SIZE,
        ignore_regions_x=[],
        ignore_regions_y=[])


def write_video(root,
                video,
                vid_id,
                nframes,
                labelled,
                persons_per_frame=1,
                square_corners=None):
    """Write frames (a white square per frame when ``square_corners`` is given)
    and return the video's images and annotations."""
    folder = root / 'images' / 'val' / video
    folder.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for index in range(nframes):
        frame = np.zeros((IMG_SIZE, IMG_SIZE, 3), np.uint8)
        if square_corners is not None:
            x0, y0 = square_corners[index]
            frame[y0:y0 + SQUARE, x0:x0 + SQUARE] = 255
        cv2.imwrite(str(folder / f'{index:06d}.png'), frame)
        img = image_entry(video, vid_id, index, nframes, index in labelled)
        images.append(img)
        if index in labelled:
            for p in range(persons_per_frame):
                anns.append(person(img['id'] * 10 + p, img['id']))
    return images, anns


def write_coco(path, images, anns):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            dict(
                images=images,
                annotations=anns,
                categories=[dict(id=1, name='person')])))


def build_dataset(root, ann_file, pipeline=(), **kwargs):
    return DATASETS.build(
        dict(
            type='PoseTrackVideoDataset',
            ann_file=str(ann_file),
            data_root=str(root),
            pipeline=list(pipeline),
            **kwargs))


def square_centroid(frame_chw):
    """Intensity-weighted centroid (x, y) of a (3, H, W) uint8 frame."""
    weights = frame_chw[0].numpy().astype(np.float64)
    ys, xs = np.mgrid[:weights.shape[0], :weights.shape[1]]
    return np.array([(weights * xs).sum(),
                     (weights * ys).sum()]) / weights.sum()


@pytest.mark.parametrize('flip_and_rotate', [False, True])
def test_pipeline_crops_all_frames_with_one_affine(tmp_path, flip_and_rotate):
    corners = [(20, 24), (28, 30), (36, 26)]
    key_center = (corners[1][0] + (SQUARE - 1) / 2,
                  corners[1][1] + (SQUARE - 1) / 2)
    images, anns = write_video(
        tmp_path, 'clip', '000001', 3, labelled={1}, square_corners=corners)
    anns[0] = person(anns[0]['id'], anns[0]['image_id'], nose_xy=key_center)
    write_coco(tmp_path / 'ann.json', images, anns)
    prob = 1.0 if flip_and_rotate else 0.0
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', prob=prob),
        dict(
            type='RandomBBoxTransform',
            shift_prob=0.,
            scale_prob=0.,
            rotate_factor=40.,
            rotate_prob=prob),
        dict(type='TopdownAffine', input_size=INPUT_SIZE),
        dict(
            type='GenerateTarget',
            encoder=dict(
                type='MSRAHeatmap',
                input_size=INPUT_SIZE,
                heatmap_size=(12, 12),
                sigma=1.)),
        dict(
            type='PackVideoPoseInputs',
            meta_keys=VIDEO_META_KEYS + ('bbox_rotation', ),
            pack_transformed=True),
    ]
    dataset = build_dataset(tmp_path, 'ann.json', pipeline)
    np.random.seed(3)
    packed = dataset[0]
    inputs, sample = packed['inputs'], packed['data_samples']
    meta = sample.metainfo

    assert tuple(inputs.shape) == (3, 3, 48, 48)
    assert meta['key_frame_index'] == 1
    assert meta['frame_offsets'] == (-1, 0, 1)
    assert [osp.basename(p) for p in meta['frame_paths']
            ] == ['000000.png', '000001.png', '000002.png']
    assert meta['img_path'] == meta['frame_paths'][1]
    rotation = float(meta['bbox_rotation'][0])
    assert meta['flip'] is flip_and_rotate
    assert (abs(rotation) > 5) is flip_and_rotate

    warp = get_warp_matrix(meta['input_center'], meta['input_scale'], rotation,
                           INPUT_SIZE)
    for t, (x0, y0) in enumerate(corners):
        center = np.array([x0 + (SQUARE - 1) / 2, y0 + (SQUARE - 1) / 2])
        if flip_and_rotate:
            center[0] = IMG_SIZE - 1 - center[0]  # mmcv.imflip mirrors pixels
        expected = warp @ np.append(center, 1.)
        np.testing.assert_allclose(
            square_centroid(inputs[t]), expected, atol=0.3)

    # the key frame's keypoint target follows the key frame's square
    nose = sample.gt_instances.transformed_keypoints[0, 0]
    np.testing.assert_allclose(nose, square_centroid(inputs[1]), atol=0.6)
    heatmap = sample.gt_fields.heatmaps[0].numpy()
    peak_y, peak_x = np.unravel_index(heatmap.argmax(), heatmap.shape)
    assert abs(peak_x - nose[0] / 4) <= 0.5 and abs(peak_y - nose[1] / 4) <= .5
    assert tuple(sample.gt_instance_labels.keypoint_weights.shape) == (1, 17)


def test_frame_paths_are_clamped_at_video_ends(tmp_path):
    images, anns = write_video(tmp_path, 'three', '000001', 3, {0, 1, 2})
    images2, anns2 = write_video(tmp_path, 'two', '000002', 2, {1})
    write_coco(tmp_path / 'ann.json', images + images2, anns + anns2)

    dataset = build_dataset(tmp_path, 'ann.json')
    numbers = {(osp.basename(osp.dirname(info['img_path'])),
                osp.basename(info['img_path'])):
               [int(osp.basename(p)[:6]) for p in info['frame_paths']]
               for info in (dataset.get_data_info(i)
                            for i in range(len(dataset)))}
    assert numbers == {
        ('three', '000000.png'): [0, 0, 1],
        ('three', '000001.png'): [0, 1, 2],
        ('three', '000002.png'): [1, 2, 2],
        ('two', '000001.png'): [0, 1, 1],
    }

    wide = build_dataset(tmp_path, 'ann.json', frame_offsets=(-2, -1, 0, 1, 2))
    info = [
        wide.get_data_info(i) for i in range(len(wide))
        if '/two/' in wide.get_data_info(i)['img_path']
    ][0]
    assert [int(osp.basename(p)[:6])
            for p in info['frame_paths']] == [0, 0, 1, 1, 1]
    assert info['key_frame_index'] == 2


def test_frame_number_keeps_zero_padding_and_first_index():
    paths, key = clip_frame_paths('d/images/v/000009.jpg', 20, (-1, 0, 1))
    assert paths == [
        'd/images/v/000008.jpg', 'd/images/v/000009.jpg',
        'd/images/v/000010.jpg'
    ]
    assert key == 1
    paths, key = clip_frame_paths('v/00000001.jpg', 5, (-2, 0), 1)
    assert paths == ['v/00000001.jpg', 'v/00000001.jpg'] and key == 1
    with pytest.raises(ValueError, match='outside the video'):
        clip_frame_paths('v/000007.jpg', 5, (0, ))


def test_frame_offsets_must_contain_zero(tmp_path):
    images, anns = write_video(tmp_path, 'v', '000001', 3, {1})
    write_coco(tmp_path / 'ann.json', images, anns)
    with pytest.raises(ValueError, match='frame_offsets'):
        build_dataset(tmp_path, 'ann.json', frame_offsets=(-1, 1))
    with pytest.raises(ValueError, match='frame_offsets'):
        build_dataset(tmp_path, 'ann.json', frame_offsets=(1, 0, -1))


def load_clip(frame_paths, **kwargs):
    loader = TRANSFORMS.build(dict(type='LoadVideoFrames', **kwargs))
    return loader(
        dict(frame_paths=[str(p) for p in frame_paths], key_frame_index=1))


def test_missing_or_corrupt_frame_raises_with_its_path(tmp_path):
    write_video(tmp_path, 'v', '000001', 2, set())
    folder = tmp_path / 'images' / 'val' / 'v'
    missing = folder / '000005.png'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_clip([folder / '000000.png', folder / '000001.png', missing])
    corrupt = folder / 'corrupt.png'
    corrupt.write_bytes(b'not an image')
    with pytest.raises(IOError, match=str(corrupt)):
        load_clip([corrupt, folder / '000001.png'])
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_clip([folder / '000000.png', missing],
                  missing_support_frame='repeat_key')
    small = folder / 'small.png'
    cv2.imwrite(str(small), np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=str(small)):
        load_clip([small, folder / '000001.png'])


def test_repeat_key_replaces_missing_support_frames(tmp_path):
    write_video(
        tmp_path, 'v', '000001', 2, set(), square_corners=[(2, 2), (40, 40)])
    folder = tmp_path / 'images' / 'val' / 'v'
    missing = folder / '000009.png'
    with pytest.warns(UserWarning, match=str(missing)):
        results = load_clip([missing, folder / '000001.png', missing],
                            missing_support_frame='repeat_key')
    frames = results['img']
    assert len(frames) == 3 and results['img_shape'] == (64, 64)
    assert results['img_path'] == str(folder / '000001.png')
    for frame in frames:
        np.testing.assert_array_equal(frame, frames[1])
    assert frames[1][42, 42].tolist() == [255, 255, 255]


def test_posetrack21_per_video_files(tmp_path):
    for vid_id, video in (('000001', 'a_train'), ('000002', 'b_train')):
        images, anns = write_video(tmp_path, video, vid_id, 3, {1, 2}, 2)
        for img in images:
            del img['width'], img['height']
            img['has_labeled_person'] = img['is_labeled']
        for ann in anns:
            ann['person_id'] = ann['id'] % 7
        # a box-only person on an unlabelled frame gives no sample
        box_only = person(99 + int(vid_id), images[0]['id'])
        box_only['keypoints'] = [0] * 51
        anns.append(box_only)
        write_coco(tmp_path / 'posetrack_data' / 'val' / f'{video}.json',
                   images, anns)

    def build(ann_file):
        return DATASETS.build(
            dict(
                type='PoseTrack21VideoDataset',
                ann_file=ann_file,
                data_root=str(tmp_path),
                frame_offsets=(-2, 0, 2)))

    from_dir = build('posetrack_data/val')
    from_list = build(['posetrack_data/val/a_train.json'])
    assert len(from_dir) == 2 * 2 * 2 and len(from_list) == 2 * 2
    info = from_list.get_data_info(0)
    assert [osp.basename(p) for p in info['frame_paths']
            ] == ['000000.png', '000001.png', '000002.png']
    assert info['key_frame_index'] == 1


def sample_persons_with_keypoints(ann_path):
    content = json.loads(Path(ann_path).read_text())
    labelled = {
        img['id']
        for img in content['images'] if img.get('is_labeled', True)
    }
    return sum(
        1 for ann in content['annotations']
        if ann['image_id'] in labelled and max(ann['keypoints'][2::3]) > 0
        and ann['bbox'][2] > 0 and ann['bbox'][3] > 0)


@pytest.mark.skipif(
    not SAMPLE_ROOT.is_dir(),
    reason=f'shared PoseTrack18 sample not found at {SAMPLE_ROOT}')
def test_shared_posetrack18_sample():
    ann = SAMPLE_ROOT / 'annotations' / 'test_posetrack18_val.json'
    pipeline = [
        dict(type='LoadVideoFrames', missing_support_frame='repeat_key'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=(64, 80)),
        dict(type='PackVideoPoseInputs'),
    ]
    dataset = build_dataset(SAMPLE_ROOT, ann, pipeline)
    expected = sample_persons_with_keypoints(ann)
    assert expected > 0 and len(dataset) == expected
    with pytest.warns(UserWarning, match='not found'):
        packed = dataset[0]
    assert tuple(packed['inputs'].shape) == (3, 3, 80, 64)
    meta = packed['data_samples'].metainfo
    assert meta['img_path'].endswith('000000.jpg')
    assert meta['frame_paths'][2].endswith('000001.jpg')

    per_video = DATASETS.build(
        dict(
            type='PoseTrack21VideoDataset',
            ann_file='annotations/val',
            data_root=str(SAMPLE_ROOT)))
    assert len(per_video) == expected

    det_file = SAMPLE_ROOT / 'annotations' / \
        'test_posetrack18_human_detections.json'
    dets = json.loads(det_file.read_text())
    detected = build_dataset(
        SAMPLE_ROOT,
        ann,
        bbox_file=str(det_file),
        test_mode=True,
        filter_cfg=dict(bbox_score_thr=0.5))
    assert len(detected) == sum(1 for d in dets
                                if d['category_id'] == 1 and d['score'] >= 0.5)
    assert len(detected.get_data_info(0)['frame_paths']) == 3


@pytest.mark.parametrize('supervise', [True, False])
def test_occluded_joints_with_coordinates_are_supervised(tmp_path, supervise):
    # PoseTrack2017 stores an occluded joint as (x, y, 0); an unannotated one
    # as (0, 0, 0).
    images, anns = write_video(tmp_path, '000001_mpii_test', '000001', 3, {1})
    keypoints = np.reshape(anns[0]['keypoints'], (17, 3))
    keypoints[9] = [30, 50, 0]
    anns[0]['keypoints'] = keypoints.reshape(-1).tolist()
    ann_file = tmp_path / 'annotations' / 'val.json'
    write_coco(ann_file, images, anns)
    info = build_dataset(
        tmp_path, ann_file,
        supervise_occluded_joints=supervise).get_data_info(0)
    visible = info['keypoints_visible'][0]
    assert visible[[0, 5, 6]].tolist() == [1, 1, 1]
    assert visible[9] == (1. if supervise else 0.)
    assert visible[10] == 0.  # (0, 0, 0) stays unsupervised


def test_precomputed_boxes_by_image_name(tmp_path):
    # DCPose / PoseWarper's PoseTrack2017 boxes name frames by image_name.
    images, anns = write_video(tmp_path, '000001_mpii_test', '000001', 3, {1})
    ann_file = tmp_path / 'annotations' / 'val.json'
    write_coco(ann_file, images, anns)
    boxes = [
        dict(
            image_name='images/val/000001_mpii_test/000001.png',
            category_id=1,
            bbox=[4, 4, 40, 50],
            score=0.9,
            nframes=3,
            frame_id=images[1]['frame_id']),
        # another root folder: matched by video folder and frame file
        dict(
            image_name='posetrack_data/images/val/000001_mpii_test/'
            '000002.png',
            category_id=1,
            bbox=[6, 6, 30, 30],
            score=0.8,
            nframes=3,
            frame_id=images[2]['frame_id']),
    ]
    det_file = tmp_path / 'val_boxes.json'
    det_file.write_text(json.dumps(boxes))
    dataset = build_dataset(
        tmp_path, ann_file, bbox_file=str(det_file), test_mode=True)
    assert [dataset.get_data_info(i)['img_id']
            for i in range(2)] == [images[1]['id'], images[2]['id']]
    assert dataset.get_data_info(0)['bbox'][0].tolist() == [4, 4, 44, 54]
    boxes.append(
        dict(
            image_name='images/val/other_video/000001.png',
            category_id=1,
            bbox=[0, 0, 9, 9],
            score=0.9))
    det_file.write_text(json.dumps(boxes))
    with pytest.raises(KeyError, match='other_video/000001.png'):
        build_dataset(
            tmp_path, ann_file, bbox_file=str(det_file), test_mode=True)
