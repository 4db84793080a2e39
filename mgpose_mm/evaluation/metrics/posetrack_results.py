"""PoseTrack ground truth frames and per-video prediction files."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmengine.fileio import dump

from mgpose_mm.datasets.posetrack_json import PoseTrackVideo
from ..functional.posetrack_ap import (NUM_KEYPOINTS, POSETRACK_KEYPOINT_NAMES,
                                       FrameGroundTruth, FramePrediction)

# PoseTrack18's skeleton (1-based), as in the official annotation files.
POSETRACK_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13],
                      [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
                      [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6],
                      [5, 7]]
HARD_ATTRIBUTES = ('occluded', 'motion_blur')


def is_evaluated(image: dict, annotations: Sequence[dict]) -> bool:
    """poseval evaluates frames with GT persons; unlabelled frames are
    skipped as well (PoseTrack21 has box-only persons on them)."""
    return bool(image.get('is_labeled', True)) and len(annotations) > 0


def is_hard(image: dict) -> bool:
    """Frame flagged occluded or motion-blurred (synthetic attributes)."""
    attributes = image.get('attributes') or {}
    return any(bool(attributes.get(name)) for name in HARD_ATTRIBUTES)


def frame_ground_truth(image: dict,
                       annotations: Sequence[dict]) -> FrameGroundTruth:
    """GT arrays of one frame from its image entry and person entries."""
    keypoints = np.zeros((len(annotations), NUM_KEYPOINTS, 3))
    head_boxes = np.zeros((len(annotations), 4))
    for i, ann in enumerate(annotations):
        if ann.get('keypoints'):
            kpts = np.asarray(ann['keypoints'], dtype=np.float64)
            if kpts.size != NUM_KEYPOINTS * 3:
                raise ValueError(
                    f'annotation {ann.get("id")} of image {image["id"]} has '
                    f'{kpts.size} keypoint values, expected '
                    f'{NUM_KEYPOINTS * 3}')
            keypoints[i] = kpts.reshape(NUM_KEYPOINTS, 3)
        if np.any(keypoints[i, :, 2] > 0):
            if 'bbox_head' not in ann:
                raise KeyError(
                    f'annotation {ann.get("id")} of image {image["id"]} has '
                    'keypoints but no "bbox_head" (needed for PCKh)')
            head_boxes[i] = np.asarray(ann['bbox_head'], dtype=np.float64)
    regions = [
        np.stack([np.asarray(xs, dtype=np.float64),
                  np.asarray(ys, dtype=np.float64)], axis=1)
        for xs, ys in zip(
            image.get('ignore_regions_x', []),
            image.get('ignore_regions_y', [])) if len(xs)
    ]
    return FrameGroundTruth(
        keypoints=keypoints[..., :2],
        visible=keypoints[..., 2] > 0,
        head_boxes=head_boxes,
        ignore_regions=regions)


def frame_prediction(instances: Sequence[dict]) -> FramePrediction:
    """Stack the predicted instances (``keypoints`` (K, 2), ``keypoint_scores``
    (K,)) of one frame."""
    if not instances:
        return FramePrediction.empty()
    return FramePrediction(
        keypoints=np.stack([inst['keypoints'] for inst in instances]),
        scores=np.stack([inst['keypoint_scores'] for inst in instances]))


def build_frames(videos: Sequence[PoseTrackVideo],
                 preds_by_image: Dict[int, List[dict]]
                 ) -> Tuple[List[Tuple[FrameGroundTruth, FramePrediction]],
                            List[bool]]:
    """Evaluated frames (GT, predictions) of all videos and their hard flags.

    Frames without predictions get empty predictions (their GT joints are
    all missed).
    """
    frames, hard = [], []
    for video in videos:
        anns_by_image: Dict[int, List[dict]] = {}
        for ann in video.annotations:
            anns_by_image.setdefault(ann['image_id'], []).append(ann)
        for image in video.images:
            anns = anns_by_image.get(image['id'], [])
            if not is_evaluated(image, anns):
                continue
            frames.append((frame_ground_truth(image, anns),
                           frame_prediction(preds_by_image.get(
                               image['id'], []))))
            hard.append(is_hard(image))
    return frames, hard


def _default_categories() -> List[dict]:
    return [
        dict(
            supercategory='person',
            id=1,
            name='person',
            keypoints=list(POSETRACK_KEYPOINT_NAMES),
            skeleton=POSETRACK_SKELETON)
    ]


def dump_video_predictions(videos: Sequence[PoseTrackVideo],
                           preds_by_image: Dict[int, List[dict]],
                           out_dir: str) -> List[str]:
    """Write predictions in the official PoseTrack18 format, one file per
    video named like its GT file (``<out_dir>/<video>.json``), listing every
    GT image of the video (poseval needs as many frames as the GT).

    Each annotation holds ``keypoints`` ([x, y, score] * 17), ``scores``
    (17), ``score`` (instance score), ``track_id`` (the predicted one when
    available, else the index within the frame), ``image_id``, ``id`` and
    ``category_id``.

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
            for index, inst in enumerate(preds_by_image.get(image['id'], [])):
                kpts = np.concatenate(
                    [inst['keypoints'], inst['keypoint_scores'][:, None]],
                    axis=1)
                track_id = inst.get('track_id')
                annotations.append(
                    dict(
                        id=int(image['id']) * 100 + index,
                        image_id=image['id'],
                        category_id=1,
                        keypoints=[float(v) for v in kpts.reshape(-1)],
                        scores=[float(v) for v in inst['keypoint_scores']],
                        score=float(inst['score']),
                        track_id=int(index if track_id is None else track_id)))
        path = osp.join(out_dir, f'{video.name}.json')
        dump(
            dict(
                images=images,
                annotations=annotations,
                categories=video.categories or _default_categories()),
            path,
            file_format='json')
        written.append(path)
    return written
