"""Difficulty labels of the synthetic generator: occluded joints and motion-
blurred persons."""
import json
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mgpose_mm.synthetic import generate_posetrack_dataset
from mgpose_mm.synthetic.render import draw_occluder, occluder_polygon
from mgpose_mm.synthetic.scene import blurred_by_box, occluded_joints

SMALL = dict(
    num_val_videos=0,
    frames_per_video=12,
    image_size=(96, 80),
    seed=5,
    ignore_region_rate=0.0)


def _load(root, split='train'):
    with open(osp.join(root, 'annotations', f'posetrack18_{split}.json')) as f:
        return json.load(f)


def _by_image(coco):
    anns = defaultdict(list)
    for ann in coco['annotations']:
        anns[ann['image_id']].append(ann)
    return anns


def test_occluded_joints_of_a_drawn_occluder():
    img = np.full((60, 80, 3), 128, np.float32)
    rng = np.random.default_rng(0)
    cover = draw_occluder(img, rng,
                          occluder_polygon(rng, (40.0, 30.0), 16.0, 'box'),
                          'box')
    kpts = np.zeros((17, 3))
    kpts[:, :2] = [5, 5]  # far from the occluder
    kpts[:, 2] = 1
    kpts[9] = [40, 30, 1]  # under its centre
    kpts[10] = [42, 31, 0]  # under it, but not annotated
    flags = occluded_joints(kpts, cover)
    assert flags.tolist() == [1 if k == 9 else 0 for k in range(17)]
    assert occluded_joints(kpts, None).tolist() == [0] * 17


def test_blurred_by_box_needs_most_joints_inside():
    kpts = np.zeros((17, 3))
    kpts[:, 0] = np.arange(17) * 10.0
    kpts[:, 2] = 1
    assert blurred_by_box(kpts, (-1, -1, 95, 1))  # 10 of 17 inside
    assert not blurred_by_box(kpts, (-1, -1, 55, 1))  # 6 of 17 inside
    kpts[:, 2] = 0
    assert not blurred_by_box(kpts, (-1000, -1000, 1000, 1000))


@pytest.fixture(scope='module')
def occlusion_pair(tmp_path_factory):
    """The same videos with and without occluders (no blur)."""
    root = tmp_path_factory.mktemp('difficulty')
    with_occ, without = str(root / 'occ'), str(root / 'clean')
    generate_posetrack_dataset(
        with_occ,
        num_train_videos=4,
        occlusion_rate=0.3,
        motion_blur_rate=0.0,
        **SMALL)
    generate_posetrack_dataset(
        without,
        num_train_videos=4,
        occlusion_rate=0.0,
        motion_blur_rate=0.0,
        **SMALL)
    return with_occ, without


def test_occluder_over_a_joint_is_recorded(occlusion_pair):
    with_occ, without = occlusion_pair
    coco, anns = _load(with_occ), _by_image(_load(with_occ))
    n_frames = n_flagged = 0
    for im in coco['images']:
        flags = [np.asarray(a['occluded_joints']) for a in anns[im['id']]]
        if not im['attributes']['occluded']:
            assert all(f.sum() == 0
                       for f in flags), 'occluded joints without an occluder'
            continue
        n_frames += 1
        # the occluder is drawn over its target joint: at least one joint is
        # recorded
        assert sum(f.sum() for f in flags) >= 1
        img_a = cv2.imread(osp.join(with_occ,
                                    im['file_name'])).astype(np.float32)
        img_b = cv2.imread(osp.join(without,
                                    im['file_name'])).astype(np.float32)
        diff = np.abs(img_a - img_b).mean(-1)
        for ann, f in zip(anns[im['id']], flags):
            kpts = np.reshape(ann['keypoints'], (17, 3))
            assert kpts[f > 0, 2].min(
                initial=1) > 0, 'only annotated joints are flagged'
            for (x, y, _), flag in zip(kpts, f):
                # the pixels there changed: something was drawn over the joint
                if flag:
                    n_flagged += 1
                    xi, yi = int(round(x)), int(round(y))
                    assert diff[yi, xi] > 10
    assert n_frames >= 8 and n_flagged >= n_frames


def test_no_occlusion_recorded_where_none_was_drawn(occlusion_pair):
    with_occ, without = occlusion_pair
    clean, occ = _load(without), _load(with_occ)
    assert all(sum(a['occluded_joints']) == 0 for a in clean['annotations'])
    assert not any(a['motion_blurred'] for a in clean['annotations'])

    # occluded joints stay annotated: apart from the difficulty fields the
    # labels are unchanged
    def strip(anns):
        return [{k: v
                 for k, v in a.items() if k != 'occluded_joints'}
                for a in anns]

    assert strip(occ['annotations']) == strip(clean['annotations'])
    assert all(len(a['occluded_joints']) == 17 for a in occ['annotations'])


def test_motion_blurred_persons(tmp_path):
    root = str(tmp_path / 'blur')
    generate_posetrack_dataset(
        root,
        num_train_videos=6,
        occlusion_rate=0.0,
        motion_blur_rate=0.3,
        **SMALL)
    coco, anns = _load(root), _by_image(_load(root))
    blurred_frames = 0
    for im in coco['images']:
        flags = [a['motion_blurred'] for a in anns[im['id']]]
        assert all(sum(a['occluded_joints']) == 0 for a in anns[im['id']])
        if not im['attributes']['motion_blur']:
            assert not any(flags)
        elif flags:
            blurred_frames += 1
            assert any(
                flags), 'a blurred frame blurs at least its target person'
    assert blurred_frames >= 10


def test_study_rates_make_a_third_of_the_frames_hard(tmp_path):
    summary = generate_posetrack_dataset(
        str(tmp_path / 'study'),
        num_train_videos=0,
        num_val_videos=12,
        frames_per_video=16,
        image_size=(96, 80),
        seed=0,
        occlusion_rate=0.25,
        motion_blur_rate=0.15)
    val = summary['val']
    assert val['hard'] >= 0.3 * val['images']
    assert val['hard'] <= val['occluded'] + val['motion_blur']
    assert val['occluded_joints'] >= val['occluded'] and val[
        'blurred_persons'] > 0
