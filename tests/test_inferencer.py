"""VideoPoseInferencer with MMPose's inferencer conventions: model-zoo names,
one result per frame, file inference equal to array inference, own boxes, live
inputs, first-contact errors and demo/inferencer_demo.py."""
import contextlib
import glob
import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO_ROOT
from test_apis import (ARGMAX_DECODER, figure_frames, infer, pose_inferencer,
                       read_video, save_tiny_checkpoint, write_video)
from test_streaming import ONLINE_CONFIG, FakeCapture

TINY_NAME = 'ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96'
DEMO = osp.join(REPO_ROOT, 'demo', 'inferencer_demo.py')


@pytest.fixture(scope='module')
def synthetic_video(tmp_path_factory):
    """A folder of frames of one synthetic video (people walking)."""
    from mgpose_mm.synthetic import generate_posetrack_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_posetrack_dataset(
        root,
        num_train_videos=0,
        num_val_videos=1,
        frames_per_video=5,
        image_size=(160, 128),
        seed=1)
    (folder, ) = glob.glob(osp.join(root, 'images', 'val', '*'))
    return folder


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'), seed=0)


@pytest.fixture(scope='module')
def inferencer(checkpoint):
    return pose_inferencer(checkpoint, ARGMAX_DECODER)


def test_model_zoo_name_on_a_synthetic_video_folder(synthetic_video):
    from mgpose_mm.apis import VideoPoseInferencer
    with pytest.warns(UserWarning, match='randomly initialized model'):
        inferencer = VideoPoseInferencer(
            pose2d=TINY_NAME, det_model='whole_image', device='cpu')
    results = list(inferencer(synthetic_video))
    height, width = cv2.imread(
        sorted(glob.glob(osp.join(synthetic_video, '*.jpg')))[0]).shape[:2]
    assert len(results) == 5
    for result in results:
        assert sorted(result) == ['predictions', 'visualization']
        assert result['visualization'] == []
        (instances, ) = result['predictions']  # one frame per result
        (person, ) = instances  # whole image: one box covering the frame
        assert np.shape(person['keypoints']) == (17, 2)
        assert len(person['keypoint_scores']) == 17
        assert person['bbox'] == ([0.0, 0.0, width, height], )  # as MMPose
        assert person['bbox_score'] == 1.0 and person['track_id'] == 0


def test_video_file_gives_the_poses_of_its_decoded_frames(
        tmp_path, inferencer):
    """A video file gives, frame for frame, the poses of the same frames
    decoded beforehand and passed as arrays: file reading changes nothing
    (compared in one run, so the local codec's rounding cannot matter)."""
    frames, boxes = figure_frames(num_frames=6)
    video = str(tmp_path / 'clip.mp4')
    write_video(video, frames, fps=10.0)
    decoded, _ = read_video(video)
    assert len(decoded) == 6
    from_file = list(inferencer(video, bboxes=boxes, batch_size=4))
    from_arrays = list(inferencer(decoded, bboxes=boxes, batch_size=4))
    assert len(from_file) == len(from_arrays) == 6
    for result, want in zip(from_file, from_arrays):
        got, want = result['predictions'][0], want['predictions'][0]
        assert len(got) == len(want) == 2
        assert [p['track_id'] for p in got] == [p['track_id'] for p in want]
        for key in ('bbox', 'keypoints', 'keypoint_scores'):
            np.testing.assert_array_equal([p[key] for p in got],
                                          [p[key] for p in want])


def test_own_boxes_as_file_arrays_and_scores(tmp_path, inferencer):
    frames, boxes = figure_frames(num_frames=3)
    boxes_file = tmp_path / 'boxes.json'
    boxes_file.write_text(
        json.dumps({
            str(t): [list(map(float, b)) + [0.5] for b in frame_boxes]
            for t, frame_boxes in enumerate(boxes) if t != 1
        }))
    from_file = list(inferencer(frames, bboxes=str(boxes_file)))
    assert [len(r['predictions'][0]) for r in from_file] == [2, 0, 2]
    with_scores = [
        np.hstack([b, np.full((len(b), 1), 0.5)]) if t != 1 else []
        for t, b in enumerate(boxes)
    ]
    from_arrays = list(inferencer(frames, bboxes=with_scores))
    assert [r['predictions']
            for r in from_arrays] == [r['predictions'] for r in from_file]
    first = from_file[0]['predictions'][0]
    np.testing.assert_allclose([p['bbox'][0] for p in first], boxes[0])
    assert [p['bbox_score'] for p in first] == [0.5, 0.5]
    assert [p['track_id'] for p in first] == [0, 1]
    with pytest.raises(FileNotFoundError, match='a folder, not a file'):
        next(inferencer(frames, bboxes=str(tmp_path)))
    nan_file = tmp_path / 'nan.json'
    nan_file.write_text('{"0": [[1, 2, NaN, 40]]}')
    with pytest.raises(ValueError, match='values must be finite'):
        next(inferencer(frames, bboxes=str(nan_file)))


@pytest.mark.parametrize('inputs', ['webcam', 'webcam:1', 1])
def test_camera_inputs_stream_each_frame(inferencer, monkeypatch, inputs):
    """``'webcam'``, ``'webcam:N'`` and a camera index are live inputs: each
    frame comes out as soon as its clip is complete (centred clip: one frame
    later)."""
    frames, boxes = figure_frames(num_frames=4)
    opened = []

    def fake_capture(target):
        opened.append(target)
        opened.append(FakeCapture(frames))
        return opened[-1]

    monkeypatch.setattr(cv2, 'VideoCapture', fake_capture)
    monkeypatch.delenv('DISPLAY', raising=False)
    reads = []
    # 'webcam' turns the display on, as in MMPose (none here: a warning)
    with pytest.warns(
            UserWarning, match='display') if isinstance(
                inputs, str) else contextlib.nullcontext():
        for result in inferencer(inputs, bboxes=boxes):
            reads.append(opened[1].delivered)
            assert len(result['predictions'][0]) == 2
    assert opened[0] == (0 if inputs == 'webcam' else 1)
    assert reads == [2, 3, 4, 4] and opened[1].released


def test_only_a_webcam_turns_the_display_on(monkeypatch):
    import warnings

    from mgpose_mm.apis.inferencer import _show_setting
    monkeypatch.setenv('DISPLAY', ':0')
    with pytest.warns(UserWarning, match='display is turned on'):
        assert _show_setting('webcam:1', False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # a file named like a webcam: no
        assert not _show_setting('webcam_clip.mp4', False)
        assert not _show_setting(1, False)


def test_first_contact_errors_name_the_problem(tmp_path, inferencer,
                                               checkpoint):
    from mgpose_mm.apis import VideoPoseInferencer
    with pytest.raises(FileNotFoundError) as error:
        VideoPoseInferencer(
            pose2d='ftp-pose_vit-tiny', det_model='whole_image')
    message = str(error.value)
    assert message.startswith("'ftp-pose_vit-tiny' is not a file nor a "
                              'model-zoo name of mgpose_mm; its names: ')
    assert TINY_NAME in message and '\n' not in message
    with pytest.raises(
            FileNotFoundError,
            match=r'^pose config not found: configs/none.py \(no such file'):
        VideoPoseInferencer(pose2d='configs/none.py', det_model='whole_image')
    with pytest.raises(FileNotFoundError, match=r'\(a folder, not a file\)'):
        VideoPoseInferencer(
            pose2d=TINY_NAME,
            pose2d_weights=str(tmp_path),
            det_model='whole_image')
    frames, _ = figure_frames(num_frames=2)
    not_a_folder = tmp_path / 'out.txt'
    not_a_folder.write_text('')
    with pytest.raises(IOError, match='out.txt is a file, not a folder'):
        next(inferencer(frames, vis_out_dir=str(not_a_folder)))
    with pytest.raises(ValueError, match='unknown argument'):
        next(inferencer(frames, draw_heatmap=True))


def test_inferencer_demo(tmp_path, synthetic_video, checkpoint, capsys):
    main = runpy.run_path(DEMO, run_name='inferencer_demo')['main']
    out = str(tmp_path / 'out')
    main([
        synthetic_video, '--pose2d', TINY_NAME, '--pose2d-weights', checkpoint,
        '--det-model', 'whole_image', '--vis-out-dir', out, '--pred-out-dir',
        out, '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    assert '5 frames, 5 person instances' in printed
    name = osp.basename(synthetic_video)
    assert len(read_video(osp.join(out, f'{name}.mp4'))[0]) == 5
    written = json.load(open(osp.join(out, f'{name}.json')))
    assert [entry['frame_id'] for entry in written] == list(range(5))
    for argv, message in (
        (['--pose2d-weights', str(tmp_path)], '--pose2d-weights '
         f'{tmp_path} is a folder, not a file'),
        (['--vis-out-dir', checkpoint], f'--vis-out-dir {checkpoint} is a '
         'file, not a folder'),
        (['--bboxes', str(tmp_path / 'boxes.json')], 'boxes.json: no such '
         'file'),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main([synthetic_video, '--pose2d', TINY_NAME, *argv])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_inferencer_demo_unknown_name_is_one_line(synthetic_video):
    proc = subprocess.run(
        [sys.executable, DEMO, synthetic_video, '--pose2d', 'ftp-pose'],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and lines[-1].startswith(
        "inferencer_demo.py: error: 'ftp-pose' is not a file nor a model-zoo "
        'name of mgpose_mm; ')
    assert 'Traceback' not in proc.stderr


def test_demo_reads_a_stream_url(tmp_path, http_server, checkpoint, capsys,
                                 monkeypatch):
    """``http://...`` is live input (no --stream needed): the poses are those
    of file inference over the same video, outputs are named after the URL."""
    from mgpose_mm.apis import GivenBoxes, init_video_pose_model
    folder, base_url = http_server
    frames, boxes = figure_frames(num_frames=5)
    write_video(str(folder / 'clip.mp4'), frames, fps=10)
    url = f'{base_url}/clip.mp4'
    det_file = str(tmp_path / 'dets.json')
    json.dump(
        [
            dict(
                image_id=t,
                category_id=1,
                score=0.9 - 0.1 * i,  # NMS keeps this order
                bbox=[
                    float(b[0]),
                    float(b[1]),
                    float(b[2] - b[0]),
                    float(b[3] - b[1])
                ]) for t, frame_boxes in enumerate(boxes)
            for i, b in enumerate(frame_boxes)
        ],
        open(det_file, 'w'))
    ann_file = str(tmp_path / 'ann.json')  # image id t is frame t
    json.dump(
        dict(images=[dict(id=t, file_name=f'{t:06d}.jpg') for t in range(5)]),
        open(ann_file, 'w'))
    out = str(tmp_path / 'out')
    monkeypatch.setattr(sys, 'argv', [
        'inferencer_demo.py', url, '--pose2d', ONLINE_CONFIG,
        '--pose2d-weights', checkpoint, '--det-results', det_file,
        '--det-ann-file', ann_file, '--pred-out-dir', out, '--vis-out-dir',
        out, '--batch-size', '1', '--device', 'cpu'
    ])
    runpy.run_path(DEMO, run_name='__main__')
    assert '5 frames, 10 person instances' in capsys.readouterr().out
    stem = f'127_0_0_1_{url.split(":")[2].split("/")[0]}_clip_mp4'
    written = json.load(open(osp.join(out, f'{stem}.json')))
    assert len(read_video(osp.join(out, f'{stem}.mp4'))[0]) == 5
    model = init_video_pose_model(ONLINE_CONFIG, checkpoint)
    expected = infer(
        model, str(folder / 'clip.mp4'), GivenBoxes(boxes), batch_size=1)
    assert [e['frame_id'] for e in written] == list(range(5))
    for entry, exp in zip(written, expected):
        np.testing.assert_allclose([i['bbox'][0] for i in entry['instances']],
                                   [i['bbox'] for i in exp['instances']],
                                   atol=1e-3)
        np.testing.assert_allclose(
            [i['keypoints'] for i in entry['instances']],
            [i['keypoints'] for i in exp['instances']],
            atol=1e-3)
