"""Streaming inference through VideoPoseInferencer: live sources without a
camera (a fake ``cv2.VideoCapture`` and a video file read as a stream), delay,
which frames form each clip, bounded state, failing sources, and the demo's
stream mode."""
import contextlib
import json
import os
import os.path as osp
import runpy
import signal
import sys
import weakref

import cv2
import numpy as np
import pytest
from conftest import REPO_ROOT, TINY_CONFIG
from test_apis import (ARGMAX_DECODER, figure_detections, figure_frames, infer,
                       pose_inferencer, read_video, save_tiny_checkpoint,
                       write_video)

ONLINE_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'ftp_pose', 'synthetic',
    'ftp-pose-online_vit-tiny_1xb16-12e_synthetic-128x96.py')


class FakeCapture:
    """Stands in for ``cv2.VideoCapture``: frames from a list or a function of
    the index; ``fail_at`` makes read number ``fail_at`` return ``(False,
    None)`` (camera gone) or raise ``error``."""

    def __init__(self, frames, fail_at=None, error=None, fps=0.0, opened=True):
        self.frames, self.fail_at, self.error = frames, fail_at, error
        self.fps, self.opened = fps, opened
        self.reads = self.delivered = 0
        self.released = False

    def isOpened(self):
        return self.opened

    def get(self, prop):
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        self.reads += 1
        if self.fail_at is not None and self.delivered == self.fail_at:
            if self.error is not None:
                raise self.error
            return False, None
        if callable(self.frames):
            frame = self.frames(self.delivered)
        elif self.delivered < len(self.frames):
            frame = self.frames[self.delivered].copy()
        else:
            return False, None
        self.delivered += 1
        return True, frame

    def release(self):
        self.released = True


def fake_source(capture, **kwargs):
    from mgpose_mm.apis import CaptureFrames
    return CaptureFrames(0, capture_factory=lambda target: capture, **kwargs)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))


@pytest.fixture(scope='module')
def inferencers(checkpoint):
    """Inferencers of the centred (t-1, t, t+1) and online (t-2, t-1, t) tiny
    models, same weights, decoding heatmaps by their maximum (random weights
    give flat heatmaps)."""
    return {
        name: pose_inferencer(checkpoint, ARGMAX_DECODER, config)
        for name, config in (('centred', TINY_CONFIG), ('online',
                                                        ONLINE_CONFIG))
    }


def assert_same_poses(streamed, expected):
    assert [p.frame_index
            for p in streamed] == [e['frame_index'] for e in expected]
    for pred, exp in zip(streamed, expected):
        assert [i['track_id'] for i in pred.instances
                ] == [i['track_id'] for i in exp['instances']]
        for got, want in zip(pred.instances, exp['instances']):
            np.testing.assert_allclose(got['bbox'], want['bbox'])
            np.testing.assert_allclose(
                got['keypoints'], want['keypoints'], atol=1e-3)
            np.testing.assert_allclose(
                got['keypoint_scores'], want['keypoint_scores'], atol=1e-5)


# -----------------------------------------------------------------------------
# equality, delay
@pytest.mark.parametrize('kind', ['centred', 'online'])
def test_stream_equals_file_inference_and_delay(tmp_path, inferencers, kind):
    """A video file read as a stream and a fake camera give the poses of file
    inference, each frame as soon as its clip is complete: 1 frame later for
    centred clips, at once online."""
    from mgpose_mm.apis import GivenBoxes
    inferencer = inferencers[kind]
    frames, boxes = figure_frames(num_frames=7)
    video = str(tmp_path / 'clip.mp4')
    write_video(video, frames)
    expected_file = infer(
        inferencer.model, video, GivenBoxes(boxes), batch_size=16)

    streamed = list(inferencer.estimate(video, bboxes=boxes, stream=True))
    assert_same_poses(streamed, expected_file)

    decoded, _ = read_video(video)
    capture = FakeCapture(decoded)
    delay = {'centred': 1, 'online': 0}[kind]
    assert inferencer.estimator.delay == delay
    streamed, reads_at_yield = [], []
    for prediction in inferencer.estimate(
            fake_source(capture), bboxes=boxes, batch_size=2):
        reads_at_yield.append(capture.delivered)
        streamed.append(prediction)
    assert_same_poses(streamed, expected_file)
    # frames actually read from the capture when each frame's poses came out
    assert reads_at_yield == [min(k + 1 + delay, 7) for k in range(7)]
    assert [p.frames_read for p in streamed] == reads_at_yield
    assert all(p.latency >= 0 for p in streamed) and capture.released

    # the MMPose-style call yields the same poses, one result per frame
    results = list(inferencer(video, bboxes=boxes, stream=True))
    assert len(results) == 7
    for result, exp in zip(results, expected_file):
        np.testing.assert_allclose(
            [i['keypoints'] for i in result['predictions'][0]],
            [i['keypoints'] for i in exp['instances']],
            atol=1e-3)
        assert [i['track_id'] for i in result['predictions'][0]
                ] == [i['track_id'] for i in exp['instances']]


@pytest.mark.parametrize('kind, offsets', [('online', (-2, -1, 0)),
                                           ('centred', (-1, 0, 1))])
def test_streamed_clips_hold_the_right_frames(inferencers, monkeypatch, kind,
                                              offsets):
    """Which frames form each clip when streaming, and when it is built: the
    frames at the offsets around the key frame (clamped to the first frame, and
    to the last one when the stream ends), built once the clip's last frame has
    been read: at once online, one frame later centred."""
    inferencer = inferencers[kind]
    frames = [np.full((120, 160, 3), 10 * i, np.uint8) for i in range(5)]
    boxes = [np.array([[40, 20, 80, 100]], np.float32)] * 5
    read, seen = [], []

    def camera():
        for index, frame in enumerate(frames):
            read.append(index)
            yield frame

    build = inferencer.estimator.clip_builder.build

    def spy(clip_frames, *args):
        seen.append(
            ([int(frame[0, 0, 0]) for frame in clip_frames], len(read)))
        return build(clip_frames, *args)

    monkeypatch.setattr(inferencer.estimator.clip_builder, 'build', spy)
    predictions = list(
        inferencer.estimate(camera(), bboxes=boxes, stream=True))
    assert [p.frame_index for p in predictions] == list(range(5))
    assert [values for values, _ in seen
            ] == [[10 * min(max(k + o, 0), 4) for o in offsets]
                  for k in range(5)]
    assert [frames_read for _, frames_read in seen
            ] == [min(k + 1 + max(offsets), 5) for k in range(5)]


# -----------------------------------------------------------------------------
# bounded state
def walker_frame(index, period=10, visible=6):
    """Frame ``index`` of an endless stream: person ``index // period`` walks
    across for ``visible`` frames, then nobody; successive people use other
    image regions."""
    frame = np.full((120, 160, 3), 20, np.uint8)
    person, phase = divmod(index, period)
    box = None
    if phase < visible:
        x, y = 10 + 60 * (person % 2) + 3 * phase, 15 + 10 * (person % 3)
        cv2.rectangle(frame, (x, y), (x + 24, y + 80), (240, 240, 240), -1)
        box = [x - 2, y - 2, x + 26, y + 82]
    return frame, box


def walker_boxes():
    """Box source of :func:`walker_frame` (what a detector would find)."""
    from mgpose_mm.apis import BoxSource

    class WalkerBoxes(BoxSource):

        def __call__(self, index, frame):
            _, box = walker_frame(index)
            boxes = np.array([box] if box else np.zeros((0, 4)),
                             np.float32).reshape(-1, 4)
            return boxes, np.ones(len(boxes), np.float32)

        def finish(self, num_frames):
            raise AssertionError('a live camera has no end to check')

    return WalkerBoxes()


def state_sizes(estimator):
    state = estimator.state
    return dict(
        frames=len(state.frames),
        waiting=len(state.waiting),
        tracks=len(state.tracker.tracks))


def test_state_stays_bounded_over_a_long_stream(inferencers, monkeypatch):
    from mgpose_mm.apis import IoUTracker
    alive = []  # weak references to every frame the camera delivered

    def camera_frame(index):
        frame = walker_frame(index)[0]
        alive.append(weakref.ref(frame))
        return frame

    num_frames = 240
    capture = FakeCapture(camera_frame)
    inferencer = inferencers['centred'].estimator
    monkeypatch.setattr(inferencer, 'tracker', IoUTracker(max_age=2))
    source = fake_source(capture, max_frames=num_frames)
    track_ids, ended, peak = set(), [], dict(frames=0, waiting=0, tracks=0)
    predictions = inferencers['centred'].estimate(
        source, bboxes=walker_boxes())
    for count, prediction in enumerate(predictions, start=1):
        track_ids.update(i['track_id'] for i in prediction.instances)
        ended.extend(prediction.ended_track_ids)
        peak = {k: max(v, peak[k]) for k, v in state_sizes(inferencer).items()}
        del prediction
        # the consumer holds no frame: only the clip window, the waiting frame,
        # the one read
        assert sum(ref() is not None
                   for ref in alive) <= inferencer.span + 1, count
    assert count == num_frames and source.stop_reason == 'stopped'
    assert capture.released
    assert peak['frames'] <= inferencer.span and peak[
        'waiting'] <= inferencer.delay + 1
    assert peak['tracks'] <= 1
    assert track_ids == set(range(
        num_frames // 10))  # one track per walker, ids never reused
    assert ended == list(range(num_frames //
                               10))  # each walker's track ends 3 frames after
    assert state_sizes(inferencer)['frames'] == 0  # cleared at the end


# -----------------------------------------------------------------------------
# failures
@pytest.mark.parametrize('error', [None, cv2.error('camera unplugged')])
def test_source_failing_mid_stream(tmp_path, inferencers, error):
    """A camera that disappears (read returns False, or raises) ends the stream
    cleanly: the frames read so far get their poses (the last one with a
    clamped clip, as at the end of a video) and the written outputs are
    valid."""
    from mgpose_mm.apis import GivenBoxes
    inferencer = inferencers['centred']
    frames, boxes = figure_frames(num_frames=8)
    capture = FakeCapture(frames, fail_at=5, error=error, fps=12.0)
    source = fake_source(capture)
    out = str(tmp_path)
    with pytest.warns(UserWarning, match='after 5 frames') if error else \
            contextlib.nullcontext():
        results = list(
            inferencer(
                source, bboxes=boxes, vis_out_dir=out, pred_out_dir=out))
    reason = 'source failed after 5 frames: camera unplugged' if error \
        else 'end of stream'
    assert source.stop_reason == reason and len(results) == 5
    assert capture.released and inferencer.estimator.delay == 1
    drawn, fps = read_video(osp.join(out, 'frames.mp4'))
    assert len(drawn) == 5 and fps == pytest.approx(12.0)
    written = json.load(open(osp.join(out, 'frames.json')))
    assert [entry['frame_id'] for entry in written] == list(range(5))
    expected = infer(inferencer.model, frames[:5], GivenBoxes(boxes[:5]))
    for entry, exp in zip(written, expected):
        np.testing.assert_allclose(
            [i['keypoints'] for i in entry['instances']],
            [i['keypoints'] for i in exp['instances']],
            atol=1e-3)


def test_no_frame_at_all_raises_and_retries_skip_dropped_frames(
        tmp_path, inferencers):
    inferencer = inferencers['online']
    frames, boxes = figure_frames(num_frames=4)
    with pytest.raises(IOError, match='no frame could be read from camera 0'):
        list(
            inferencer.estimate(
                fake_source(FakeCapture(frames, fail_at=0)), bboxes=boxes))
    with pytest.raises(
            IOError,
            match='no frame could be read'):  # and no empty output files
        list(
            inferencer(
                fake_source(FakeCapture(frames, fail_at=0)),
                bboxes=boxes,
                vis_out_dir=str(tmp_path),
                pred_out_dir=str(tmp_path)))
    assert os.listdir(tmp_path) == []

    class Flaky(FakeCapture):
        """Drops every other read, as a congested network stream does."""

        def read(self):
            self.reads += 1
            return (False, None) if self.reads % 2 else FakeCapture.read(self)

    streamed = list(
        inferencer.estimate(
            fake_source(Flaky(frames), read_retries=1), bboxes=boxes))
    assert [p.frame_index for p in streamed] == [0, 1, 2, 3]


def test_ctrl_c_finishes_frames_read_and_keeps_output(tmp_path, inferencers,
                                                      capsys):
    """First Ctrl-C: the stream stops after the frame being read, every frame
    read gets its poses and the outputs are complete; a second one
    (KeyboardInterrupt) still leaves valid outputs with the frames done so
    far."""
    inferencer = inferencers['centred']
    frames, boxes = figure_frames(num_frames=8)

    class Interrupting(FakeCapture):

        def read(self):
            if self.delivered == 4:
                signal.raise_signal(signal.SIGINT)
            return FakeCapture.read(self)

    handler = signal.getsignal(signal.SIGINT)
    source = fake_source(Interrupting(frames))
    results = list(
        inferencer(source, bboxes=boxes, vis_out_dir=str(tmp_path / 'a')))
    assert source.stop_reason == 'stopped' and len(results) == 5
    assert len(read_video(str(tmp_path / 'a' / 'frames.mp4'))[0]) == 5
    assert 'stopping' in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is handler  # restored

    out = str(tmp_path / 'b')
    with pytest.raises(KeyboardInterrupt):
        list(
            inferencer(
                fake_source(
                    FakeCapture(frames, fail_at=6, error=KeyboardInterrupt())),
                bboxes=boxes,
                vis_out_dir=out,
                pred_out_dir=out))
    # frames 0..4 were done; frame 5 was waiting for frame 6
    assert len(read_video(osp.join(out, 'frames.mp4'))[0]) == 5
    assert [
        e['frame_id'] for e in json.load(open(osp.join(out, 'frames.json')))
    ] == [0, 1, 2, 3, 4]


# -----------------------------------------------------------------------------
# demo
DEMO = osp.join(REPO_ROOT, 'demo', 'inferencer_demo.py')


def test_demo_stream_mode_prints_latency_lines(tmp_path, checkpoint, capsys,
                                               monkeypatch):
    frames, boxes = figure_frames(num_frames=6)
    video = str(tmp_path / '000007_clip.mp4')
    write_video(video, frames, fps=8)
    dets = figure_detections(boxes)
    # a merged file: the demo picks video 000007 from the input's name
    dets.append(
        dict(
            image_id=10000080001, category_id=1, score=0.9, bbox=[1, 1, 9, 9]))
    det_file = str(tmp_path / 'dets.json')
    json.dump(dets, open(det_file, 'w'))
    out = str(tmp_path / 'vis')
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.setattr(sys, 'argv', [
        'inferencer_demo.py', video, '--pose2d', ONLINE_CONFIG,
        '--pose2d-weights', checkpoint, '--stream', '--realtime',
        '--status-interval', '0', '--det-results', det_file, '--show',
        '--vis-out-dir', out, '--pred-out-dir', out, '--device', 'cpu'
    ])
    with pytest.warns(UserWarning, match='no display'):
        runpy.run_path(DEMO, run_name='__main__')
    printed = capsys.readouterr().out.splitlines()
    assert [
        line.split(' frames |')[0] for line in printed
        if 'frames | latency median' in line
    ] == [str(i)
          for i in range(1, 7)]  # one line per frame with --status-interval 0
    assert '6 frames, 12 person instances; latency median' in printed[-1]
    drawn, fps = read_video(osp.join(out, '000007_clip.mp4'))
    assert len(drawn) == 6 and fps == pytest.approx(8)
    entries = json.load(open(osp.join(out, '000007_clip.json')))
    assert [len(e['instances']) for e in entries] == [2] * 6
    for entry, frame_boxes in zip(entries, boxes):  # NMS may reorder them
        np.testing.assert_allclose(
            sorted(i['bbox'][0] for i in entry['instances']),
            frame_boxes.tolist())
