"""Person box sources: IoU tracking, COCO detection-results files and the
MMDetection detector, checked against the boxes they must give."""
import json

import numpy as np
import pytest
import torch
from conftest import TINY_CONFIG
from test_apis import figure_frames, infer, save_tiny_checkpoint


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    from mgpose_mm.apis import init_video_pose_model
    return init_video_pose_model(
        TINY_CONFIG,
        save_tiny_checkpoint(str(tmp_path_factory.mktemp('ckpt') / 't.pth')))


def test_tracker_keeps_ids_through_gaps():
    from mgpose_mm.apis import IoUTracker
    tracker = IoUTracker(iou_thr=0.3, max_age=2)
    a, b = np.array([0, 0, 10, 20.]), np.array([50, 0, 60, 20.])
    assert tracker.update(np.stack([a, b])).tolist() == [0, 1]
    assert tracker.update(np.stack([b + 1, a + 1
                                    ])).tolist() == [1, 0]  # order-independent
    assert tracker.update(np.zeros((0, 4))).tolist() == []
    assert tracker.update(np.stack(
        [a])).tolist() == [0]  # b lost for 2 frames so far
    assert tracker.update(np.stack(
        [a, b])).tolist() == [0, 1]  # within max_age: same id
    for _ in range(3):
        tracker.update(np.stack([a]))
    assert tracker.update(np.stack([a, b
                                    ])).tolist() == [0, 2
                                                     ]  # lost too long: new id


def _write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


def test_detection_results_json_gives_its_boxes(tmp_path, tiny_model):
    from mgpose_mm.apis import DetectionResultsBoxes
    dets = [  # PoseTrack frame ids of vid_id 000042; frame 2 has no detection
        dict(
            image_id=10000420000,
            bbox=[30, 20, 30, 80],
            score=0.9,
            category_id=1),
        dict(
            image_id=10000420000,
            bbox=[100, 10, 20, 60],
            score=0.4,
            category_id=1),
        dict(
            image_id=10000420001,
            bbox=[33, 21, 30, 80],
            score=0.8,
            category_id=1),
        dict(
            image_id=10000420003,
            bbox=[36, 22, 30, 80],
            score=0.7,
            category_id=1),
        dict(
            image_id=10000420003,
            bbox=[0, 0, 50, 50],
            score=0.99,
            category_id=3),  # not person
        dict(
            image_id=10000990001, bbox=[1, 1, 5, 5], score=0.9,
            category_id=1),  # other video
    ]
    det_file = _write_json(tmp_path / 'dets.json', dets)
    with pytest.raises(ValueError, match='2 videos'):
        DetectionResultsBoxes(det_file)
    hinted = DetectionResultsBoxes(
        det_file, video_hint='000042_mpii_test')  # PoseTrack folder
    assert sorted(hinted.by_frame) == [0, 1, 3]
    frames, _ = figure_frames(num_frames=4)
    results = infer(tiny_model, frames,
                    DetectionResultsBoxes(det_file, video='000042'))
    got = [[inst['bbox'].tolist() for inst in r['instances']] for r in results]
    assert got == [[[30, 20, 60, 100], [100, 10, 120, 70]], [[33, 21, 63,
                                                              101]], [],
                   [[36, 22, 66, 102]]]
    assert [inst['bbox_score']
            for inst in results[0]['instances']] == pytest.approx([0.9, 0.4])

    # the same frames through an annotation file's images (frame = number in
    # file_name)
    images = [
        dict(
            id=500 + i,
            file_name=f'images/val/000042_x/{i:06d}.jpg',
            vid_id='000042') for i in range(4)
    ]
    images += [
        dict(
            id=900 + i,
            file_name=f'images/val/000099_y/{i:06d}.jpg',
            vid_id='000099') for i in range(2)
    ]
    ann_file = _write_json(tmp_path / 'ann.json', dict(images=images))
    renumbered = [
        dict(d, image_id=500 + d['image_id'] % 10000) for d in dets[:4]
    ]
    det_file2 = _write_json(tmp_path / 'dets2.json', renumbered)
    with pytest.raises(ValueError, match='ann.json holds 2 videos'):
        DetectionResultsBoxes(det_file2, ann_file=ann_file)
    source = DetectionResultsBoxes(
        det_file2, ann_file=ann_file, video_hint='000042_x', bbox_thr=0.5)
    bboxes, scores = source(0, frames[0])
    np.testing.assert_allclose(bboxes,
                               [[30, 20, 60, 100]])  # 0.4 is under bbox_thr
    np.testing.assert_allclose(scores, [0.9])
    source.finish(4)
    with pytest.raises(
            ValueError, match='frame 3 but the input has only 3 frames'):
        source.finish(3)
    with pytest.raises(ValueError, match='none of the'):
        DetectionResultsBoxes(det_file, image_ids=[7, 8, 9])


def test_mmdet_rtmdet_boxes(tmp_path, tiny_model):
    from mmdet.apis import inference_detector
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope

    from mgpose_mm.apis import MMDetBoxes
    from mgpose_mm.apis.boxes import clip_boxes_to_image, select_boxes
    cfg = get_config('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py')
    cfg.model.backbone.init_cfg = None  # no ImageNet download
    # a small input keeps the test fast
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (160, 160)
        if step['type'] == 'Pad':
            step['size'] = (160, 160)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MMDET_MODELS.build(cfg.model)
    detector.init_weights()
    # random weights give near-constant scores and empty boxes: spread both for
    # the test
    for module in detector.bbox_head.cls_convs.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=1.0)
    with torch.no_grad():
        for cls_conv, reg_conv in zip(detector.bbox_head.rtm_cls,
                                      detector.bbox_head.rtm_reg):
            torch.nn.init.normal_(cls_conv.weight, std=1.0)
            cls_conv.bias[0] = 0.0
            reg_conv.bias.fill_(2.0)
    det_checkpoint = str(tmp_path / 'rtmdet_tiny_random.pth')
    torch.save({'state_dict': detector.state_dict()}, det_checkpoint)
    det_config = str(tmp_path / 'rtmdet_tiny.py')
    cfg.dump(det_config)

    scope_before = DefaultScope.get_current_instance().scope_name
    source = MMDetBoxes(det_config, det_checkpoint, device='cpu')
    assert DefaultScope.get_current_instance().scope_name == scope_before
    frames, _ = figure_frames(num_frames=2)
    with DefaultScope.overwrite_default_scope('mmdet'):
        raw = inference_detector(source.detector.model,
                                 frames[0]).pred_instances.cpu().numpy()
    person = raw.labels == 0
    assert person.sum() > 4
    threshold = float(np.median(raw.scores[person]))
    source.bbox_thr = threshold
    bboxes, scores = source(0, frames[0])
    expected_boxes, expected_scores = select_boxes(raw.bboxes[person],
                                                   raw.scores[person],
                                                   threshold, 0.3)
    assert bboxes.shape == (len(expected_boxes),
                            4) and scores.shape == (len(expected_boxes), )
    assert 0 < len(bboxes) < person.sum() and (scores > threshold).all()
    np.testing.assert_allclose(bboxes, expected_boxes)

    results = infer(tiny_model, frames, source, batch_size=64)
    kept, _ = clip_boxes_to_image(bboxes, scores, frames[0].shape[:2], 0)
    assert len(results) == 2 and len(kept) > 0
    np.testing.assert_allclose(
        [inst['bbox'] for inst in results[0]['instances']], kept)
    source.bbox_thr = 1.0  # no score above it: no box
    bboxes, scores = source(0, frames[0])
    assert bboxes.shape == (0, 4) and scores.shape == (0, )
