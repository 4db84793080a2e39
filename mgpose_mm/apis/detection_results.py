"""Reading a COCO detection-results JSON into per-frame person boxes of one
video.

Each detection's ``image_id`` is given a **frame number**, in this order of precedence:

1. ``image_ids``: the image id of every input frame, in order: frame i has ``image_ids[i]``.
2. ``ann_file``: a COCO-style annotation JSON (PoseTrack layout of ``docs``/contract): the image's
   frame number is the number at the end of its ``file_name`` (``images/val/<video>/000017.jpg``
   -> 17). When the file holds several videos, ``video`` selects one by ``vid_id`` or by the
   folder name of ``file_name``.
3. Otherwise the PoseTrack ``frame_id`` convention: ``image_id = int(f"1{vid_id}{frame:04d}")``
   where ``frame`` (the last four digits) is the 0-based position of the frame in its video,
   ``vid_id`` the digits between the leading 1 and those. When the detections span several
   ``vid_id``, ``video`` selects one.

:class:`~mgpose_mm.apis.DetectionResultsBoxes` then matches frame numbers to the input's frames
the same way for every kind of input (:func:`match_frames`): ``image_ids`` and ``frame_id``
numbers are positions (frame k of the video, folder or image list); an ``ann_file``'s number
names a file, so a folder or image list frame is the file with that number at the end of its
name (1-based or gappy numbering included), and the k-th frame of a video (which has no file
names) is the video's k-th image of the annotation file in frame-number order. When numbers
cannot be matched (files without numbers, detections of frames the input lacks, another frame
count), an error says why.

When a file holds several videos and ``video`` is not given, ``video_hint`` (e.g. the input's
folder or file name) picks the video whose ``vid_id`` or folder name equals it or its part before
the first ``_`` (PoseTrack folders are named ``<vid_id>_<source>_<split>``, e.g.
``012834_mpii_test``); without a unique match the choice is left to ``video`` and an error lists
the videos.

Detections of other images (other videos of a merged file) are ignored; a file whose
detections match none of the selected frames raises, since that means the mapping is wrong.
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import load
from mmpose.structures.bbox import bbox_xywh2xyxy

from mgpose_mm.errors import InputDataError
from mgpose_mm.utils import frame_number


def _matches_hint(hint: Optional[str], *names) -> bool:
    """True when ``hint`` (an input name) designates a video known by any of
    ``names``."""
    if not hint:
        return False
    return any(name and name in (hint, hint.split('_')[0]) for name in names)


def _video_frames_from_ann_file(ann_file: str, video: Optional[str],
                                video_hint: Optional[str]) -> Dict[int, int]:
    """``{image_id: frame_index}`` of one video of a COCO-style annotation file."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
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
            raise InputDataError(
                f'{ann_file}: no frame number in file_name {image["file_name"]!r}'
            )
        if frame in frame_to_id:
            raise InputDataError(
                f'{ann_file}: images {frame_to_id[frame]} and {image["id"]} are both frame '
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
            'convention 1<vid_id><frame:04d>; pass image_ids or ann_file instead'
        )
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
        tuple: ``{frame_number: (bboxes (N, 4) float32 xyxy, scores (N,) float32)}`` (detections
        in file order; frames without detection are absent) and, with ``ann_file``, the sorted
        frame numbers of all images of the selected video (None otherwise).
    """
    if not osp.isfile(det_file):
        raise FileNotFoundError(
            f'detection results file not found: {det_file}')
    detections = load(det_file)
    if not isinstance(detections, list) or not all(
            isinstance(d, dict) for d in detections):
        raise InputDataError(
            f'{det_file} must hold a list of detections '
            '{"image_id", "bbox": [x, y, w, h], "score", "category_id"}')
    for index, det in enumerate(detections):
        missing = [key for key in ('image_id', 'bbox') if key not in det]
        if missing or len(det['bbox']) < 4:
            raise InputDataError(
                f'{det_file}: detection {index} lacks {missing or "a 4-value bbox"}'
            )
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
            'belongs to the selected frames: check image_ids / ann_file / video'
        )
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
        dict: ``{frame_number: (bboxes (N, 4) float32 xyxy, scores (N,) float32)}``, detections
        in file order; frames without detection are absent.
    """
    return load_detection_frames(det_file, ann_file, video, image_ids,
                                 category_id, video_hint)[0]


def match_frames(frame_numbers: Sequence[int],
                 file_numbers: Optional[List[Optional[int]]],
                 video_numbers: Optional[List[int]],
                 frame_names: Sequence[str], det_file: str,
                 input_name: str) -> Dict[int, int]:
    """``{frame_number: input frame index}`` for the frame numbers that have detections.

    Args:
        frame_numbers: the detection frame numbers to place.
        file_numbers: per input frame, the number at the end of its file name (None entries for
            names without one); None when the input has no file names (video, arrays).
        video_numbers: with an annotation file, the sorted frame numbers of all images of the
            video (the numbers name files); None when the numbers are positions (``image_ids``,
            PoseTrack ``frame_id``).
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
                    f'{det_file} numbers frames by their position in the video (PoseTrack '
                    f'frame_id or image_ids) but the frame files of {input_name} are numbered '
                    f'with gaps (e.g. {gaps[0][0]} then {gaps[0][1]}), so positions in the '
                    'folder are not positions in the video; pass the annotation file '
                    '(ann_file, demo: --det-ann-file) to match frames by file name'
                )
        return {number: number for number in frame_numbers}
    if file_numbers is None:  # a video: k-th frame <-> k-th image of the annotation file
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
            f'cannot match {det_file} to {input_name}: the annotation file names frames by '
            f'number but the input file {unnumbered[0]} has no number at the end of its name'
        )
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
            f'{det_file} has detections for frame number(s) {absent[:5]} but {input_name} has no '
            f'frame file with these numbers (its files are numbered {min(index_of)} to '
            f'{max(index_of)}): detections and input do not match')
    return {number: index_of[number] for number in frame_numbers}
