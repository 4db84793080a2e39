"""Write the golden GT / prediction folders (``gt/``, ``pred/``) beside this
file.

Three videos of five frames, PoseTrack18 files (COCO-style, with the
``categories`` entry poseval's converter asserts), named
``NNNNNN_<mpii|bonn>_test`` as both official tools require. The content
covers the rules in which poseval and the PoseTrack21 kit differ or that
they share:

- GT joints stored with visibility 0 but real coordinates (evaluated by
  both), joints stored as ``(0, 0, 0)`` (by neither), GT and predicted joints
  at ``x = 0`` and at negative ``x`` (poseval counts them, the PoseTrack21 kit
  does not);
- the left ankle has no GT anywhere but is predicted (poseval: AP NaN, left
  out of Total; the PoseTrack21 kit: AP 0, counted);
- per video, frame 3 is unlabelled but holds a box-only GT person and a
  prediction (poseval evaluates it: the prediction is a false positive; the
  PoseTrack21 kit skips unlabelled frames); frame 4 is unlabelled without
  persons (skipped by both);
- an ignore region holding GT and predicted joints, and one predicted joint
  on its edge (outside for both tools);
- false-positive persons, predictions far off, missed persons, one predicted
  person without ``scores`` (-9999 for both tools);
- distinct full-precision scores (no ties: with ties the tools' order depends
  on the numpy version).

Every labelled frame has at least one GT person (the PoseTrack21 kit crashes
on a labelled frame without one).

    python tests/data/posetrack_golden/make_folders.py
"""
import json
import os.path as osp
from pathlib import Path

import numpy as np

HERE = Path(osp.dirname(osp.abspath(__file__)))
VIDEOS = ('000001_mpii_test', '000002_mpii_test', '000003_bonn_test')
NUM_FRAMES = 5
KEYPOINT_NAMES = [
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]
EARS = (3, 4)
LEFT_ANKLE = 15
CATEGORIES = [
    dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=KEYPOINT_NAMES,
        skeleton=[[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                  [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                  [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]])
]
# (17, 2) offsets of a standing person from its head-top corner, in pixels
TEMPLATE = np.array([[20, 30], [20, 45], [20, 5], [10, 25], [30, 25], [0, 60],
                     [40, 60], [-5, 95], [45, 95], [-8, 125], [48, 125],
                     [8, 130], [32, 130], [6, 175], [34, 175], [5, 220],
                     [35, 220]],
                    dtype=np.float64)
HEAD_WH = (40., 50.)  # head size 0.6 * 64.03 = 38.4 px, radius 19.2 px


def round3(values):
    return [float(round(v, 3)) for v in np.asarray(values).reshape(-1)]


def gt_person(rng, ann_id, image_id, track_id, origin):
    """A GT person: ears and the left ankle unannotated, about one joint in
    five stored with visibility 0 but coordinates."""
    joints = origin + TEMPLATE + rng.normal(0, 3, TEMPLATE.shape)
    visibility = (rng.random(17) > 0.2).astype(np.float64)
    joints[list(EARS) + [LEFT_ANKLE]] = 0
    visibility[list(EARS) + [LEFT_ANKLE]] = 0
    keypoints = np.concatenate([joints, visibility[:, None]], 1)
    x, y = origin
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        track_id=track_id,
        bbox=round3([x - 15, y - 5, 80, 240]),
        bbox_head=round3([x, y, *HEAD_WH]),
        keypoints=round3(keypoints))


def predicted_person(rng, ann_id, image_id, track_id, joints, scores=True):
    """A prediction of ``joints`` (17, 2) with distinct random scores."""
    score = rng.uniform(0.05, 0.99, 17)
    keypoints = np.concatenate([joints, score[:, None]], 1)
    person = dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        track_id=track_id,
        keypoints=[float(v) for v in keypoints.reshape(-1)])
    if scores:
        person['scores'] = [float(s) for s in score]
    return person


def noisy(rng, gt, far_fraction=0.25):
    """Predicted joints near the GT ones; some far off (misses + false
    positives); every predicted joint exists, the left ankle too."""
    joints = np.asarray(gt['keypoints'], dtype=np.float64).reshape(17, 3)
    origin = np.asarray(gt['bbox_head'][:2])
    template = origin + TEMPLATE
    out = np.where(joints[:, :2] != 0, joints[:, :2], template)
    out = out + rng.normal(0, 8, out.shape)
    far = rng.random(17) < far_fraction
    out[far] += rng.uniform(40, 80, (int(far.sum()), 2))
    return out


def image(video_index, name, frame, labelled, ignore=None):
    vid = f'{video_index:06d}'
    entry = dict(
        id=int(f'1{vid}{frame:04d}'),
        file_name=f'images/val/{name}/{frame:06d}.jpg',
        vid_id=vid,
        frame_id=int(f'1{vid}{frame:04d}'),
        nframes=NUM_FRAMES,
        is_labeled=labelled,
        ignore_regions_x=[],
        ignore_regions_y=[])
    if ignore is not None:
        entry['ignore_regions_x'] = [[float(p[0]) for p in ignore]]
        entry['ignore_regions_y'] = [[float(p[1]) for p in ignore]]
    return entry


def make_video(rng, video_index, name):
    images, gts, preds = [], [], []
    next_id = [video_index * 1000]

    def new_id():
        next_id[0] += 1
        return next_id[0]

    for frame in range(NUM_FRAMES):
        labelled = frame < 3
        # video 2, frame 1: an ignore region around a third person
        ignore = None
        if video_index == 2 and frame == 1:
            ignore = [(500., 0.), (640., 0.), (640., 300.), (500., 300.)]
        img = image(video_index, name, frame, labelled, ignore)
        images.append(img)
        if frame == 3:  # unlabelled, a box-only GT person, one prediction
            gts.append(
                dict(
                    id=new_id(),
                    image_id=img['id'],
                    category_id=1,
                    track_id=0,
                    bbox=[100., 40., 80., 240.],
                    bbox_head=[115., 45., *HEAD_WH],
                    keypoints=[0.] * 51))
            preds.append(
                predicted_person(rng, new_id(), img['id'], 0,
                                 np.array([115., 45.]) + TEMPLATE))
            continue
        if frame == 4:  # unlabelled, no GT persons, one prediction
            preds.append(
                predicted_person(rng, new_id(), img['id'], 0,
                                 np.array([300., 45.]) + TEMPLATE))
            continue
        num_persons = 1 + (video_index + frame) % 3
        origins = [(40. + 150. * p + 5. * frame, 20. + 10. * p)
                   for p in range(num_persons)]
        if ignore is not None:
            origins.append((540., 30.))
        frame_gts = [
            gt_person(rng, new_id(), img['id'], track, np.array(origin))
            for track, origin in enumerate(origins)
        ]
        if video_index == 1 and frame == 0:
            # GT joints at x = 0 and at negative x (a person at the border)
            kpts = frame_gts[0]['keypoints']
            kpts[3 * 7:3 * 7 + 3] = [0., 120., 1.]  # left elbow, x = 0
            kpts[3 * 9:3 * 9 + 3] = [-4., 150., 1.]  # left wrist, x < 0
        gts += frame_gts
        for track, gt in enumerate(frame_gts):
            if video_index == 3 and frame == 2 and track == 0:
                continue  # a missed person
            joints = noisy(rng, gt)
            if video_index == 1 and frame == 0 and track == 0:
                joints[7] = [0., 118.]  # predicted at x = 0
                joints[9] = [-3., 152.]  # predicted at negative x
            if video_index == 2 and frame == 1 and track == len(origins) - 1:
                joints[0] = [500., 60.]  # on the ignore region's edge
            preds.append(
                predicted_person(
                    rng,
                    new_id(),
                    img['id'],
                    track,
                    joints,
                    scores=not (video_index == 2 and frame == 0
                                and track == 0)))
        # a false-positive person in every labelled frame of video 3
        if video_index == 3:
            preds.append(
                predicted_person(rng, new_id(), img['id'], 50,
                                 np.array([400., 200.]) + TEMPLATE))
    for pred in preds:  # poseval: a joint stored (0, 0, 0) does not exist
        if rng.random() < 0.3:
            k = int(rng.integers(0, 17))
            pred['keypoints'][3 * k:3 * k + 3] = [0., 0., 0.]
    return (dict(images=images, annotations=gts, categories=CATEGORIES),
            dict(images=images, annotations=preds, categories=CATEGORIES))


def main():
    rng = np.random.default_rng(20261203)
    for folder in ('gt', 'pred'):
        (HERE / folder).mkdir(exist_ok=True)
    for index, name in enumerate(VIDEOS, start=1):
        gt, pred = make_video(rng, index, name)
        (HERE / 'gt' / f'{name}.json').write_text(json.dumps(gt) + '\n')
        (HERE / 'pred' / f'{name}.json').write_text(json.dumps(pred) + '\n')


if __name__ == '__main__':
    main()
