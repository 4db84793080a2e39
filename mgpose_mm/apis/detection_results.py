"""Reading a COCO detection-results JSON into per-frame person boxes of one video.

Frames are matched to the results' ``image_id`` in this order of precedence:

1. ``image_ids``: the image id of every frame, in order (frame i has ``image_ids[i]``).
2. ``ann_file``: a COCO-style annotation JSON (PoseTrack layout of ``docs``/contract): each image's
   frame index is the number at the end of its ``file_name`` (``images/val/<video>/000017.jpg``
   -> 17). When the file holds several videos, ``video`` selects one by ``vid_id`` or by the
   folder name of ``file_name``.
3. Otherwise the PoseTrack ``frame_id`` convention: ``image_id = int(f"1{vid_id}{frame:04d}")``
   (frame = last four digits, vid_id = the digits between the leading 1 and those). When the
   detections span several ``vid_id``, ``video`` selects one.

When a file holds several videos and ``video`` is not given, ``video_hint`` (e.g. the input's
folder or file name) picks the video whose ``vid_id`` or folder name equals it or its part before
the first ``_`` (PoseTrack folders are named ``<vid_id>_<source>_<split>``, e.g.
``012834_mpii_test``); without a unique match the choice is left to ``video`` and an error lists
the videos.

Detections of other images (other videos of a merged file) are ignored; a file whose
detections match none of the selected frames raises, since that means the mapping is wrong.
"""
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import load

from mmpose.structures.bbox import bbox_xywh2xyxy

_FRAME_NUMBER = re.compile(r'(\d+)\.[^./\\]+$')


def _matches_hint(hint: Optional[str], *names) -> bool:
    """True when ``hint`` (an input name) designates a video known by any of ``names``."""
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
        raise ValueError(f'annotation file {ann_file} has no "images"')

    def folder_of(image):
        return osp.basename(osp.dirname(image['file_name']))

    def video_of(image):
        return str(image['vid_id']) if image.get('vid_id') is not None else folder_of(image)

    if video is not None:
        images = [img for img in images if video in (video_of(img), folder_of(img))]
        if not images:
            raise ValueError(f'annotation file {ann_file} has no image of video {video!r}')
    else:
        videos = sorted({video_of(img) for img in images})
        hinted = [img for img in images
                  if _matches_hint(video_hint, video_of(img), folder_of(img))]
        if len(videos) > 1 and len({video_of(img) for img in hinted}) == 1:
            images, videos = hinted, [video_of(hinted[0])]
        if len(videos) > 1:
            raise ValueError(f'annotation file {ann_file} holds {len(videos)} videos '
                             f'({", ".join(videos[:5])}...): choose one with video= '
                             '(demo: --video-id)')
    id_to_frame, frame_to_id = {}, {}
    for image in images:
        match = _FRAME_NUMBER.search(image['file_name'])
        if match is None:
            raise ValueError(f'{ann_file}: no frame number in file_name {image["file_name"]!r}')
        frame = int(match.group(1))
        if frame in frame_to_id:
            raise ValueError(f'{ann_file}: images {frame_to_id[frame]} and {image["id"]} are both '
                             f'frame {frame}; choose one video with video= (demo: --video-id)')
        frame_to_id[frame] = image['id']
        id_to_frame[image['id']] = frame
    return id_to_frame


def decode_posetrack_frame_id(image_id: int) -> Tuple[str, int]:
    """``(vid_id, frame_index)`` of a PoseTrack ``frame_id`` ``int(f"1{vid_id}{frame:04d}")``."""
    text = str(int(image_id))
    if len(text) < 6 or text[0] != '1':
        raise ValueError(f'image_id {image_id} does not follow the PoseTrack frame_id convention '
                         '1<vid_id><frame:04d>; pass image_ids or ann_file instead')
    return text[1:-4], int(text[-4:])


def _video_frames_from_ids(detections, video: Optional[str], video_hint: Optional[str],
                           det_file: str) -> Dict[int, int]:
    decoded = {det['image_id']: decode_posetrack_frame_id(det['image_id']) for det in detections}
    videos = sorted({vid for vid, _ in decoded.values()})
    hinted = [vid for vid in videos if _matches_hint(video_hint, vid)]
    if video is None and len(videos) > 1 and len(hinted) == 1:
        video = hinted[0]
    if video is None and len(videos) > 1:
        raise ValueError(f'{det_file} holds detections of {len(videos)} videos '
                         f'(vid_id {", ".join(videos[:5])}...): choose one with video= '
                         '(demo: --video-id)')
    return {image_id: frame for image_id, (vid, frame) in decoded.items()
            if video is None or vid == str(video)}


def load_detection_results(det_file: str, ann_file: Optional[str] = None,
                           video: Optional[str] = None,
                           image_ids: Optional[Sequence[int]] = None,
                           category_id: int = 1, video_hint: Optional[str] = None
                           ) -> Dict[int, Tuple[np.ndarray, np.ndarray]]:
    """Person boxes per frame from ``det_file`` (see the module docstring for the mapping).

    Returns:
        dict: ``{frame_index: (bboxes (N, 4) float32 xyxy, scores (N,) float32)}``, detections
        in file order; frames without detection are absent.
    """
    if not osp.isfile(det_file):
        raise FileNotFoundError(f'detection results file not found: {det_file}')
    detections = load(det_file)
    if not isinstance(detections, list) or not all(isinstance(d, dict) for d in detections):
        raise TypeError(f'{det_file} must hold a list of detections '
                        '{"image_id", "bbox": [x, y, w, h], "score", "category_id"}')
    for index, det in enumerate(detections):
        missing = [key for key in ('image_id', 'bbox') if key not in det]
        if missing or len(det['bbox']) < 4:
            raise ValueError(f'{det_file}: detection {index} lacks {missing or "a 4-value bbox"}')
    detections = [det for det in detections if det.get('category_id', category_id) == category_id]
    if not detections:
        return {}

    if image_ids is not None:
        id_to_frame = {image_id: frame for frame, image_id in enumerate(image_ids)}
    elif ann_file is not None:
        id_to_frame = _video_frames_from_ann_file(ann_file, video, video_hint)
    else:
        id_to_frame = _video_frames_from_ids(detections, video, video_hint, det_file)

    boxes, scores = defaultdict(list), defaultdict(list)
    for det in detections:
        frame = id_to_frame.get(det['image_id'])
        if frame is None:
            continue
        boxes[frame].append(det['bbox'][:4])
        scores[frame].append(det.get('score', 1.0))
    if not boxes:
        raise ValueError(f'none of the {len(detections)} person detections in {det_file} belongs '
                         'to the selected frames: check image_ids / ann_file / video')
    return {frame: (bbox_xywh2xyxy(np.asarray(boxes[frame], np.float32).reshape(-1, 4)),
                    np.asarray(scores[frame], np.float32))
            for frame in sorted(boxes)}
