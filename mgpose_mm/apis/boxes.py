"""Person boxes per frame: boxes passed in, your own boxes file, a COCO
detection-results file, or an MMDetection detector.

A box source is called once per frame, in time order, as ``source(frame_index,
frame)`` and returns ``(bboxes, scores)``: float32 arrays of shape (N, 4) (x1,
y1, x2, y2 in image pixels) and (N,). ``source.start(frames)`` is called with
the :class:`~mgpose_mm.apis.FrameSource` before its first frame,
``source.finish(num_frames)`` after the last one (it raises when the source
described another number of frames). Boxes are clipped to the image afterwards
by :func:`clip_boxes_to_image` (boxes with no area left are dropped with a
warning).

**Boxes file** (:class:`FrameBoxesFile`): a JSON object mapping a frame index
(0 = the first frame of the input) to that frame's boxes, each ``[x1, y1, x2,
y2, score]`` in pixels (``[x1, y1, x2, y2]`` means score 1)::

    {"0": [[20, 10, 120, 200, 0.9], [150, 12, 230, 190, 0.8]],
     "1": [[22, 11, 121, 201, 0.9]],
     "5": []}

Frames that are not listed have no person; a JSON list works too (its i-th
item holds frame i's boxes). The boxes are used as given: no threshold, no NMS.

**Detection results** (:class:`DetectionResultsBoxes`): a COCO results list
(``image_id``, ``bbox`` as x, y, w, h, ``score``, ``category_id``). Each
detection's ``image_id`` is given a frame number, in this order of precedence:

1. ``image_ids``: the image id of every input frame, in order.
2. ``ann_file``: a COCO-style annotation JSON; an image's frame number is the
   number at the end of its ``file_name`` (``images/val/<video>/000017.jpg`` ->
   17). When the file holds several videos, ``video`` selects one by
   ``vid_id`` or by the folder name of ``file_name``.
3. Otherwise PoseTrack's ``frame_id`` convention: ``image_id =
   int(f"1{vid_id}{frame:04d}")`` where ``frame`` is the 0-based position of
   the frame in its video. When the detections span several ``vid_id``,
   ``video`` selects one.

Frame numbers are then matched to the input's frames the same way for every
kind of input (:func:`match_frames`): ``image_ids`` and ``frame_id`` numbers
are positions; an ``ann_file``'s number names a file, so a folder or image
list frame is the file with that number at the end of its name, and the k-th
frame of a video is the video's k-th image of the annotation file. When a file
holds several videos and ``video`` is not given, ``video_hint`` (the input's
name) picks the video whose ``vid_id`` or folder name equals it or its part
before the first ``_``. When numbers cannot be matched, an error says why.
"""
import difflib
import json
import numbers
import os.path as osp
import warnings
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import load
from mmpose.evaluation.functional import nms
from mmpose.structures.bbox import bbox_xywh2xyxy

from mgpose_mm.engine import trusted_checkpoints
from mgpose_mm.errors import InputDataError, InputFileError
from mgpose_mm.utils import frame_number

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
        raise InputDataError(
            f'frame {frame_index}: person boxes contain NaN or infinite '
            'values')
    height, width = image_shape[:2]
    clipped = bboxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    valid = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    if not valid.all():
        dropped = bboxes[~valid].round(1).tolist()
        warnings.warn(
            f'frame {frame_index}: dropped {len(dropped)} person box(es) with '
            'no area '
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
        boxes (Sequence): per frame, an array-like of shape (N, 4) (x1, y1, x2,
            y2).
        scores (Sequence, optional): per frame, N scores. Defaults to ones.
    """

    def __init__(self, boxes: Sequence, scores: Optional[Sequence] = None):
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(
                f'{len(boxes)} frames of boxes but {len(scores)} frames of '
                'scores')
        self.boxes, self.scores = [], []
        for index, frame_boxes in enumerate(boxes):
            frame_boxes = np.asarray(frame_boxes, dtype=np.float32)
            if frame_boxes.size == 0:
                frame_boxes = frame_boxes.reshape(0, 4)
            if frame_boxes.ndim != 2 or frame_boxes.shape[1] != 4:
                raise ValueError(
                    f'boxes of frame {index} must have shape (N, 4) as x1, '
                    'y1, x2, '
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
                f'boxes were given for {len(self.boxes)} frames but the input '
                'has '
                f'more (frame {frame_index})')
        return self.boxes[frame_index].copy(), self.scores[frame_index].copy()

    def finish(self, num_frames: int) -> None:
        if num_frames != len(self.boxes):
            raise ValueError(
                f'boxes were given for {len(self.boxes)} frames but the input '
                'has '
                f'{num_frames} frames')


class DetectionResultsBoxes(BoxSource):
    """Boxes from a COCO detection-results JSON (``[{image_id, bbox: xywh,
    score, category_id}]``), e.g. PoseTrack's
    ``posetrack18_val_human_detections.json``.

    How frames map to image ids is described in :func:`load_detection_results`.

    Args:
        det_file (str): the results JSON.
        ann_file (str, optional): COCO-style annotation JSON whose ``images``
            map ids to frames.
        video (str, optional): the video among several (``vid_id`` or folder
            name).
        video_hint (str, optional): input name used to pick the video when
            ``video`` is None.
        image_ids (Sequence[int], optional): image id of every frame, in order.
        category_id (int): person category. Defaults to 1.
        bbox_thr (float, optional): keep ``score > bbox_thr``. Defaults to None
            (keep all).
        nms_thr (float, optional): NMS IoU threshold. Defaults to None (no
            NMS).
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
        expected = self.expected_frames
        if expected is not None and num_frames != expected:
            raise InputDataError(
                f'the annotation file lists {self.expected_frames} frames of '
                'the video but the '
                f'input has {num_frames}: frames cannot be matched by '
                'position; give the frames '
                'as a folder of numbered image files')
        beyond = sorted(index for index in self.by_frame
                        if index >= num_frames)
        if beyond:
            raise InputDataError(
                f'{self.det_file} has detections for frame {beyond[0]} but '
                'the input has only '
                f'{num_frames} frames: detections and input do not match')


def _parse_frame_index(key, path: str) -> int:
    text = str(key).strip()
    if not text.isdigit():
        raise InputDataError(
            f'{path}: frame index {key!r} is not a non-negative integer (keys '
            'are frame '
            'numbers counted from 0)')
    return int(text)


def _parse_boxes(value, frame: int, path: str) -> Boxes:
    where = f'{path}: frame {frame}'
    if not isinstance(value, list):
        raise InputDataError(
            f'{where}: expected a list of boxes [x1, y1, x2, y2, score], got '
            f'{type(value).__name__}')
    if not value:
        return empty_boxes()
    rows = []
    for number, box in enumerate(value):
        if not isinstance(box, list) or len(box) not in (4, 5) or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool)
                for v in box):
            raise InputDataError(
                f'{where}, box {number}: expected [x1, y1, x2, y2, score] (4 '
                'or 5 '
                f'numbers), got {box!r}')
        x1, y1, x2, y2 = box[:4]
        if not np.isfinite(box).all():
            raise InputDataError(
                f'{where}, box {number}: values must be finite, got {box!r}')
        if x2 <= x1 or y2 <= y1:
            raise InputDataError(
                f'{where}, box {number}: needs x2 > x1 and y2 > y1 (corners '
                f'[x1, y1, x2, y2], not [x, y, w, h]?), got {box!r}')
        rows.append(list(box) + [1.0] * (5 - len(box)))
    array = np.asarray(rows, dtype=np.float32)
    return array[:, :4].copy(), array[:, 4].copy()


def load_boxes_file(path: str) -> Dict[int, Boxes]:
    """Read a per-frame boxes JSON (module docstring) into ``{frame index:

    (bboxes (N, 4) xyxy, scores (N,))}``; errors name the file, the frame and
    the box.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'boxes file not found: {path} ({_file_kind(path)})')
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as error:
        raise InputDataError(f'{path} is not valid JSON: {error}') from None
    if isinstance(data, list):
        items = enumerate(data)
    elif isinstance(data, dict):
        items = data.items()
    else:
        raise InputDataError(
            f'{path}: expected a JSON object '
            '{"frame index": [[x1, y1, x2, y2, score], ...]} (or a list with '
            f'one entry per frame), got {type(data).__name__}')
    boxes: Dict[int, Boxes] = {}
    for key, value in items:
        frame = _parse_frame_index(key, path)
        if frame in boxes:
            raise InputDataError(f'{path}: frame {frame} is listed twice')
        boxes[frame] = _parse_boxes(value, frame, path)
    return boxes


class FrameBoxesFile(BoxSource):
    """Per-frame boxes of one video from a JSON file (:func:`load_boxes_file`),
    used as given.

    Args:
        path (str): the boxes JSON.

    Raises (at the end of the video): ``ValueError`` when the file has boxes
    for frames the input does not have.
    """

    def __init__(self, path: str):
        self.path = path
        self.by_frame = load_boxes_file(path)

    def __call__(self, frame_index: int,
                 frame: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        bboxes, scores = self.by_frame.get(frame_index, empty_boxes())
        return bboxes.copy(), scores.copy()

    def finish(self, num_frames: int) -> None:
        beyond = sorted(index for index in self.by_frame
                        if index >= num_frames)
        if beyond:
            raise InputDataError(
                f'{self.path} has boxes for frame {beyond[0]} but the input '
                'has only '
                f'{num_frames} frames (0..{num_frames - 1}): boxes file and '
                'input do '
                'not match')


def _matches_hint(hint: Optional[str], *names) -> bool:
    """True when ``hint`` (an input name) designates a video known by any of
    ``names``."""
    if not hint:
        return False
    return any(name and name in (hint, hint.split('_')[0]) for name in names)


def _video_frames_from_ann_file(ann_file: str, video: Optional[str],
                                video_hint: Optional[str]) -> Dict[int, int]:
    """``{image_id: frame_index}`` of one video of a COCO-style annotation
    file."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file} '
                                f'({_file_kind(ann_file)})')
    images = load(ann_file).get('images')
    if not images:
        raise InputDataError(f'annotation file {ann_file} has no "images"')

    def folder_of(image):
        return osp.basename(osp.dirname(image['file_name']))

    def video_of(image):
        return str(image['vid_id']) if image.get(
            'vid_id') is not None else folder_of(image)

    if video is not None:
        images = [
            img for img in images if video in (video_of(img), folder_of(img))
        ]
        if not images:
            raise InputDataError(
                f'annotation file {ann_file} has no image of video {video!r}')
    else:
        videos = sorted({video_of(img) for img in images})
        hinted = [
            img for img in images
            if _matches_hint(video_hint, video_of(img), folder_of(img))
        ]
        if len(videos) > 1 and len({video_of(img) for img in hinted}) == 1:
            images, videos = hinted, [video_of(hinted[0])]
        if len(videos) > 1:
            raise InputDataError(
                f'annotation file {ann_file} holds {len(videos)} videos '
                f'({", ".join(videos[:5])}...): choose one with video= '
                '(demo: --video-id)')
    id_to_frame, frame_to_id = {}, {}
    for image in images:
        frame = frame_number(image['file_name'])
        if frame is None:
            raise InputDataError(f'{ann_file}: no frame number in file_name '
                                 f'{image["file_name"]!r}')
        if frame in frame_to_id:
            raise InputDataError(
                f'{ann_file}: images {frame_to_id[frame]} and {image["id"]} '
                'are both frame '
                f'{frame}; choose one video with video= (demo: --video-id)')
        frame_to_id[frame] = image['id']
        id_to_frame[image['id']] = frame
    return id_to_frame


def decode_posetrack_frame_id(image_id: int) -> Tuple[str, int]:
    """``(vid_id, frame_index)`` of a PoseTrack ``frame_id``
    ``int(f"1{vid_id}{frame:04d}")``."""
    text = str(int(image_id))
    if len(text) < 6 or text[0] != '1':
        raise InputDataError(
            f'image_id {image_id} does not follow the PoseTrack frame_id '
            'convention 1<vid_id><frame:04d>; pass image_ids or ann_file '
            'instead')
    return text[1:-4], int(text[-4:])


def _video_frames_from_ids(detections, video: Optional[str],
                           video_hint: Optional[str],
                           det_file: str) -> Dict[int, int]:
    decoded = {
        det['image_id']: decode_posetrack_frame_id(det['image_id'])
        for det in detections
    }
    videos = sorted({vid for vid, _ in decoded.values()})
    hinted = [vid for vid in videos if _matches_hint(video_hint, vid)]
    if video is None and len(videos) > 1 and len(hinted) == 1:
        video = hinted[0]
    if video is None and len(videos) > 1:
        raise InputDataError(
            f'{det_file} holds detections of {len(videos)} videos '
            f'(vid_id {", ".join(videos[:5])}...): choose one with video= '
            '(demo: --video-id)')
    return {
        image_id: frame
        for image_id, (vid, frame) in decoded.items()
        if video is None or vid == str(video)
    }


def load_detection_frames(
    det_file: str,
    ann_file: Optional[str] = None,
    video: Optional[str] = None,
    image_ids: Optional[Sequence[int]] = None,
    category_id: int = 1,
    video_hint: Optional[str] = None
) -> Tuple[Dict[int, Tuple[np.ndarray, np.ndarray]], Optional[List[int]]]:
    """Person boxes per frame number of ``det_file`` (see the module docstring
    for the numbers).

    Returns:
        tuple: ``{frame_number: (bboxes (N, 4) float32 xyxy, scores (N,)
        float32)}`` (detections in file order; frames without detection are
        absent) and, with ``ann_file``, the sorted frame numbers of all images
        of the selected video (None otherwise).
    """
    if not osp.isfile(det_file):
        raise FileNotFoundError(f'detection results file not found: '
                                f'{det_file} ({_file_kind(det_file)})')
    detections = load(det_file)
    if not isinstance(detections, list) or not all(
            isinstance(d, dict) for d in detections):
        raise InputDataError(
            f'{det_file} must hold a list of detections '
            '{"image_id", "bbox": [x, y, w, h], "score", "category_id"}')
    for index, det in enumerate(detections):
        missing = [key for key in ('image_id', 'bbox') if key not in det]
        if missing or not isinstance(det['bbox'],
                                     list) or len(det['bbox']) < 4:
            raise InputDataError(f'{det_file}: detection {index} lacks '
                                 f'{missing or "a 4-value bbox"}')
        values = det['bbox'][:4] + [det.get('score', 1.0)]
        if not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool)
                for v in values) or not np.isfinite(values).all():
            raise InputDataError(
                f'{det_file}: detection {index} has a non-numeric or '
                f'non-finite bbox or score (bbox {det["bbox"]!r}, score '
                f'{det.get("score")!r})')
    detections = [
        det for det in detections
        if det.get('category_id', category_id) == category_id
    ]

    video_numbers = None
    if image_ids is not None:
        id_to_frame = {
            image_id: frame
            for frame, image_id in enumerate(image_ids)
        }
    elif ann_file is not None:
        id_to_frame = _video_frames_from_ann_file(ann_file, video, video_hint)
        video_numbers = sorted(id_to_frame.values())
    elif detections:
        id_to_frame = _video_frames_from_ids(detections, video, video_hint,
                                             det_file)
    if not detections:
        return {}, video_numbers

    boxes, scores = defaultdict(list), defaultdict(list)
    for det in detections:
        frame = id_to_frame.get(det['image_id'])
        if frame is None:
            continue
        boxes[frame].append(det['bbox'][:4])
        scores[frame].append(det.get('score', 1.0))
    if not boxes:
        raise InputDataError(
            f'none of the {len(detections)} person detections in {det_file} '
            'belongs to the selected frames: check image_ids / ann_file / '
            'video')
    by_number = {
        frame:
        (bbox_xywh2xyxy(np.asarray(boxes[frame], np.float32).reshape(-1, 4)),
         np.asarray(scores[frame], np.float32))
        for frame in sorted(boxes)
    }
    return by_number, video_numbers


def load_detection_results(det_file: str,
                           ann_file: Optional[str] = None,
                           video: Optional[str] = None,
                           image_ids: Optional[Sequence[int]] = None,
                           category_id: int = 1,
                           video_hint: Optional[str] = None
                           ) -> Dict[int, Tuple[np.ndarray, np.ndarray]]:
    """Person boxes per frame number of ``det_file`` (see the module
    docstring).

    Returns:
        dict: ``{frame_number: (bboxes (N, 4) float32 xyxy, scores (N,)
        float32)}``, detections in file order; frames without detection are
        absent.
    """
    return load_detection_frames(det_file, ann_file, video, image_ids,
                                 category_id, video_hint)[0]


def match_frames(frame_numbers: Sequence[int],
                 file_numbers: Optional[List[Optional[int]]],
                 video_numbers: Optional[List[int]],
                 frame_names: Sequence[str], det_file: str,
                 input_name: str) -> Dict[int, int]:
    """``{frame_number: input frame index}`` for the frame numbers that have
    detections.

    Args:
        frame_numbers: the detection frame numbers to place.
        file_numbers: per input frame, the number at the end of its file name
            (None entries for names without one); None when the input has no
            file names (video, arrays).
        video_numbers: with an annotation file, the sorted frame numbers of all
            images of the video (the numbers name files); None when the numbers
            are positions (``image_ids``, PoseTrack ``frame_id``).
        frame_names: per input frame, its name (for messages).
        det_file, input_name: for messages.

    Raises:
        InputDataError: naming why the numbering cannot be matched.
    """
    if video_numbers is None:  # positions
        if file_numbers is not None and None not in file_numbers and len(
                file_numbers) > 1:
            gaps = [(a, b) for a, b in zip(file_numbers, file_numbers[1:])
                    if b != a + 1]
            if gaps:
                raise InputDataError(
                    f'{det_file} numbers frames by their position in the '
                    'video (PoseTrack '
                    'frame_id or image_ids) but the frame files of '
                    f'{input_name} are numbered '
                    f'with gaps (e.g. {gaps[0][0]} then {gaps[0][1]}), so '
                    'positions in the '
                    'folder are not positions in the video; pass the '
                    'annotation file '
                    '(ann_file, demo: --det-ann-file) to match frames by file '
                    'name')
        return {number: number for number in frame_numbers}
    # a video: k-th frame <-> k-th image of the annotation file
    if file_numbers is None:
        wanted = set(frame_numbers)
        return {
            number: rank
            for rank, number in enumerate(video_numbers) if number in wanted
        }
    unnumbered = [
        frame_names[i] for i, n in enumerate(file_numbers) if n is None
    ]
    if unnumbered:
        raise InputDataError(
            f'cannot match {det_file} to {input_name}: the annotation file '
            'names frames by '
            f'number but the input file {unnumbered[0]} has no number at the '
            'end of its name')
    index_of: Dict[int, int] = {}
    for index, number in enumerate(file_numbers):
        if number in index_of:
            raise InputDataError(
                f'{input_name}: {frame_names[index_of[number]]} and '
                f'{frame_names[index]} are both frame {number}')
        index_of[number] = index
    absent = sorted(set(frame_numbers) - set(index_of))
    if absent:
        raise InputDataError(
            f'{det_file} has detections for frame number(s) {absent[:5]} but '
            f'{input_name} has no '
            'frame file with these numbers (its files are numbered '
            f'{min(index_of)} to '
            f'{max(index_of)}): detections and input do not match')
    return {number: index_of[number] for number in frame_numbers}


class MMDetBoxes(BoxSource):
    """Person boxes from an MMDetection detector, as MMPose's inferencers get
    them: ``DetInferencer`` on each frame, keep the labels ``det_cat_ids``
    with ``score > bbox_thr``, then MMPose's NMS at ``nms_thr``.

    Args:
        det_model (str | dict | Config): a config file, or an MMDetection
            model-zoo name or alias (``'rtmdet_tiny_8xb32-300e_coco'``,
            ``'rtmdet-t'``), resolved by MMDetection's metafiles.
        det_weights (str, optional): detector weights (file or URL). Defaults
            to the model zoo's weights URL for a model-zoo name (downloaded
            once by MMEngine), else random weights.
        device (str, optional): Defaults to MMEngine's choice.
        det_cat_ids (int | Sequence[int]): person label(s) of the detector (0
            for COCO). Defaults to 0.
        bbox_thr (float): Defaults to 0.3. nms_thr (float): Defaults to 0.3.
        trust_checkpoint (bool): allow a full unpickle of a detector checkpoint
            holding other types than weights (it can run code from the file).
            Defaults to False.
    """

    def __init__(self,
                 det_model,
                 det_weights: Optional[str] = None,
                 device: Optional[str] = None,
                 det_cat_ids: Union[int, Sequence[int]] = 0,
                 bbox_thr: float = 0.3,
                 nms_thr: float = 0.3,
                 trust_checkpoint: bool = False):
        from mmdet.apis import DetInferencer
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        if isinstance(det_model, str) and not osp.isfile(det_model):
            det_model, zoo_weights = mmdet_model_zoo_entry(det_model)
            det_weights = det_weights or zoo_weights
        if isinstance(det_model, str):
            det_model = Config.fromfile(det_model)
        scope = det_model.get('default_scope', 'mmdet')
        if det_weights is not None and '://' not in det_weights and \
                not osp.isfile(det_weights):
            raise FileNotFoundError(
                f'detector weights not found: {det_weights} '
                f'({_file_kind(det_weights)})')
        # DetInferencer switches the global default scope: keep it local
        with DefaultScope.overwrite_default_scope(scope), \
                trusted_checkpoints(trust_checkpoint):
            try:
                self.detector = DetInferencer(
                    det_model,
                    det_weights,
                    device=device,
                    scope=scope,
                    show_progress=False)
            except OSError as error:  # urllib's URLError included
                if det_weights is not None and '://' not in det_weights:
                    raise
                raise InputFileError(
                    'cannot download the detector weights of '
                    f'{det_model!r} ({error}); without internet, copy the '
                    'weights file from a machine with internet and pass it '
                    'as det_weights (CLI: --det-weights); see '
                    'docs/inference.md, "Offline"') from None
        self.scope = scope
        self.det_cat_ids = tuple(
            np.atleast_1d(np.asarray(det_cat_ids, np.int64)).tolist())
        self.bbox_thr, self.nms_thr = bbox_thr, nms_thr

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope(self.scope):
            samples = self.detector(
                frame, return_datasamples=True)['predictions']
        pred = samples[0].pred_instances.cpu().numpy()
        person = np.isin(pred.labels, self.det_cat_ids)
        return select_boxes(pred.bboxes[person].astype(np.float32),
                            pred.scores[person].astype(np.float32),
                            self.bbox_thr, self.nms_thr)


def _file_kind(path: str) -> str:
    """``'a folder, not a file'`` or ``'no such file'`` for messages."""
    return 'a folder, not a file' if osp.isdir(path) else 'no such file'


def mmdet_model_zoo_entry(name: str) -> Tuple[str, Optional[str]]:
    """``(config path, weights URL or None)`` of an MMDetection model-zoo name
    or alias (``rtmdet_tiny_8xb32-300e_coco``, ``rtmdet-t``, with or without
    ``.py``) or a packaged config (``mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.

    .py``), from MMDetection's metafiles (MMEngine's ``BaseInferencer``
    lookup).
    """
    from mmengine.infer import BaseInferencer
    mim_dir = BaseInferencer._get_repo_or_mim_dir('mmdet')
    bare = osp.basename(name.split('::', 1)[-1])
    bare = (bare[:-3] if bare.endswith('.py') else bare).lower()
    names = []
    for model in BaseInferencer._get_models_from_metafile(mim_dir):
        aliases = model.get('Alias') or []
        aliases = [aliases] if isinstance(aliases, str) else aliases
        model_names = [n.lower() for n in [model['Name'], *aliases]]
        if bare in model_names and 'Config' in model:
            weights = model.get('Weights')
            weights = weights[0] if isinstance(weights, list) else weights
            return osp.join(mim_dir, model['Config']), weights
        names += model_names
    packaged = osp.join(mim_dir, 'configs', name.split('::', 1)[-1])
    if name.startswith('mmdet::') and osp.isfile(packaged):
        return packaged, None
    close = difflib.get_close_matches(bare, names, n=3, cutoff=0.6)
    hint = f'; close MMDetection names: {", ".join(close)}' if close else ''
    raise FileNotFoundError(
        f'detector {name!r} is not a file, an MMDetection config name (e.g. '
        'rtmdet_tiny_8xb32-300e_coco) or a model-zoo alias (e.g. rtmdet-t)'
        f'{hint}')


def boxes_from(bboxes) -> BoxSource:
    """A :class:`BoxSource` from the inferencer's ``bboxes`` argument.

    Args:
        bboxes: a :class:`BoxSource`; a boxes-file path
            (:class:`FrameBoxesFile`); or per frame an array-like of (N, 4)
            xyxy or (N, 5) xyxy + score boxes (:class:`GivenBoxes`).
    """
    if isinstance(bboxes, BoxSource):
        return bboxes
    if isinstance(bboxes, str):
        if not osp.isfile(bboxes):
            raise FileNotFoundError(
                f'boxes file not found: {bboxes} ({_file_kind(bboxes)})')
        return FrameBoxesFile(bboxes)
    boxes, scores = [], []
    for index, frame_boxes in enumerate(bboxes):
        array = np.asarray(frame_boxes, np.float32)
        array = array.reshape(0, 4) if array.size == 0 else array
        if array.ndim != 2 or array.shape[1] not in (4, 5):
            raise ValueError(
                f'bboxes of frame {index} must have shape (N, 4) or (N, 5) '
                f'as x1, y1, x2, y2[, score]; got {array.shape}')
        boxes.append(array[:, :4])
        scores.append(array[:, 4] if array.shape[1] ==
                      5 else np.ones(len(array), np.float32))
    return GivenBoxes(boxes, scores)
