"""Your own person boxes for one video, from a JSON file (the demo's ``--bboxes
FILE``).

The file maps a frame index (0 = the first frame of the input) to that frame's person boxes, each
``[x1, y1, x2, y2, score]`` in image pixels (``[x1, y1, x2, y2]`` means score 1)::

    {"0": [[20, 10, 120, 200, 0.9], [150, 12, 230, 190, 0.8]],
     "1": [[22, 11, 121, 201, 0.9]],
     "5": []}

Frames that are not listed have no person. A JSON list works too (its i-th item holds frame i's
boxes). The boxes are used as given: no score threshold, no NMS.
"""
import json
import numbers
from typing import Dict, Tuple

import numpy as np

from .box_sources import Boxes, BoxSource, empty_boxes


def _parse_frame_index(key, path: str) -> int:
    text = str(key).strip()
    if not text.isdigit():
        raise ValueError(
            f'{path}: frame index {key!r} is not a non-negative integer (keys are frame '
            'numbers counted from 0)')
    return int(text)


def _parse_boxes(value, frame: int, path: str) -> Boxes:
    where = f'{path}: frame {frame}'
    if not isinstance(value, list):
        raise ValueError(
            f'{where}: expected a list of boxes [x1, y1, x2, y2, score], got '
            f'{type(value).__name__}')
    if not value:
        return empty_boxes()
    rows = []
    for number, box in enumerate(value):
        if not isinstance(box, list) or len(box) not in (4, 5) or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool)
                for v in box):
            raise ValueError(
                f'{where}, box {number}: expected [x1, y1, x2, y2, score] (4 or 5 '
                f'numbers), got {box!r}')
        x1, y1, x2, y2 = box[:4]
        if not np.isfinite(box).all():
            raise ValueError(
                f'{where}, box {number}: values must be finite, got {box!r}')
        if x2 <= x1 or y2 <= y1:
            raise ValueError(
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
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'boxes file not found: {path}') from None
    except json.JSONDecodeError as error:
        raise ValueError(f'{path} is not valid JSON: {error}') from None
    if isinstance(data, list):
        items = enumerate(data)
    elif isinstance(data, dict):
        items = data.items()
    else:
        raise ValueError(
            f'{path}: expected a JSON object {{"frame index": [[x1, y1, x2, y2, score], '
            f'...]}} (or a list with one entry per frame), got {type(data).__name__}'
        )
    boxes: Dict[int, Boxes] = {}
    for key, value in items:
        frame = _parse_frame_index(key, path)
        if frame in boxes:
            raise ValueError(f'{path}: frame {frame} is listed twice')
        boxes[frame] = _parse_boxes(value, frame, path)
    return boxes


class FrameBoxesFile(BoxSource):
    """Per-frame boxes of one video from a JSON file (:func:`load_boxes_file`),
    used as given.

    Args:
        path (str): the boxes JSON.

    Raises (at the end of the video): ``ValueError`` when the file has boxes for frames the input
    does not have.
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
            raise ValueError(
                f'{self.path} has boxes for frame {beyond[0]} but the input has only '
                f'{num_frames} frames (0..{num_frames - 1}): boxes file and input do '
                'not match')
