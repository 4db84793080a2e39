"""Evaluate official-format PoseTrack prediction folders against GT folders.

The folder layout and the input checks follow the official tools: one JSON
file per video in the GT folder, and a prediction file of the same name in
the prediction folder. Frames of a GT file and of its prediction file are
paired by position (both tools do), so a prediction file must list as many
images as the GT file, in the same order. Files are in the PoseTrack18
(COCO-style: ``images`` / ``annotations``) format; poseval's PoseTrack2017
format (``annolist``) is read too.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import load
from mmengine.logging import print_log

from mgpose_mm.errors import InputDataError
from .functional.jitter import (TrackedFrame, acceleration_errors,
                                summarize_jitter)
from .functional.posetrack_ap import (NUM_KEYPOINTS, FrameGroundTruth,
                                      FramePrediction, check_protocol,
                                      posetrack_ap)
from .metrics.posetrack_results import (MAX_TRACK_ID, frame_ground_truth,
                                        is_evaluated,
                                        prediction_from_annotations,
                                        tracked_frame)

# poseval's 15 joint ids (POSETRACK18_LM_NAMES order) -> PoseTrack18 index.
POSEVAL_JOINT_TO_KEYPOINT = (16, 14, 12, 11, 13, 15, 10, 8, 6, 5, 7, 9, 1, 0,
                             2)


class PoseTrackInputError(InputDataError):
    """An input file breaks a rule of the official tools."""


def _first(value):
    """poseval's PoseTrack2017 format wraps scalars in one-element lists."""
    return value[0] if isinstance(value, list) else value


def annolist_to_coco(content: dict) -> dict:
    """Convert poseval's PoseTrack2017 format (``annolist``) to COCO-style.

    A listed point keeps its coordinates and ``is_visible`` (1 when absent) and
    its ``score`` (-9999 when absent, as poseval); an unlisted joint becomes
    ``(0, 0, 0)``; a person without ``track_id`` gets its index; the head
    rectangle ``x1, y1, x2, y2`` becomes ``bbox_head`` ``[x, y, w, h]``. Image
    ids are the frame positions.
    """
    images, annotations = [], []
    for index, frame in enumerate(content['annolist']):
        image = dict(
            id=index,
            file_name=_first(frame['image'])['name'],
            is_labeled=bool(_first(frame.get('is_labeled', [1]))))
        regions = frame.get('ignore_regions') or []
        image['ignore_regions_x'] = [[_first(p['x']) for p in r['point']]
                                     for r in regions]
        image['ignore_regions_y'] = [[_first(p['y']) for p in r['point']]
                                     for r in regions]
        images.append(image)
        for rect_index, rect in enumerate(frame.get('annorect') or []):
            keypoints = np.zeros((NUM_KEYPOINTS, 3))
            scores = np.full(NUM_KEYPOINTS, np.nan)
            points = (rect.get('annopoints') or [{}])[0].get('point') or []
            for point in points:
                k = POSEVAL_JOINT_TO_KEYPOINT[int(_first(point['id']))]
                keypoints[k] = (_first(point['x']), _first(point['y']),
                                _first(point.get('is_visible', [1])))
                if 'score' in point:
                    scores[k] = _first(point['score'])
            # poseval accepts PoseTrack2017-format persons without track id
            ann = dict(
                id=len(annotations),
                image_id=index,
                keypoints=keypoints.reshape(-1).tolist(),
                track_id=_first(rect.get('track_id', [rect_index])))
            if not np.isnan(scores).all():
                ann['scores'] = np.nan_to_num(scores, nan=-9999.).tolist()
            if 'x1' in rect:
                x1, y1 = _first(rect['x1']), _first(rect['y1'])
                ann['bbox_head'] = [
                    x1, y1,
                    _first(rect['x2']) - x1,
                    _first(rect['y2']) - y1
                ]
            annotations.append(ann)
    return dict(images=images, annotations=annotations)


def load_video_file(path: str) -> Tuple[List[dict], Dict[object, list]]:
    """Images (file order) and annotations by image id of one video file."""
    try:
        content = load(path, file_format='json')
    except Exception as error:  # json's errors name no file
        raise PoseTrackInputError(
            f'{path}: not a readable JSON file ({error})') from None
    if isinstance(content, dict) and 'annolist' in content:
        content = annolist_to_coco(content)
    if not isinstance(content, dict) or 'images' not in content:
        raise PoseTrackInputError(
            f'{path}: not a PoseTrack file (no "images" or "annolist")')
    by_image: Dict[object, list] = {img['id']: [] for img in content['images']}
    for ann in content.get('annotations') or []:
        if ann.get('image_id') not in by_image:
            raise PoseTrackInputError(
                f'{path}: annotation {ann.get("id")} refers to image_id '
                f'{ann.get("image_id")}, which is not in its images')
        by_image[ann['image_id']].append(ann)
    return content['images'], by_image


def _check_track_ids(path: str, image: dict, annotations: Sequence[dict],
                     protocol: str) -> None:
    """Both tools need a track id per person, unique within a frame."""
    ids = []
    for ann in annotations:
        if ann.get('track_id') is None:
            raise PoseTrackInputError(
                f'{path}: annotation {ann.get("id")} of image {image["id"]} '
                'has no track_id (the official tools need one per person)')
        ids.append(ann['track_id'])
        if protocol == 'poseval' and not ann['track_id'] < MAX_TRACK_ID:
            raise PoseTrackInputError(
                f'{path}: track_id {ann["track_id"]} of image {image["id"]} '
                f'is not below {MAX_TRACK_ID} (poseval asserts it)')
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PoseTrackInputError(
            f'{path}: duplicate track ids {duplicates} in frame '
            f'{image.get("file_name", image["id"])}')


def video_frames(
    gt_path: str, pred_path: str, protocol: str
) -> Tuple[List[Tuple[FrameGroundTruth, FramePrediction]],
           List[Optional[TrackedFrame]]]:
    """Evaluated (GT, prediction) frames of one video, paired by position, and
    every frame as :class:`TrackedFrame` (None where nothing is evaluated) for
    the acceleration error."""
    if not osp.isfile(pred_path):
        raise PoseTrackInputError(
            f'prediction file {pred_path} does not exist (GT and prediction '
            'files are paired by name)')
    gt_images, gt_anns = load_video_file(gt_path)
    pred_images, pred_anns = load_video_file(pred_path)
    if len(pred_images) != len(gt_images):
        raise PoseTrackInputError(
            f'{pred_path}: {len(pred_images)} prediction frames <> '
            f'{len(gt_images)} GT frames (the frames are paired by position)')
    frames, tracked, reordered = [], [], 0
    for gt_image, pred_image in zip(gt_images, pred_images):
        gt_persons = gt_anns[gt_image['id']]
        predictions = pred_anns[pred_image['id']]
        evaluated = is_evaluated(gt_image, gt_persons, protocol)
        if protocol == 'poseval' or evaluated:
            _check_track_ids(pred_path, pred_image, predictions, protocol)
        if gt_image['id'] != pred_image['id']:
            if protocol == 'posetrack21' and evaluated:
                raise PoseTrackInputError(
                    f'{pred_path}: frame {len(frames)} is image '
                    f'{pred_image["id"]}, the GT has {gt_image["id"]} there '
                    '(the PoseTrack21 kit asserts equal image ids)')
            reordered += 1
        tracked.append(None)
        if evaluated:
            frames.append((frame_ground_truth(gt_image, gt_persons),
                           prediction_from_annotations(pred_image, predictions,
                                                       protocol)))
            tracked[-1] = tracked_frame(*frames[-1], gt_persons)
    if reordered:
        print_log(
            f'{pred_path}: {reordered} frames have other image ids than the '
            'GT frame at the same position; poseval pairs them by position '
            'anyway',
            logger='current')
    return frames, tracked


def check_folder(path: str, what: str) -> None:
    """Raise :class:`PoseTrackInputError` unless ``path`` is a folder; a file
    where the folder is expected is named as such."""
    if osp.isfile(path):
        raise PoseTrackInputError(
            f'{what} {path} is a file, not a folder (pass the folder that '
            'holds one JSON file per video)')
    if not osp.isdir(path):
        raise PoseTrackInputError(f'{what} {path} does not exist')


def gt_files(gt_dir: str) -> List[str]:
    """The GT files of a folder, sorted (the tools take the folder's listing
    order, which only matters for score ties across videos)."""
    check_folder(gt_dir, 'GT folder')
    files = sorted(glob.glob(osp.join(gt_dir, '*.json')))
    if not files:
        raise PoseTrackInputError(f'GT folder {gt_dir} holds no .json file')
    return files


def evaluate_folders(gt_dir: str,
                     pred_dir: str,
                     protocol: str = 'poseval',
                     videos: Optional[Sequence[str]] = None) -> dict:
    """Per-joint AP of a prediction folder, as the official tool computes it.

    Args:
        gt_dir (str): folder of per-video GT files (PoseTrack18
            ``annotations/val``, PoseTrack21 ``posetrack_data/val``).
        pred_dir (str): folder with one prediction file per GT file.
        protocol (str): ``'poseval'`` or ``'posetrack21'``.
        videos (Sequence[str], optional): evaluate only these GT file names
            (without ``.json``).

    Returns:
        dict: :func:`posetrack_ap`'s result plus ``num_videos``,
        ``num_frames`` and ``jitter`` (:func:`summarize_jitter` of the
        acceleration errors of every video).
    """
    check_protocol(protocol)
    check_folder(pred_dir, 'prediction folder')
    files = gt_files(gt_dir)
    if videos is not None:
        files = [
            f for f in files if osp.splitext(osp.basename(f))[0] in set(videos)
        ]
    frames, errors = [], []
    for path in files:
        evaluated, tracked = video_frames(
            path, osp.join(pred_dir, osp.basename(path)), protocol)
        frames += evaluated
        errors.append(acceleration_errors(tracked, protocol))
    result = posetrack_ap(frames, protocol)
    result.update(
        num_videos=len(files),
        num_frames=len(frames),
        jitter=summarize_jitter(np.concatenate(errors)))
    return result
