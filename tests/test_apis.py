"""Video inference on synthetic clips: the clip engine behind
VideoPoseInferencer (clips, frame sources), file outputs and bad input; the
helpers serve the other inference tests."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, TINY_CONFIG
from mmpose.structures.bbox import bbox_xyxy2cs

FRAME_H, FRAME_W = 120, 160
INPUT_W, INPUT_H = 96, 128  # tiny config input size
#: heatmaps decoded by their maximum (see ``argmax_model``)
ARGMAX_DECODER = {
    'model.head.decoder':
    dict(
        type='MSRAHeatmap',
        input_size=(INPUT_W, INPUT_H),
        heatmap_size=(24, 32),
        sigma=2,
        unbiased=False)
}
SINGLE_FRAME_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'ftp_pose', 'synthetic',
    'ftp-pose-single-frame_vit-tiny_1xb16-12e_synthetic-128x96.py')


# -----------------------------------------------------------------------------
# data helpers
def figure_frames(num_frames=8,
                  starts=((30, 18), (95, 22)),
                  step=3,
                  size=(FRAME_H, FRAME_W)):
    """Frames (H, W, 3) BGR with bright stick figures moving right by ``step``
    px per frame, and per frame the (N, 4) xyxy boxes around them (N =
    len(starts))."""
    frames, boxes = [], []
    for t in range(num_frames):
        frame = np.full((*size, 3), 30, np.uint8)
        frame_boxes = []
        for x0, y0 in starts:
            x = x0 + step * t
            cv2.circle(frame, (x + 12, y0 + 8), 7, (230, 230, 230), -1)  # head
            cv2.rectangle(frame, (x + 5, y0 + 16), (x + 19, y0 + 50),
                          (250, 250, 250), -1)
            cv2.line(frame, (x + 5, y0 + 20), (x - 3, y0 + 40),
                     (200, 200, 255), 3)  # arm
            for dx in (7, 17):  # legs
                cv2.line(frame, (x + dx, y0 + 50), (x + dx, y0 + 80),
                         (240, 240, 240), 3)
            frame_boxes.append([x - 4, y0, x + 24, y0 + 82])
        frames.append(frame)
        boxes.append(np.array(frame_boxes, np.float32))
    return frames, boxes


def figure_detections(boxes, video_number=7, score=0.95):
    """Detection-results entries (COCO xywh boxes, PoseTrack image ids of video
    ``video_number``) of the per-frame boxes of :func:`figure_frames`."""
    return [
        dict(
            image_id=int(f'1{video_number:06d}{t:04d}'),
            category_id=1,
            score=score,
            bbox=[
                float(b[0]),
                float(b[1]),
                float(b[2] - b[0]),
                float(b[3] - b[1])
            ]) for t, frame_boxes in enumerate(boxes) for b in frame_boxes
    ]


def crop_region(bbox):
    """Image region (x1, y1, x2, y2) that the test pipeline crops for a box:

    MMPose's GetBBoxCenterScale(padding=1.25) then TopdownAffine's aspect-ratio
    fix.
    """
    center, scale = bbox_xyxy2cs(np.asarray(bbox, np.float32), padding=1.25)
    w, h = scale
    aspect = INPUT_W / INPUT_H
    w, h = (w, w / aspect) if w > h * aspect else (h * aspect, h)
    return center[0] - w / 2, center[1] - h / 2, center[0] + w / 2, center[
        1] + h / 2


def write_video(path, frames, fps=10.0):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()


def read_video(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps


def infer(model, source, box_source, batch_size=16, tracker=None):
    """Per frame ``{frame_index, instances}`` of file inference: the clip
    engine behind :class:`VideoPoseInferencer`."""
    from mgpose_mm.apis.clips import ClipPoseEstimator
    from mgpose_mm.apis.frame_sources import open_input
    estimator = ClipPoseEstimator(model, batch_size, tracker)
    return [
        dict(frame_index=p.frame_index, instances=p.instances)
        for p in estimator(open_input(source), box_source)
    ]


def pose_inferencer(checkpoint, cfg_options=None, config=None):
    """A :class:`VideoPoseInferencer` of the tiny config (with ``cfg_options``)
    and ``checkpoint``, without a detector."""
    from mmengine.config import Config

    from mgpose_mm.apis import VideoPoseInferencer
    cfg = Config.fromfile(config or TINY_CONFIG)
    cfg.merge_from_dict(cfg_options or {})
    return VideoPoseInferencer(
        pose2d=cfg,
        pose2d_weights=checkpoint,
        det_model='whole_image',
        device='cpu')


def save_tiny_checkpoint(path, config=None, seed=0):
    """A random-weight checkpoint of ``config`` (default: the tiny config)
    whose meta holds the PoseTrack18 dataset_meta renamed, to tell it from the
    config's."""
    from mmengine.config import Config
    from mmpose.apis.inference import dataset_meta_from_config
    from mmpose.registry import MODELS

    import mgpose_mm.datasets  # noqa: F401
    config = Config.fromfile(config or TINY_CONFIG)
    torch.manual_seed(seed)
    model = MODELS.build(config.model)
    model.init_weights()
    dataset_meta = dict(
        dataset_meta_from_config(config), dataset_name='posetrack18_from_ckpt')
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': dataset_meta
            }
        }, path)
    return path


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))


@pytest.fixture(scope='module')
def tiny_model(tiny_checkpoint):
    from mgpose_mm.apis import init_video_pose_model
    return init_video_pose_model(TINY_CONFIG, tiny_checkpoint, device='cpu')


@pytest.fixture(scope='module')
def argmax_model(tiny_checkpoint):
    """The tiny model decoding heatmaps by their maximum (MSRAHeatmap without
    DARK): with random weights the heatmaps are nearly flat and UDP's DARK
    refinement can move a keypoint many heatmap pixels; the maximum always lies
    in the heatmap, i.e. in the person's crop."""
    from mgpose_mm.apis import init_video_pose_model
    return init_video_pose_model(
        TINY_CONFIG, tiny_checkpoint, cfg_options=ARGMAX_DECODER)


@pytest.fixture(scope='module')
def argmax_inferencer(tiny_checkpoint):
    return pose_inferencer(tiny_checkpoint, ARGMAX_DECODER)


@pytest.fixture(scope='module')
def tiny_inferencer(tiny_checkpoint):
    return pose_inferencer(tiny_checkpoint)


# -----------------------------------------------------------------------------
# end to end
def test_end_to_end_json_and_video(tmp_path, argmax_inferencer):
    frames, boxes = figure_frames()
    out = str(tmp_path / 'out')
    results = list(
        argmax_inferencer(
            frames,
            bboxes=boxes,
            vis_out_dir=out,
            pred_out_dir=out,
            batch_size=3,
            fps=12))
    assert len(results) == 8 and all(
        len(r['predictions'][0]) == 2 for r in results)
    assert argmax_inferencer.model.dataset_meta[
        'dataset_name'] == 'posetrack18_from_ckpt'

    entries = json.load(open(osp.join(out, 'frames.json')))
    assert [e['frame_id'] for e in entries] == list(range(8))
    num_scored = 0
    for entry, result, frame_boxes in zip(entries, results, boxes):
        # the file holds the yielded predictions (bbox tuples become lists)
        assert entry['instances'] == json.loads(
            json.dumps(result['predictions'][0]))
        assert [inst['track_id']
                for inst in entry['instances']] == [0, 1]  # ids follow people
        for inst, box in zip(entry['instances'], frame_boxes):
            np.testing.assert_allclose(inst['bbox'], [box])  # MMPose: (bbox,)
            keypoints = np.array(inst['keypoints'])
            assert keypoints.shape == (17, 2) and len(
                inst['keypoint_scores']) == 17
            # a heatmap maximum <= 0 is MMPose's "not found" marker at -1 px
            scored = keypoints[np.array(inst['keypoint_scores']) > 0]
            num_scored += len(scored)
            x1, y1, x2, y2 = crop_region(box)
            assert (scored[:, 0] >= x1 - 1e-3).all() and (scored[:, 0] <=
                                                          x2 + 1e-3).all()
            assert (scored[:, 1] >= y1 - 1e-3).all() and (scored[:, 1] <=
                                                          y2 + 1e-3).all()

    assert num_scored > 16 * 17 // 2
    drawn, fps = read_video(osp.join(out, 'frames.mp4'))
    assert len(drawn) == 8 and drawn[0].shape == (FRAME_H, FRAME_W, 3)
    assert fps == pytest.approx(12, abs=0.01)
    # the drawing changed pixels only where people are annotated
    assert np.abs(drawn[3].astype(int) - frames[3].astype(int)).max() > 100
    assert sorted(os.listdir(out)) == ['frames.json', 'frames.mp4']


def test_keypoints_move_with_the_person(argmax_model):
    """Shifting a video (people and boxes) by whole pixels leaves every crop
    unchanged, so the keypoints in image coordinates shift by exactly as much;
    the batch size changes nothing."""
    from mgpose_mm.apis import GivenBoxes
    size, starts, (dx, dy) = (200, 240), ((60, 50), (140, 56)), (6, 4)
    frames, boxes = figure_frames(num_frames=3, starts=starts, size=size)
    shifted, shifted_boxes = figure_frames(
        num_frames=3, starts=[(x + dx, y + dy) for x, y in starts], size=size)
    for box in np.concatenate(shifted_boxes):  # crops stay inside the image
        x1, y1, x2, y2 = crop_region(box)
        assert x1 > 0 and y1 > 0 and x2 < size[1] and y2 < size[0]
    before = infer(argmax_model, frames, GivenBoxes(boxes), batch_size=4)
    one_by_one = infer(argmax_model, frames, GivenBoxes(boxes), batch_size=1)
    for a, b in zip(before, one_by_one):  # batching changes nothing
        np.testing.assert_allclose([i['keypoints'] for i in a['instances']],
                                   [i['keypoints'] for i in b['instances']],
                                   atol=1e-3)
    after = infer(
        argmax_model, shifted, GivenBoxes(shifted_boxes), batch_size=4)
    for frame_before, frame_after in zip(before, after):
        assert len(frame_before['instances']) == 2
        for a, b in zip(frame_before['instances'], frame_after['instances']):
            np.testing.assert_allclose(
                b['keypoints'] - a['keypoints'],
                np.broadcast_to([dx, dy], (17, 2)),
                atol=0.05)
            np.testing.assert_allclose(
                b['keypoint_scores'], a['keypoint_scores'], atol=1e-4)


def _spy_clip_frames(inferencer):
    """Record, per built clip, the (frame value, frame name) of its T
    frames."""
    calls = []
    build = inferencer.clip_builder.build

    def spy(frames, names, bbox, score, frame_index):
        calls.append(
            (frame_index, [int(f[0, 0, 0]) for f in frames], list(names)))
        return build(frames, names, bbox, score, frame_index)

    inferencer.clip_builder.build = spy
    return calls


def test_clips_use_config_offsets_clamped_and_stream(tiny_checkpoint):
    from mgpose_mm.apis import GivenBoxes, init_video_pose_model
    from mgpose_mm.apis.clips import ClipPoseEstimator
    from mgpose_mm.apis.frame_sources import open_input
    model = init_video_pose_model(
        TINY_CONFIG,
        tiny_checkpoint,
        cfg_options={'test_dataloader.dataset.frame_offsets': (-2, 0, 1)})
    frames = [
        np.full((FRAME_H, FRAME_W, 3), 10 * i, np.uint8) for i in range(6)
    ]
    boxes = [np.array([[40, 20, 80, 100]], np.float32)] * 6
    inferencer = ClipPoseEstimator(model, batch_size=1)
    calls = _spy_clip_frames(inferencer)
    read = []

    def lazy_frames():
        for i, frame in enumerate(frames):
            read.append(i)
            yield frame

    predictions = inferencer(open_input(lazy_frames()), GivenBoxes(boxes))
    first = next(predictions)
    assert first.frame_index == 0 and len(
        read) < 6  # results come before the video is read
    rest = list(predictions)
    assert [p.frame_index for p in [first] + rest] == list(range(6))
    expected = [[max(k - 2, 0), k, min(k + 1, 5)] for k in range(6)]
    assert [c[0] for c in calls] == list(range(6))
    assert [c[1] for c in calls] == [[10 * i for i in idx] for idx in expected]
    assert calls[0][2] == ['frames#000000', 'frames#000000', 'frames#000001']


def test_video_shorter_than_clip_is_clamped(tmp_path, tiny_inferencer):
    from mgpose_mm.apis import GivenBoxes
    frames, boxes = figure_frames(num_frames=2, starts=((40, 20), ))
    video = str(tmp_path / 'two.mp4')
    write_video(video, frames)
    calls = _spy_clip_frames(tiny_inferencer.estimator)
    predictions = list(tiny_inferencer.estimate(video, bboxes=boxes))
    assert [len(p.instances) for p in predictions] == [1, 1]
    assert [c[2] for c in calls] == [[f'{video}#{i:06d}' for i in idx]
                                     for idx in ([0, 0, 1], [0, 1, 1])]
    one_frame = str(tmp_path / 'one')
    os.makedirs(one_frame)
    cv2.imwrite(osp.join(one_frame, '000000.png'), frames[0])
    predictions = list(
        tiny_inferencer(one_frame, bboxes=GivenBoxes(boxes[:1])))
    assert len(predictions) == 1 and np.shape(
        predictions[0]['predictions'][0][0]['keypoints']) == (17, 2)


# -----------------------------------------------------------------------------
# bad input
def test_missing_input_empty_folder_and_corrupt_video(tmp_path,
                                                      tiny_inferencer):
    from mgpose_mm.apis import GivenBoxes
    from mgpose_mm.apis.frame_sources import open_input
    missing = str(tmp_path / 'nope.mp4')
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        next(tiny_inferencer(missing, bboxes=GivenBoxes([])))
    empty = tmp_path / 'empty_folder'
    empty.mkdir()
    (empty / 'notes.txt').write_text('no frames here')
    with pytest.raises(ValueError, match='empty_folder holds no image file'):
        open_input(str(empty))
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(os.urandom(2048))
    with pytest.raises(IOError, match='corrupt.mp4'):
        open_input(str(corrupt))
    zero = tmp_path / 'zero.avi'
    zero.write_bytes(b'')
    with pytest.raises(IOError, match='zero.avi'):
        open_input(str(zero))
    with pytest.raises(
            ValueError,
            match='bboxes lists 1 frames of the video but the input has 8'):
        list(
            tiny_inferencer(
                figure_frames()[0], bboxes=GivenBoxes([np.zeros((0, 4))])))


def test_frames_without_detections_and_boxes_outside(tmp_path,
                                                     tiny_inferencer):
    frames, boxes = figure_frames(num_frames=4, starts=((40, 20), ))
    given = [
        boxes[0],
        np.zeros((0, 4)),  # nobody
        np.array([[-30, -10, 50, 90], [200, 10, 260,
                                       90]]),  # partly / wholly outside
        np.array([[50, 30, 50, 90]])
    ]  # no width
    with pytest.warns(UserWarning, match='frame 2: dropped 1 person box'):
        list(
            tiny_inferencer(
                frames,
                bboxes=given,
                vis_out_dir=str(tmp_path),
                pred_out_dir=str(tmp_path)))
    entries = json.load(open(tmp_path / 'frames.json'))
    assert [len(e['instances']) for e in entries] == [1, 0, 1, 0]
    assert entries[2]['instances'][0]['bbox'] == [[0, 0, 50,
                                                   90]]  # clipped to the image
    assert len(read_video(str(tmp_path / 'frames.mp4'))[0]) == 4


def test_checkpoint_of_another_config_names_keys(tmp_path):
    from mgpose_mm.apis import init_video_pose_model
    from mgpose_mm.errors import CheckpointMismatchError
    other = save_tiny_checkpoint(
        str(tmp_path / 'single_frame.pth'), SINGLE_FRAME_CONFIG)
    with pytest.raises(
            CheckpointMismatchError,
            match=r'12 missing keys: head\.fusion\.depthwise_conv\.conv\.'
            r'weight, .*18 unexpected keys: head\.temporal_layers\.0'):
        init_video_pose_model(TINY_CONFIG, other)
    state = torch.load(
        save_tiny_checkpoint(str(tmp_path / 'tiny.pth')),
        weights_only=False)['state_dict']
    state['head.extra.weight'] = torch.zeros(3)
    del state['head.fusion.pointwise_conv.conv.weight']
    state['head.final_layer.weight'] = state['head.final_layer.weight'][:5]
    torch.save({'state_dict': state}, str(tmp_path / 'edited.pth'))
    with pytest.raises(
            CheckpointMismatchError,
            match=r'1 missing keys: head\.fusion\.pointwise_conv\.conv\.'
            r'weight; 1 unexpected keys: head\.extra\.weight; 1 shape '
            r'mismatches: head\.final_layer\.weight \(checkpoint \(5, '):
        init_video_pose_model(TINY_CONFIG, str(tmp_path / 'edited.pth'))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        init_video_pose_model(TINY_CONFIG, str(tmp_path / 'absent.pth'))


def test_failed_run_keeps_existing_outputs(tmp_path, tiny_inferencer):
    frames, boxes = figure_frames()
    out_video, out_json = tmp_path / 'frames.mp4', tmp_path / 'frames.json'
    out_video.write_bytes(b'previous video')
    out_json.write_text('{"previous": true}')

    def frames_failing_midway():
        for i, frame in enumerate(frames):
            if i == 5:
                raise IOError('decoder failed at frame 5')
            yield frame

    with pytest.raises(IOError, match='frame 5'):
        list(
            tiny_inferencer(
                frames_failing_midway(),
                bboxes=boxes,
                batch_size=2,
                vis_out_dir=str(tmp_path),
                pred_out_dir=str(tmp_path)))
    assert out_video.read_bytes() == b'previous video'
    assert out_json.read_text() == '{"previous": true}'
    assert sorted(os.listdir(tmp_path)) == ['frames.json', 'frames.mp4'
                                            ]  # no temporary files left
