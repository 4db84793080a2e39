"""Person boxes per frame: boxes passed in, an MMDetection detector, or a
detection-results JSON.

A box source is called once per frame, in time order, as ``source(frame_index, frame)`` and
returns ``(bboxes, scores)``: float32 arrays of shape (N, 4) (x1, y1, x2, y2 in image pixels) and
(N,). ``source.finish(num_frames)`` is called after the last frame and raises when the source
described another number of frames. Boxes are clipped to the image afterwards by
:func:`clip_boxes_to_image` (boxes with no area left are dropped with a warning).
"""
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
from mmengine.registry import DefaultScope
from mmpose.evaluation.functional import nms

from mgpose_mm.engine import trusted_checkpoints
from mgpose_mm.errors import InputDataError
from .detection_results import load_detection_frames, match_frames
from .mmdet_models import resolve_mmdet_config

Boxes = Tuple[np.ndarray, np.ndarray]


def empty_boxes() -> Boxes:
    return np.zeros((0, 4), np.float32), np.zeros((0, ), np.float32)


def select_boxes(bboxes: np.ndarray, scores: np.ndarray,
                 bbox_thr: Optional[float], nms_thr: Optional[float]) -> Boxes:
    """Keep boxes with ``score > bbox_thr`` then apply MMPose's greedy NMS at
    ``nms_thr`` (as MMPose's ``demo/topdown_demo_with_mmdet.py``); None
    disables a step."""
    if bbox_thr is not None:
        keep = scores > bbox_thr
        bboxes, scores = bboxes[keep], scores[keep]
    if nms_thr is not None and len(bboxes):
        keep = nms(np.concatenate([bboxes, scores[:, None]], axis=1), nms_thr)
        bboxes, scores = bboxes[keep], scores[keep]
    return bboxes.astype(np.float32), scores.astype(np.float32)


def clip_boxes_to_image(bboxes: np.ndarray, scores: np.ndarray,
                        image_shape: Tuple[int,
                                           int], frame_index: int) -> Boxes:
    """Clip xyxy boxes to the image ``[0, W] x [0, H]``; drop boxes with no
    area left.

    A box partly outside the image is cut at the border (the crop then covers
    its visible part). A box wholly outside, or degenerate (x2 <= x1 or y2 <=
    y1), has no area after clipping and is dropped with a ``UserWarning``
    naming the frame. Non-finite coordinates raise.
    """
    if not len(bboxes):
        return bboxes, scores
    if not np.isfinite(bboxes).all():
        raise ValueError(
            f'frame {frame_index}: person boxes contain NaN or infinite values'
        )
    height, width = image_shape[:2]
    clipped = bboxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    valid = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    if not valid.all():
        dropped = bboxes[~valid].round(1).tolist()
        warnings.warn(
            f'frame {frame_index}: dropped {len(dropped)} person box(es) with no area '
            f'inside the {width}x{height} image: {dropped}')
    return clipped[valid], scores[valid]


class BoxSource:
    """Base class of the per-frame person box sources."""

    def start(self, frames) -> None:
        """Called with the :class:`~mgpose_mm.apis.FrameSource` before its
        first frame."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        raise TypeError(f'{type(self).__name__} does not implement __call__')

    def finish(self, num_frames: int) -> None:
        """Called with the number of frames read, after the last one."""


class GivenBoxes(BoxSource):
    """Boxes passed in: one (N, 4) xyxy array per frame (N may be 0), optional
    scores.

    Args:
        boxes (Sequence): per frame, an array-like of shape (N, 4) (x1, y1, x2, y2).
        scores (Sequence, optional): per frame, N scores. Defaults to ones.
    """

    def __init__(self, boxes: Sequence, scores: Optional[Sequence] = None):
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(
                f'{len(boxes)} frames of boxes but {len(scores)} frames of scores'
            )
        self.boxes, self.scores = [], []
        for index, frame_boxes in enumerate(boxes):
            frame_boxes = np.asarray(frame_boxes, dtype=np.float32)
            if frame_boxes.size == 0:
                frame_boxes = frame_boxes.reshape(0, 4)
            if frame_boxes.ndim != 2 or frame_boxes.shape[1] != 4:
                raise ValueError(
                    f'boxes of frame {index} must have shape (N, 4) as x1, y1, x2, '
                    f'y2; got {frame_boxes.shape}')
            frame_scores = (
                np.ones(len(frame_boxes), np.float32) if scores is None else
                np.asarray(scores[index], dtype=np.float32).reshape(-1))
            if len(frame_scores) != len(frame_boxes):
                raise ValueError(
                    f'frame {index}: {len(frame_boxes)} boxes but '
                    f'{len(frame_scores)} scores')
            self.boxes.append(frame_boxes)
            self.scores.append(frame_scores)

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        if frame_index >= len(self.boxes):
            raise ValueError(
                f'boxes were given for {len(self.boxes)} frames but the input has '
                f'more (frame {frame_index})')
        return self.boxes[frame_index].copy(), self.scores[frame_index].copy()

    def finish(self, num_frames: int) -> None:
        if num_frames != len(self.boxes):
            raise ValueError(
                f'boxes were given for {len(self.boxes)} frames but the input has '
                f'{num_frames} frames')


class DetectionResultsBoxes(BoxSource):
    """Boxes from a COCO detection-results JSON (``[{image_id, bbox: xywh,
    score, category_id}]``), e.g. PoseTrack's
    ``posetrack18_val_human_detections.json``.

    How frames map to image ids is described in :func:`load_detection_results`.

    Args:
        det_file (str): the results JSON.
        ann_file (str, optional): COCO-style annotation JSON whose ``images`` map ids to frames.
        video (str, optional): the video among several (``vid_id`` or folder name).
        video_hint (str, optional): input name used to pick the video when ``video`` is None.
        image_ids (Sequence[int], optional): image id of every frame, in order.
        category_id (int): person category. Defaults to 1.
        bbox_thr (float, optional): keep ``score > bbox_thr``. Defaults to None (keep all).
        nms_thr (float, optional): NMS IoU threshold. Defaults to None (no NMS).
    """

    def __init__(self,
                 det_file: str,
                 ann_file: Optional[str] = None,
                 video: Optional[str] = None,
                 image_ids: Optional[Sequence[int]] = None,
                 category_id: int = 1,
                 bbox_thr: Optional[float] = None,
                 nms_thr: Optional[float] = None,
                 video_hint: Optional[str] = None):
        self.det_file = det_file
        self.by_number, self.video_numbers = load_detection_frames(
            det_file,
            ann_file=ann_file,
            video=video,
            image_ids=image_ids,
            category_id=category_id,
            video_hint=video_hint)
        # frame numbers are taken as positions until start() sees the input
        self.by_frame = dict(self.by_number)
        self.expected_frames = None
        self.bbox_thr, self.nms_thr = bbox_thr, nms_thr

    def start(self, frames) -> None:
        """Place the detections' frame numbers on the frames of ``frames`` (a
        FrameSource), the same way for folders, image lists and videos (see
        :mod:`.detection_results`)."""
        file_numbers = frames.frame_numbers()
        count = frames.num_frames if file_numbers is None else len(
            file_numbers)
        names = [frames.frame_name(i) for i in range(count or 0)]
        index_of = match_frames(
            list(self.by_number), file_numbers, self.video_numbers, names,
            self.det_file, frames.name)
        self.by_frame = {
            index_of[number]: boxes
            for number, boxes in self.by_number.items()
        }
        self.expected_frames = (
            len(self.video_numbers) if self.video_numbers is not None
            and file_numbers is None else None)

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        if frame_index not in self.by_frame:
            return empty_boxes()
        bboxes, scores = self.by_frame[frame_index]
        return select_boxes(bboxes.copy(), scores.copy(), self.bbox_thr,
                            self.nms_thr)

    def finish(self, num_frames: int) -> None:
        if self.expected_frames is not None and num_frames != self.expected_frames:
            raise InputDataError(
                f'the annotation file lists {self.expected_frames} frames of the video but the '
                f'input has {num_frames}: frames cannot be matched by position; give the frames '
                'as a folder of numbered image files')
        beyond = sorted(index for index in self.by_frame
                        if index >= num_frames)
        if beyond:
            raise InputDataError(
                f'{self.det_file} has detections for frame {beyond[0]} but the input has only '
                f'{num_frames} frames: detections and input do not match')


class MMDetBoxes(BoxSource):
    """Person boxes from an MMDetection detector, as MMPose's
    ``topdown_demo_with_mmdet.py``: ``inference_detector`` on each frame, keep
    label ``det_cat_id`` with ``score > bbox_thr``, then MMPose's NMS at
    ``nms_thr``.

    Args:
        det_config (str | Config | nn.Module): detector config: a file, or an MMDetection name
            such as ``'rtmdet_tiny_8xb32-300e_coco'`` (see :func:`resolve_mmdet_config`); or a
            detector built by ``mmdet.apis.init_detector``.
        det_checkpoint (str, optional): detector weights (file or URL). Defaults to the model
            zoo's weights for an MMDetection model name, else random weights.
        device (str): Defaults to ``'cpu'``.
        det_cat_id (int): person label of the detector (0 for COCO). Defaults to 0.
        bbox_thr (float): Defaults to 0.3. nms_thr (float): Defaults to 0.3.
        trust_checkpoint (bool): allow a full unpickle of a detector checkpoint holding other
            types than weights and MMEngine checkpoint data (it can run code from the file).
            Defaults to False.
    """

    def __init__(self,
                 det_config,
                 det_checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 det_cat_id: int = 0,
                 bbox_thr: float = 0.3,
                 nms_thr: float = 0.3,
                 trust_checkpoint: bool = False):
        from mmdet.apis import init_detector
        from mmpose.utils import adapt_mmdet_pipeline
        if hasattr(det_config, 'cfg') and hasattr(det_config, 'test_step'):
            detector = det_config
        else:
            if isinstance(det_config, str):
                det_config, det_checkpoint = resolve_mmdet_config(
                    det_config, det_checkpoint)
            # init_detector switches the global default scope to mmdet: keep it local
            with DefaultScope.overwrite_default_scope('mmdet'), \
                    trusted_checkpoints(trust_checkpoint):
                detector = init_detector(
                    det_config, det_checkpoint, device=device)
        detector.cfg = adapt_mmdet_pipeline(detector.cfg)
        self.detector = detector
        self.scope = detector.cfg.get('default_scope', 'mmdet')
        self.det_cat_id, self.bbox_thr, self.nms_thr = det_cat_id, bbox_thr, nms_thr

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope(self.scope):
            pred = inference_detector(self.detector,
                                      frame).pred_instances.cpu().numpy()
        person = pred.labels == self.det_cat_id
        return select_boxes(pred.bboxes[person].astype(np.float32),
                            pred.scores[person].astype(np.float32),
                            self.bbox_thr, self.nms_thr)
