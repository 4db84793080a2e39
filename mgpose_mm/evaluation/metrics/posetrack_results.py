"""PoseTrack ground truth frames and per-video prediction files."""
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import dump

from mgpose_mm.datasets.posetrack_json import (POSETRACK_CATEGORIES,
                                               PoseTrackVideo)
from ..functional.jitter import TrackedFrame, acceleration_errors
from ..functional.posetrack_ap import (NUM_KEYPOINTS, FrameGroundTruth,
                                       FramePrediction, check_protocol)

HARD_ATTRIBUTES = ('occluded', 'motion_blur')
# Score both official tools give a predicted joint without one.
MISSING_SCORE = -9999
# poseval asserts track ids below this.
MAX_TRACK_ID = 10000


def is_evaluated(image: dict, annotations: Sequence[dict],
                 protocol: str) -> bool:
    """Whether the official tool evaluates a frame.

    poseval evaluates every frame with at least one GT person entry, whatever
    ``is_labeled`` says (box-only persons included); the PoseTrack21 kit
    evaluates exactly the frames with ``is_labeled``.
    """
    if check_protocol(protocol) == 'poseval':
        return len(annotations) > 0
    if 'is_labeled' not in image:
        raise KeyError(f'image {image.get("id")} has no "is_labeled" (the '
                       'PoseTrack21 protocol evaluates labelled frames)')
    return bool(image['is_labeled'])


def is_hard(image: dict) -> bool:
    """Frame flagged occluded or motion-blurred (synthetic attributes)."""
    attributes = image.get('attributes') or {}
    return any(bool(attributes.get(name)) for name in HARD_ATTRIBUTES)


def _keypoint_array(ann: dict, image_id) -> np.ndarray:
    """(K, 3) keypoints of an annotation entry; zeros when it has none."""
    if not ann.get('keypoints'):
        return np.zeros((NUM_KEYPOINTS, 3))
    kpts = np.asarray(ann['keypoints'], dtype=np.float64)
    if kpts.size != NUM_KEYPOINTS * 3:
        raise ValueError(
            f'annotation {ann.get("id")} of image {image_id} has {kpts.size} '
            f'keypoint values, expected {NUM_KEYPOINTS * 3} '
            f'({NUM_KEYPOINTS} keypoints x [x, y, v])')
    return kpts.reshape(NUM_KEYPOINTS, 3)


def ignore_regions_of(image: dict) -> List[np.ndarray]:
    """Ignore-region polygons (V, 2) of an image entry (empty ones skipped:

    they contain no point).
    """
    return [
        np.stack([
            np.asarray(xs, dtype=np.float64),
            np.asarray(ys, dtype=np.float64)
        ],
                 axis=1) for xs, ys in zip(
                     image.get('ignore_regions_x') or [],
                     image.get('ignore_regions_y') or []) if len(xs)
    ]


def frame_ground_truth(image: dict,
                       annotations: Sequence[dict]) -> FrameGroundTruth:
    """GT arrays of one frame from its image entry and person entries."""
    keypoints = np.zeros((len(annotations), NUM_KEYPOINTS, 3))
    head_boxes = np.zeros((len(annotations), 4))
    for i, ann in enumerate(annotations):
        keypoints[i] = _keypoint_array(ann, image['id'])
        if np.any(keypoints[i] != 0):
            if 'bbox_head' not in ann:
                raise KeyError(
                    f'annotation {ann.get("id")} of image {image["id"]} has '
                    'keypoints but no "bbox_head" (needed for PCKh)')
            head_boxes[i] = np.asarray(ann['bbox_head'], dtype=np.float64)
    return FrameGroundTruth(
        keypoints=keypoints[..., :2],
        visibility=keypoints[..., 2],
        head_boxes=head_boxes,
        ignore_regions=ignore_regions_of(image))


def frame_prediction(instances: Sequence[dict]) -> FramePrediction:
    """Stack the predicted instances (``keypoints`` (K, 2), ``keypoint_scores``
    (K,)) of one frame, as this package writes them ([x, y, score])."""
    if not instances:
        return FramePrediction.empty()
    return FramePrediction(
        keypoints=np.stack([inst['keypoints'] for inst in instances]),
        scores=np.stack([inst['keypoint_scores'] for inst in instances]))


def prediction_from_annotations(image: dict, annotations: Sequence[dict],
                                protocol: str) -> FramePrediction:
    """Predictions of one frame read from an official-format file.

    A person without ``scores`` gets -9999 for every joint (both tools); an
    empty ``scores`` list counts as missing for poseval. The PoseTrack21 kit
    stores the scores in the frame's ``keypoints`` array, so when every value
    of the frame's keypoints is an integer, its scores are truncated to
    integers, as there.
    """
    if not annotations:
        return FramePrediction.empty()
    keypoints = np.stack(
        [_keypoint_array(a, image['id']) for a in annotations])
    scores = np.full(keypoints.shape[:2], float(MISSING_SCORE))
    for i, ann in enumerate(annotations):
        if ann.get('scores') is None or (protocol == 'poseval'
                                         and len(ann['scores']) == 0):
            continue
        if len(ann['scores']) != NUM_KEYPOINTS:
            raise ValueError(
                f'annotation {ann.get("id")} of image {image["id"]} has '
                f'{len(ann["scores"])} scores, expected {NUM_KEYPOINTS}')
        scores[i] = np.asarray(ann['scores'], dtype=np.float64)
    if protocol == 'posetrack21' and all(
            isinstance(v, (int, np.integer)) for a in annotations
            for v in a.get('keypoints') or [0]):
        scores = np.trunc(scores)
    return FramePrediction(
        keypoints=keypoints[..., :2], scores=scores, flags=keypoints[..., 2])


def tracked_frame(gt: FrameGroundTruth, pred: FramePrediction,
                  annotations: Sequence[dict]) -> TrackedFrame:
    """A frame for the acceleration error: its GT and predictions with the GT
    persons' ``track_id`` (-1 when absent) and sizes (sqrt of the ``bbox``
    area; the extent of the annotated joints without a box)."""
    sizes = np.zeros(len(annotations))
    for i, ann in enumerate(annotations):
        if ann.get('bbox'):
            w, h = np.asarray(ann['bbox'], np.float64)[2:4]
        else:
            kpts = np.asarray(ann.get('keypoints') or [0, 0, 0],
                              np.float64).reshape(-1, 3)
            kpts = kpts[np.any(kpts != 0, axis=1), :2]
            w, h = np.ptp(kpts, axis=0) if len(kpts) else (0., 0.)
        sizes[i] = np.sqrt(max(w, 0.) * max(h, 0.))
    track_ids = np.array([ann.get('track_id', -1) for ann in annotations],
                         dtype=np.int64)
    return TrackedFrame(gt, track_ids, sizes, pred)


def image_annotations(video: PoseTrackVideo) -> List[Tuple[dict, List[dict]]]:
    """``(image entry, its person entries)`` of every frame of a video, in file
    order."""
    anns_by_image: Dict[int, List[dict]] = {}
    for ann in video.annotations:
        anns_by_image.setdefault(ann['image_id'], []).append(ann)
    return [(image, anns_by_image.get(image['id'], []))
            for image in video.images]


def video_jitter_errors(video: PoseTrackVideo,
                        preds_by_image: Dict[int, List[dict]],
                        protocol: str = 'poseval') -> np.ndarray:
    """(M, K) :func:`acceleration_errors` of one video's predictions."""
    frames: List[Optional[TrackedFrame]] = [
        tracked_frame(
            frame_ground_truth(image, anns),
            frame_prediction(preds_by_image.get(image['id'], [])), anns)
        if is_evaluated(image, anns, protocol) else None
        for image, anns in image_annotations(video)
    ]
    return acceleration_errors(frames, protocol)


def evaluated_images(
    videos: Sequence[PoseTrackVideo],
    protocol: str = 'poseval'
) -> Iterator[Tuple[PoseTrackVideo, dict, List[dict]]]:
    """``(video, image entry, its person entries)`` of every frame the protocol
    evaluates, in the official order (videos, then frames in file order)."""
    for video in videos:
        for image, anns in image_annotations(video):
            if is_evaluated(image, anns, protocol):
                yield video, image, anns


def build_frames(
    videos: Sequence[PoseTrackVideo],
    preds_by_image: Dict[int, List[dict]],
    protocol: str = 'poseval'
) -> Tuple[List[Tuple[FrameGroundTruth, FramePrediction]], List[bool]]:
    """Evaluated frames (GT, predictions) of all videos and their hard flags.

    Frames without predictions get empty predictions (their GT joints are all
    missed).
    """
    frames, hard = [], []
    for _, image, anns in evaluated_images(videos, protocol):
        frames.append((frame_ground_truth(image, anns),
                       frame_prediction(preds_by_image.get(image['id'], []))))
        hard.append(is_hard(image))
    return frames, hard


def frame_track_ids(instances: Sequence[dict]) -> List[int]:
    """Track ids to write for the predictions of one frame.

    The predicted ``track_id`` when every instance has one, they are unique and
    in ``[0, 10000)`` (poseval asserts ids below 10000 and rejects duplicates
    within a frame); otherwise the index within the frame.
    """
    ids = [inst.get('track_id') for inst in instances]
    if all(i is not None and 0 <= int(i) < MAX_TRACK_ID for i in ids) \
            and len({int(i) for i in ids}) == len(ids):
        return [int(i) for i in ids]
    return list(range(len(instances)))


def dump_video_predictions(videos: Sequence[PoseTrackVideo],
                           preds_by_image: Dict[int, List[dict]],
                           out_dir: str) -> List[str]:
    """Write predictions in the official PoseTrack18 format, one file per video
    named like its GT file (``<out_dir>/<video>.json``), listing every GT image
    of the video (poseval needs as many frames as the GT).

    Each annotation holds ``keypoints`` ([x, y, score] * 17), ``scores``
    (17), ``score`` (instance score), ``track_id`` (see
    :func:`frame_track_ids`), ``image_id``, ``id`` and ``category_id``.

    Returns:
        list[str]: the written file paths.
    """
    os.makedirs(out_dir, exist_ok=True)
    written = []
    image_keys = ('id', 'file_name', 'frame_id', 'vid_id', 'nframes',
                  'is_labeled')
    for video in videos:
        images, annotations = [], []
        for image in video.images:
            images.append({k: image[k] for k in image_keys if k in image})
            instances = preds_by_image.get(image['id'], [])
            track_ids = frame_track_ids(instances)
            for index, inst in enumerate(instances):
                kpts = np.concatenate(
                    [inst['keypoints'], inst['keypoint_scores'][:, None]],
                    axis=1)
                annotations.append(
                    dict(
                        id=int(image['id']) * 100 + index,
                        image_id=image['id'],
                        category_id=1,
                        keypoints=[float(v) for v in kpts.reshape(-1)],
                        scores=[float(v) for v in inst['keypoint_scores']],
                        score=float(inst['score']),
                        track_id=track_ids[index]))
        path = osp.join(out_dir, f'{video.name}.json')
        dump(
            dict(
                images=images,
                annotations=annotations,
                categories=video.categories or POSETRACK_CATEGORIES),
            path,
            file_format='json')
        written.append(path)
    return written
