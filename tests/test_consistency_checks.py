"""Consistency checks: clip layout vs model, tracker state per video, frame
numbering of detection files for folders, image lists and videos."""
import json
import os.path as osp

import cv2
import pytest
from conftest import TINY_CONFIG
from model_utils import build_tiny_model, make_batch, tiny_model_cfg
from test_apis import (figure_frames, infer, pose_inferencer,
                       save_tiny_checkpoint, write_video)


# -----------------------------------------------------------------------------
# key frame
def test_model_refuses_data_with_another_key_frame():
    from mgpose_mm.errors import ConfigValueError
    model = build_tiny_model().eval()
    # as model.backbone.key_frame_index=0 in the config
    model.backbone.key_frame_index = 0
    clips, samples = make_batch(batch_size=2)
    # what PoseTrackVideoDataset packs for frame_offsets (-1, 0, 1)
    for sample in samples:
        sample.set_metainfo(dict(key_frame_index=1, frame_offsets=(-1, 0, 1)))
    for mode in ('loss', 'predict'):
        with pytest.raises(
                ConfigValueError,
                match=r'key frame at index 1 .*\(-1, 0, 1\).*'
                r'model\.backbone\.key_frame_index=0'):
            model(clips, samples, mode=mode)
    model.backbone.key_frame_index = 1
    assert model(clips, samples, mode='loss')['loss_kpt'] > 0


def test_model_refuses_data_offsets_of_another_length():
    from mgpose_mm.errors import ConfigValueError
    model = build_tiny_model().eval()
    clips, samples = make_batch(batch_size=1)
    samples[0].set_metainfo(
        dict(key_frame_index=2, frame_offsets=(-2, -1, 0, 1, 2)))
    with pytest.raises(
            ConfigValueError,
            match=r'clips of 5 frames .* model\.backbone\.num_frames=3'):
        model(clips, samples, mode='loss')


def test_key_frame_mismatch_fails_at_build_in_the_api(tmp_path):
    from mgpose_mm.errors import ConfigValueError
    checkpoint = save_tiny_checkpoint(str(tmp_path / 'tiny.pth'))
    with pytest.raises(
            ConfigValueError, match='model.backbone.key_frame_index=0'):
        pose_inferencer(checkpoint, {'model.backbone.key_frame_index': 0})


def test_bad_key_frame_config_fails_at_build():
    from mmpose.registry import MODELS

    from mgpose_mm.errors import ConfigValueError
    cfg = tiny_model_cfg()
    cfg.backbone.key_frame_index = 3
    with pytest.raises(ConfigValueError, match='key_frame_index=3'):
        MODELS.build(cfg)


# -----------------------------------------------------------------------------
# tracker
@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    from mgpose_mm.apis import init_video_pose_model
    checkpoint = save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))
    return init_video_pose_model(TINY_CONFIG, checkpoint)


def test_tracker_state_is_per_video(tiny_model):
    from mgpose_mm.apis import GivenBoxes, IoUTracker
    from mgpose_mm.apis.clips import ClipPoseEstimator
    from mgpose_mm.apis.frame_sources import open_input
    tracker = IoUTracker(iou_thr=0.3, max_age=5)
    first, first_boxes = figure_frames(
        num_frames=2)  # two people: tracks 0 and 1
    second, second_boxes = figure_frames(
        num_frames=2, starts=((60, 20), ))  # overlaps track 0

    def ids(results):
        return [[inst['track_id'] for inst in r['instances']] for r in results]

    assert ids(
        infer(tiny_model, first, GivenBoxes(first_boxes),
              tracker=tracker)) == [[0, 1], [0, 1]]
    # a new video starts with no track: ids from 0 (not 2, nor 1 matched to
    # the old video)
    assert ids(
        infer(tiny_model, second, GivenBoxes(second_boxes),
              tracker=tracker)) == [[0], [0]]
    # the given tracker is left unchanged
    assert tracker.tracks == [] and tracker.next_id == 0
    estimator = ClipPoseEstimator(tiny_model, tracker=tracker)
    one, two = (estimator(open_input(second), GivenBoxes(second_boxes))
                for _ in range(2))  # two videos streamed side by side
    assert [[i['track_id'] for i in next(one).instances],
            [i['track_id'] for i in next(two).instances]] == [[0], [0]]


# -----------------------------------------------------------------------------
# frame numbers
def _write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


def _frames_with_distinct_boxes(num_frames):
    """Frames and one distinct box per frame (x1 = 10 + 10 * frame)."""
    frames, _ = figure_frames(num_frames=num_frames, starts=((40, 20), ))
    boxes = [[10. + 10 * t, 20., 30., 60.] for t in range(num_frames)]  # xywh
    return frames, boxes


def _boxes_per_frame(model, source, box_source):
    results = infer(model, source, box_source, batch_size=8)
    return [[float(inst['bbox'][0]) for inst in r['instances']]
            for r in results]


def _ann_file(tmp_path, numbers, video='000042_x'):
    images = [
        dict(
            id=500 + n,
            file_name=f'images/val/{video}/{n:06d}.jpg',
            vid_id='000042') for n in numbers
    ]
    return _write_json(tmp_path / 'ann.json', dict(images=images))


def _dets(numbers, boxes, image_id=lambda n: 500 + n):
    return [
        dict(image_id=image_id(n), bbox=box, score=0.9, category_id=1)
        for n, box in zip(numbers, boxes)
    ]


def test_folder_with_one_based_numbering_matches_by_file_name(
        tmp_path, tiny_model):
    from mgpose_mm.apis import DetectionResultsBoxes
    frames, boxes = _frames_with_distinct_boxes(4)
    folder = tmp_path / '000042_x'
    folder.mkdir()
    for t, frame in enumerate(frames):  # 000001.jpg .. 000004.jpg
        cv2.imwrite(str(folder / f'{t + 1:06d}.png'), frame)
    ann = _ann_file(tmp_path, numbers=[1, 2, 3, 4])
    det_file = _write_json(tmp_path / 'dets.json', _dets([1, 2, 3, 4], boxes))
    got = _boxes_per_frame(tiny_model, str(folder),
                           DetectionResultsBoxes(det_file, ann_file=ann))
    assert got == [[10.], [20.], [30.],
                   [40.]]  # before: [[], [10.], [20.], [30.]] + an error


def test_gappy_folder_and_image_list_match_by_file_name(tmp_path, tiny_model):
    from mgpose_mm.apis import DetectionResultsBoxes
    frames, boxes = _frames_with_distinct_boxes(3)
    numbers = [0, 2, 4]  # every other frame extracted
    paths = []
    for number, frame in zip(numbers, frames):
        paths.append(str(tmp_path / f'frame_{number:04d}.jpg'))
        cv2.imwrite(paths[-1], frame)
    ann = _ann_file(tmp_path, numbers=range(6))
    det_file = _write_json(tmp_path / 'dets.json', _dets(numbers, boxes))
    expected = [[10.], [20.],
                [30.]]  # before: [[10.], [], [20.]] and frame 4 lost
    assert _boxes_per_frame(tiny_model, str(tmp_path),
                            DetectionResultsBoxes(det_file,
                                                  ann_file=ann)) == expected
    # an image list, given in order
    assert _boxes_per_frame(tiny_model, paths,
                            DetectionResultsBoxes(det_file,
                                                  ann_file=ann)) == expected
    # PoseTrack frame ids are positions in the video: a gappy folder cannot be
    # matched
    from mgpose_mm.errors import InputDataError
    frame_id_dets = _write_json(
        tmp_path / 'frame_ids.json',
        _dets(numbers, boxes, image_id=lambda n: int(f'1000042{n:04d}')))
    with pytest.raises(
            InputDataError,
            match=r'numbered with gaps \(e\.g\. 0 then 2\).*'
            '--det-ann-file'):
        _boxes_per_frame(tiny_model, paths,
                         DetectionResultsBoxes(frame_id_dets))


def test_folder_frames_missing_from_detection_numbers_are_named(
        tmp_path, tiny_model):
    from mgpose_mm.apis import DetectionResultsBoxes
    from mgpose_mm.errors import InputDataError
    frames, boxes = _frames_with_distinct_boxes(2)
    for t, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f'{t:06d}.png'), frame)
    ann = _ann_file(tmp_path, numbers=range(8))
    det_file = _write_json(tmp_path / 'dets.json', _dets([0, 7], boxes))
    with pytest.raises(
            InputDataError,
            match=r'frame number\(s\) \[7\] but .* numbered 0 to 1'):
        _boxes_per_frame(tiny_model, str(tmp_path),
                         DetectionResultsBoxes(det_file, ann_file=ann))
    (tmp_path /
     'cover.png').write_bytes(open(tmp_path / '000000.png', 'rb').read())
    with pytest.raises(InputDataError, match='cover.png has no number'):
        _boxes_per_frame(tiny_model, str(tmp_path),
                         DetectionResultsBoxes(det_file, ann_file=ann))


def test_video_matches_annotation_numbering_by_rank(tmp_path, tiny_model):
    from mgpose_mm.apis import DetectionResultsBoxes
    from mgpose_mm.errors import InputDataError
    frames, boxes = _frames_with_distinct_boxes(4)
    video = str(tmp_path / 'clip.mp4')
    write_video(video, frames)
    ann = _ann_file(tmp_path, numbers=[1, 2, 3, 4])  # 1-based file names
    det_file = _write_json(tmp_path / 'dets.json',
                           _dets([1, 2, 4], [boxes[0], boxes[1], boxes[3]]))
    got = _boxes_per_frame(tiny_model, video,
                           DetectionResultsBoxes(det_file, ann_file=ann))
    assert got == [[10.], [20.], [], [40.]]
    # the annotation file lists another number of frames than the video has
    ann = _ann_file(tmp_path, numbers=[1, 2, 3, 4, 5])
    with pytest.raises(
            InputDataError,
            match='lists 5 frames of the video but the input has 4'):
        _boxes_per_frame(tiny_model, video,
                         DetectionResultsBoxes(det_file, ann_file=ann))
    assert osp.isfile(video)
