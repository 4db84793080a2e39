"""Person boxes per frame: boxes passed in, a boxes file, a COCO detection-
results file or the whole image (the detector is in :mod:`.models`).

A box source is called once per frame, in order, as ``source(frame_index,
frame)`` and returns ``(bboxes (N, 4) xyxy pixels, scores (N,))`` float32.
``start(frames)`` and ``finish(num_frames)`` raise :class:`InputDataError`
when the source has boxes for frames the input does not have. The boxes are
then clipped to the image (:func:`clip_boxes_to_image`).

**Boxes file** (:class:`GivenBoxes`, used as given): ``{"frame index":
[[x1, y1, x2, y2(, score)], ...]}`` (frames from 0; frames not listed have no
person), or a list whose item i holds frame i's boxes.

**Detection results** (:class:`DetectionResultsBoxes`): a COCO results list
(``image_id``, ``bbox`` xywh, ``score``, ``category_id``). An ``image_id``'s
frame number comes from ``image_ids`` (positions), else an ``ann_file``'s
``file_name`` number (a folder frame is the file with that number, the k-th
video frame the k-th image of the file), else PoseTrack's ``frame_id``
``int(f"1{vid_id}{frame:04d}")`` (positions). ``video`` (``vid_id`` or folder
name), else ``video_hint`` (the input's name or its part before the first
``_``), picks one video of several.
"""
import numbers
import os
import os.path as osp
import warnings
from collections import defaultdict
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmpose.evaluation.functional import nms
from mmpose.structures.bbox import bbox_xywh2xyxy

from mgpose_mm.errors import InputDataError
from mgpose_mm.utils import frame_number, load_json

Boxes = Tuple[np.ndarray, np.ndarray]


def to_boxes(rows, where: str, corners: bool = False) -> Boxes:
    """``(bboxes (N, 4), scores (N,))`` of rows ``[x1, y1, x2, y2(, score)]``
    (score 1 when absent); errors name ``where`` and the box.

    ``corners``:
    also require x2 > x1 and y2 > y1.
    """
    for number, box in enumerate(rows):
        if not isinstance(box, (list, tuple, np.ndarray)) or \
                len(box) not in (4, 5) or not all(
                    isinstance(v, numbers.Real) and not isinstance(v, bool)
                    for v in box):
            raise InputDataError(f'{where}, box {number}: expected [x1, y1, '
                                 f'x2, y2, score] (4 or 5 numbers), got '
                                 f'{box!r}')
        if not np.isfinite(box).all():
            raise InputDataError(
                f'{where}, box {number}: values must be finite, got {box!r}')
        if corners and (box[2] <= box[0] or box[3] <= box[1]):
            raise InputDataError(
                f'{where}, box {number}: needs x2 > x1 and y2 > y1 (corners '
                f'[x1, y1, x2, y2], not [x, y, w, h]?), got {box!r}')
    array = np.array([[*box[:4], box[4] if len(box) == 5 else 1.0]
                      for box in rows], np.float32).reshape(-1, 5)
    return array[:, :4].copy(), array[:, 4].copy()


def select_boxes(bboxes: np.ndarray, scores: np.ndarray,
                 bbox_thr: Optional[float], nms_thr: Optional[float]) -> Boxes:
    """Keep boxes with ``score > bbox_thr``, then MMPose's greedy NMS at
    ``nms_thr`` (as MMPose's ``topdown_demo_with_mmdet.py``); None skips a
    step."""
    if bbox_thr is not None:
        bboxes, scores = bboxes[scores > bbox_thr], scores[scores > bbox_thr]
    if nms_thr is not None and len(bboxes):
        keep = nms(np.concatenate([bboxes, scores[:, None]], axis=1), nms_thr)
        bboxes, scores = bboxes[keep], scores[keep]
    return bboxes.astype(np.float32), scores.astype(np.float32)


def clip_boxes_to_image(bboxes: np.ndarray, scores: np.ndarray,
                        image_shape: Tuple[int,
                                           int], frame_index: int) -> Boxes:
    """Clip (N, 4) xyxy boxes to the image ``[0, W] x [0, H]``.

    A box partly outside is cut at the border (the crop covers its visible
    part); a box with no area left (wholly outside, or x2 <= x1, y2 <= y1) is
    dropped with a ``UserWarning`` naming the frame. Non-finite values raise.
    """
    if not np.isfinite(bboxes).all():
        raise InputDataError(f'frame {frame_index}: person boxes contain NaN '
                             'or infinite values')
    height, width = image_shape[:2]
    clipped = bboxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    valid = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    if not valid.all():
        warnings.warn(f'frame {frame_index}: dropped {(~valid).sum()} person '
                      f'box(es) with no area inside the {width}x{height} '
                      f'image: {bboxes[~valid].round(1).tolist()}')
    return clipped[valid], scores[valid]


class BoxSource:
    """Boxes per frame index from ``by_frame`` (frames absent: no person).

    Attributes:
        name (str): the source, in messages.
        by_frame (dict): ``{frame index: (bboxes (N, 4), scores (N,))}``.
        num_frames (int | None): the input length the source describes.
    """
    name = 'the boxes'
    num_frames: Optional[int] = None

    def __init__(self, by_frame: Optional[Dict[int, Boxes]] = None):
        self.by_frame = by_frame or {}

    def start(self, frames) -> None:
        """Called with the :class:`FrameSource` before its first frame."""
        if frames.num_frames and not hasattr(frames, 'stop'):
            self._check_frames(frames.num_frames, exact=False)

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        bboxes, scores = self.by_frame.get(frame_index, (np.zeros(
            (0, 4), np.float32), np.zeros(0, np.float32)))
        return bboxes.copy(), scores.copy()

    def finish(self, num_frames: int) -> None:
        """Called with the number of frames read, after the last one."""
        self._check_frames(num_frames, exact=True)

    def _check_frames(self, num_frames: int, exact: bool) -> None:
        if exact and self.num_frames not in (None, num_frames):
            raise InputDataError(f'{self.name} lists {self.num_frames} frames '
                                 f'of the video but the input has '
                                 f'{num_frames}')
        beyond = [index for index in self.by_frame if index >= num_frames]
        if beyond:
            raise InputDataError(
                f'{self.name} has boxes for frame {min(beyond)} but the input '
                f'has only {num_frames} frames: boxes and input do not match')


class WholeImageBoxes(BoxSource):
    """One box per frame covering the image, score 1 (as MMPose)."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        height, width = frame.shape[:2]
        return (np.array([[0, 0, width, height]],
                         np.float32), np.ones(1, np.float32))


class GivenBoxes(BoxSource):
    """Boxes used as given (no threshold, no NMS): per frame an array-like (N,
    4) xyxy or (N, 5) xyxy + score (score 1 when absent; N may be 0).

    Args:
        boxes (list | dict | str): a list with one item per frame of the
            input, a dict ``{frame index: boxes}`` (frames absent: no person)
            or a boxes JSON file holding either (module docstring; a box with
            x2 <= x1 or y2 <= y1 is an error there, else dropped).
    """

    def __init__(self, boxes):
        super().__init__()
        self.name, from_file = 'bboxes', isinstance(boxes, (str, os.PathLike))
        if from_file:
            self.name, boxes = str(boxes), load_json(boxes, 'boxes file')
            if not isinstance(boxes, (list, dict)):
                raise InputDataError(
                    f'{self.name}: expected a JSON object {{"frame index": '
                    '[[x1, y1, x2, y2, score], ...]} (or a list with one '
                    f'entry per frame), got {type(boxes).__name__}')
        elif not isinstance(boxes, dict):
            self.num_frames = len(boxes)
        for key, rows in (boxes.items()
                          if isinstance(boxes, dict) else enumerate(boxes)):
            if not str(key).strip().isdigit():
                raise InputDataError(f'{self.name}: frame index {key!r} is '
                                     'not a non-negative integer (keys are '
                                     'frame numbers counted from 0)')
            frame = int(str(key).strip())
            if frame in self.by_frame:
                raise InputDataError(
                    f'{self.name}: frame {frame} is listed twice')
            if not isinstance(rows, (list, tuple, np.ndarray)):
                raise InputDataError(
                    f'{self.name}: frame {frame}: expected a list of boxes '
                    f'[x1, y1, x2, y2, score], got {type(rows).__name__}')
            self.by_frame[frame] = to_boxes(
                rows, f'{self.name}: frame {frame}', corners=from_file)


def _one_video(entries: Dict, video: Optional[str], hint: Optional[str],
               where: str) -> Dict[int, int]:
    """``{image_id: frame number}`` of one video of ``entries`` (``{image_id:
    (video names, frame number)}``), chosen by ``video`` or ``hint``."""
    videos = sorted({names[0] for names, _ in entries.values()})
    if video is None and len(videos) > 1 and hint:
        hinted = {
            names[0]
            for names, _ in entries.values()
            if {hint, hint.split('_')[0]} & set(names)
        }
        video = hinted.pop() if len(hinted) == 1 else None
    if video is None and len(videos) > 1:
        raise InputDataError(
            f'{where} holds {len(videos)} videos ({", ".join(videos[:5])}'
            '...): choose one with video= (demo: --video-id)')
    chosen = {
        image_id: number
        for image_id, (names, number) in entries.items()
        if video is None or str(video) in names
    }
    if not chosen:
        raise InputDataError(f'{where} has no image of video {video!r}')
    return chosen


def _ann_file_entries(ann_file: str) -> Dict:
    """``{image id: ((vid_id or folder, folder), file_name number)}``."""
    images = (load_json(ann_file, 'annotation file') or {}).get('images')
    if not images:
        raise InputDataError(f'annotation file {ann_file} has no "images"')
    entries = {}
    for image in images:
        folder = osp.basename(osp.dirname(image['file_name']))
        number = frame_number(image['file_name'])
        if number is None:
            raise InputDataError(f'{ann_file}: no frame number in file_name '
                                 f'{image["file_name"]!r}')
        entries[image['id']] = ((str(image.get('vid_id',
                                               folder)), folder), number)
    return entries


def _frame_id_entries(image_ids) -> Dict:
    """``{image id: ((vid_id,), frame)}`` of PoseTrack frame ids."""
    entries = {}
    for image_id in image_ids:
        text = str(int(image_id))
        if len(text) < 6 or text[0] != '1':
            raise InputDataError(
                f'image_id {image_id} does not follow the PoseTrack frame_id '
                'convention 1<vid_id><frame:04d>; pass image_ids or ann_file '
                'instead')
        entries[image_id] = ((text[1:-4], ), int(text[-4:]))
    return entries


class DetectionResultsBoxes(BoxSource):
    """Boxes from a COCO detection-results JSON (``[{image_id, bbox: xywh,
    score, category_id}]``), e.g. PoseTrack's
    ``posetrack18_val_human_detections.json``; frame numbers as in the module
    docstring.

    Args:
        det_file (str): the results JSON.
        ann_file (str, optional): COCO-style annotation JSON whose ``images``
            map ids to frame numbers.
        video (str, optional): the video among several (``vid_id`` or folder).
        image_ids (Sequence[int], optional): image id of every frame.
        category_id (int): person category. Defaults to 1.
        bbox_thr (float, optional): keep ``score > bbox_thr``. Defaults to
            None (all).
        nms_thr (float, optional): NMS IoU threshold. Defaults to None (none).
        video_hint (str, optional): input name picking the video when
            ``video`` is None.
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
        detections = load_json(det_file, 'detection results file')
        if not isinstance(detections, list) or not all(
                isinstance(d, dict) and 'image_id' in d
                and isinstance(d.get('bbox'), list) for d in detections):
            raise InputDataError(
                f'{det_file} must hold a list of detections {{"image_id", '
                '"bbox": [x, y, w, h], "score", "category_id"}')
        detections = [
            d for d in detections
            if d.get('category_id', category_id) == category_id
        ]
        # file numbers (ann_file) are matched to frame files by number, to
        # video frames by rank; positions are frame indices
        self.video_numbers = numbers = None
        if image_ids is not None:
            numbers = {image_id: n for n, image_id in enumerate(image_ids)}
        elif ann_file is not None:
            where = f'annotation file {ann_file}'
            numbers = _one_video(
                _ann_file_entries(ann_file), video, video_hint, where)
            if len(set(numbers.values())) < len(numbers):
                raise InputDataError(
                    f'{ann_file}: several images are the same frame number; '
                    'choose one video with video= (demo: --video-id)')
            self.video_numbers = sorted(numbers.values())
        elif detections:
            numbers = _one_video(
                _frame_id_entries({d['image_id']
                                   for d in detections}), video, video_hint,
                det_file)
        rows = defaultdict(list)
        for d in detections:
            if d['image_id'] in (numbers or {}):
                rows[numbers[d['image_id']]].append(
                    [*d['bbox'][:4], d.get('score', 1.0)])
        if detections and not rows:
            raise InputDataError(
                f'none of the {len(detections)} person detections in '
                f'{det_file} belongs to the selected frames: check image_ids '
                '/ ann_file / video')
        super().__init__()
        self.name, self.bbox_thr, self.nms_thr = det_file, bbox_thr, nms_thr
        for number in sorted(rows):
            bboxes, scores = to_boxes(rows[number],
                                      f'{det_file}: frame {number}')
            self.by_frame[number] = (bbox_xywh2xyxy(bboxes), scores)
        self.by_number = dict(self.by_frame)

    def start(self, frames) -> None:
        """Place the frame numbers on the frames of ``frames``."""
        self.by_frame = {
            index: self.by_number[number]
            for number, index in self._frame_indices(frames).items()
        }
        if self.video_numbers is not None and frames.frame_numbers() is None:
            self.num_frames = len(self.video_numbers)
        super().start(frames)

    def _frame_indices(self, frames) -> Dict[int, int]:
        """``{frame number: input frame index}`` of the detections."""
        files = frames.frame_numbers()
        if self.video_numbers is None:  # positions
            gaps = [(a, b) for a, b in zip(files or [], (files or [])[1:])
                    if a is None or b != a + 1]
            if gaps and None not in files:
                raise InputDataError(
                    f'{self.name} numbers frames by their position in the '
                    'video (PoseTrack frame_id or image_ids) but the frame '
                    f'files of {frames.name} are numbered with gaps (e.g. '
                    f'{gaps[0][0]} then {gaps[0][1]}); pass the annotation '
                    'file (ann_file, demo: --det-ann-file) to match frames by '
                    'file name')
            return {number: number for number in self.by_number}
        if files is None:  # a video: the k-th image of the annotation file
            rank = {n: k for k, n in enumerate(self.video_numbers)}
            return {number: rank[number] for number in self.by_number}
        if None in files:
            raise InputDataError(
                f'cannot match {self.name} to {frames.name}: the input file '
                f'{frames.frame_name(files.index(None))} has no number at the '
                'end of its name')
        index_of = {number: index for index, number in enumerate(files)}
        absent = sorted(set(self.by_number) - set(index_of))
        if len(index_of) < len(files) or absent:
            raise InputDataError(
                f'{self.name} has detections for frame number(s) '
                f'{absent[:5]} but {frames.name} has no frame file with these '
                f'numbers (its files are numbered {min(files)} to '
                f'{max(files)}, {len(files) - len(index_of)} twice)')
        return {number: index_of[number] for number in self.by_number}

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        return select_boxes(*super().__call__(frame_index, frame),
                            self.bbox_thr, self.nms_thr)


def boxes_from(bboxes) -> BoxSource:
    """The :class:`BoxSource` of the inferencer's ``bboxes`` argument."""
    return bboxes if isinstance(bboxes, BoxSource) else GivenBoxes(bboxes)
