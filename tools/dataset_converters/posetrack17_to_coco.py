"""Convert PoseTrack2017 ('annolist' JSON, one file per video) to the COCO-
style PoseTrack18 layout.

PoseTrack2017 annotates 15 joints per person
(``annorect[].annopoints[0].point[]`` with ``id`` 0-14), a head box
(``annorect[].x1/y1/x2/y2``) and no person box; frame files are named
inconsistently (``00000001.jpg``, ``0042_crop.jpg``, ...). This writes what
``PoseTrackVideoDataset`` and ``PoseTrackAPMetric`` read for PoseTrack18::

    OUT_DIR/images/<split>/<video>/<index:06d>.jpg
        every frame, 0-based, ordered by frame number (symlinks to the
        originals, or copies)
    OUT_DIR/annotations/posetrack17_<split>.json
        all videos, COCO style
    OUT_DIR/annotations/<split>/<video>.json
        one file per video (same content)
    OUT_DIR/annotations/posetrack17_<split>_human_detections.json
        with --det-file

Joints go to PoseTrack18's 17-keypoint order (ears stay 0), visibility is
``is_visible`` (1 when absent), ``bbox_head`` is the head box, and ``bbox`` is
the keypoint extent enlarged 1.3x around its centre, as poseval's own 2017 ->
2018 converter does. Image ids are
``frame_id = int(f'1{video number}{index:04d}')`` as in PoseTrack18. Persons
without any joint are dropped.

Example::

    python tools/dataset_converters/posetrack17_to_coco.py \\
        --ann-dir PoseTrack2017/posetrack_data/annotations/val \\
        --image-root PoseTrack2017/posetrack_data --split val \\
        --out-dir data/posetrack17
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import cv2

from mgpose_mm.datasets.posetrack_json import POSETRACK_CATEGORIES
from mgpose_mm.errors import InputDataError, run_cli
from mgpose_mm.evaluation.functional.posetrack_ap import (
    NUM_KEYPOINTS, POSETRACK_KEYPOINT_NAMES)

# PoseTrack2017 joint ids 0..14 (poseval's convert.py) and their PoseTrack18
# (COCO-order) index.
POSETRACK17_JOINTS = ('right_ankle', 'right_knee', 'right_hip', 'left_hip',
                      'left_knee', 'left_ankle', 'right_wrist', 'right_elbow',
                      'right_shoulder', 'left_shoulder', 'left_elbow',
                      'left_wrist', 'head_bottom', 'nose', 'head_top')
JOINT_TO_COCO_ORDER = tuple(
    POSETRACK_KEYPOINT_NAMES.index(name) for name in POSETRACK17_JOINTS)
# poseval: person box = keypoint extent * 1.3 around its centre
BOX_ENLARGE = 1.3
_FRAME_NUMBER = re.compile(r'^(\d+)')


def frame_number(path: str) -> int:
    """Frame number of an original PoseTrack2017 frame file (``0042_crop.jpg``

    -> 42).
    """
    match = _FRAME_NUMBER.match(osp.basename(path))
    if match is None:
        raise InputDataError(
            f'no frame number at the start of the file name {path!r}')
    return int(match.group(1))


def video_number(video: str) -> str:
    """Digits that start a video folder name (``000342_mpii`` ->
    ``'000342'``)."""
    match = _FRAME_NUMBER.match(video)
    if match is None:
        raise InputDataError(
            f'video folder {video!r} does not start with its video number')
    return match.group(1)


def first(value, field: str, where: str):
    """PoseTrack2017 wraps scalars in one-element lists; unwrap with a clear
    error."""
    if isinstance(value, list):
        if len(value) != 1:
            raise InputDataError(
                f'{where}: field {field!r} should hold one value, got '
                f'{value!r}')
        return value[0]
    return value


def as_list(value) -> list:
    """Lists as they are; a lone dict (how some .mat -> JSON exports write one
    element) as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def convert_person(rect: dict, where: str) -> Optional[dict]:
    """One ``annorect`` -> COCO fields (no ids), or None when it has no
    joint."""
    keypoints = [0.0] * (NUM_KEYPOINTS * 3)
    xs, ys = [], []
    annopoints = as_list(rect.get('annopoints'))
    for point in as_list(annopoints[0].get('point')) if annopoints else []:
        joint = int(first(point['id'], 'id', where))
        if not 0 <= joint < len(POSETRACK17_JOINTS):
            raise InputDataError(
                f'{where}: joint id {joint} is not a PoseTrack2017 joint '
                '(0-14)')
        x, y = float(first(point['x'], 'x',
                           where)), float(first(point['y'], 'y', where))
        visible = int(first(point.get('is_visible', 1), 'is_visible', where))
        keypoints[JOINT_TO_COCO_ORDER[joint] *
                  3:JOINT_TO_COCO_ORDER[joint] * 3 +
                  3] = [x, y, min(visible, 1)]
        xs.append(x)
        ys.append(y)
    if not xs:
        return None
    missing = [k for k in ('x1', 'y1', 'x2', 'y2') if k not in rect]
    if missing:
        raise KeyError(
            f'{where}: a person with joints has no head box (missing '
            f'{missing})')
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    w, h = (max(xs) - min(xs)) * BOX_ENLARGE, (max(ys) - min(ys)) * BOX_ENLARGE
    head = [float(first(rect[k], k, where)) for k in ('x1', 'y1', 'x2', 'y2')]
    return dict(
        category_id=1,
        bbox=[cx - w / 2, cy - h / 2, w, h],
        bbox_head=[head[0], head[1], head[2] - head[0], head[3] - head[1]],
        keypoints=keypoints,
        num_keypoints=sum(1 for v in keypoints[2::3] if v > 0),
        track_id=int(first(rect.get('track_id', [0]), 'track_id', where)),
        iscrowd=0)


def ignore_regions(entry: dict, where: str) -> Tuple[List[list], List[list]]:
    regions_x, regions_y = [], []
    for region in as_list(entry.get('ignore_regions')):
        points = as_list(region.get('point'))
        regions_x.append([float(first(p['x'], 'x', where)) for p in points])
        regions_y.append([float(first(p['y'], 'y', where)) for p in points])
    return regions_x, regions_y


def video_frames(image_root: str, folder: str) -> List[str]:
    """Frame files of one original video folder, ordered by frame number."""
    files = [
        f for f in os.listdir(osp.join(image_root, folder))
        if f.lower().endswith(('.jpg', '.png'))
    ]
    if not files:
        raise FileNotFoundError(
            f'no frame files in {osp.join(image_root, folder)}')
    numbers = [frame_number(f) for f in files]
    if len(set(numbers)) != len(numbers):
        raise InputDataError(
            f'two frame files of {osp.join(image_root, folder)} have the same '
            'number')
    return [f for _, f in sorted(zip(numbers, files))]


def place_frame(src: str, dst: str, mode: str) -> None:
    os.makedirs(osp.dirname(dst), exist_ok=True)
    if osp.lexists(dst):
        os.remove(dst)
    if mode == 'symlink':
        os.symlink(osp.abspath(src), dst)
    else:
        shutil.copyfile(src, dst)


def read_annolist(ann_path: str) -> Tuple[List[dict], List[str], str]:
    """``(entries, frame names, frame folder)`` of one annolist file."""
    with open(ann_path) as f:
        content = json.load(f)
    if 'annolist' not in content:
        raise InputDataError(
            f'{ann_path} is not a PoseTrack2017 annotation file (no '
            '"annolist")')
    entries = as_list(content['annolist'])
    if not entries:
        raise InputDataError(f'{ann_path} has an empty annolist')
    names = [first(e['image'], 'image', ann_path)['name'] for e in entries]
    folders = {osp.dirname(n) for n in names}
    if len(folders) != 1:
        raise InputDataError(
            f'{ann_path} mixes frames of several folders: {sorted(folders)}')
    return entries, names, folders.pop()


def convert_frame(entry: dict, where: str,
                  image: dict) -> Tuple[dict, List[dict]]:
    """The COCO image entry (``image`` with ``is_labeled`` and the ignore
    regions) and person entries of one annolist entry."""
    persons = [
        convert_person(rect, where) for rect in as_list(entry.get('annorect'))
    ]
    labeled = bool(
        first(
            entry.get('is_labeled', [int(bool(persons))]), 'is_labeled',
            where))
    regions_x, regions_y = ignore_regions(entry, where)
    image = dict(
        image,
        is_labeled=labeled,
        ignore_regions_x=regions_x,
        ignore_regions_y=regions_y)
    people = [
        dict(id=image['id'] * 100 + index, image_id=image['id'], **person)
        for index, person in enumerate(p for p in persons if p is not None)
    ]
    return image, people


def convert_video(ann_path: str, image_root: str, split: str, out_dir: str,
                  frames_mode: str) -> dict:
    """One annolist file -> ``dict(name, images, annotations, frame_numbers)``
    and the frame files.

    ``frame_numbers`` are the original frame numbers in the order of ``images``
    (for detection files).
    """
    entries, names, folder = read_annolist(ann_path)
    video = osp.basename(folder)
    number = video_number(video)
    frames = video_frames(image_root, folder)
    if len(frames) >= 10000:
        raise InputDataError(
            f'{folder} has {len(frames)} frames; frame ids allow at most 9999')
    first_frame = cv2.imread(osp.join(image_root, folder, frames[0]))
    if first_frame is None:
        raise IOError(
            f'cannot read the frame {osp.join(image_root, folder, frames[0])}')
    height, width = first_frame.shape[:2]
    index_of = {frame_number(f): i for i, f in enumerate(frames)}
    entry_of = {}
    for name, entry in zip(names, entries):
        if frame_number(name) not in index_of:
            raise FileNotFoundError(
                f'{ann_path} annotates {name}, which is not in '
                f'{osp.join(image_root, folder)}')
        entry_of[frame_number(name)] = entry

    images, annotations = [], []
    for index, frame in enumerate(frames):
        image_id = int(f'1{number}{index:04d}')
        file_name = f'images/{split}/{video}/{index:06d}.jpg'
        if frames_mode != 'none':
            place_frame(
                osp.join(image_root, folder, frame),
                osp.join(out_dir, file_name), frames_mode)
        image, people = convert_frame(
            entry_of.get(frame_number(frame), {}), f'{ann_path} ({frame})',
            dict(
                id=image_id,
                file_name=file_name,
                vid_id=number,
                frame_id=image_id,
                nframes=len(frames),
                width=width,
                height=height))
        images.append(image)
        annotations.extend(people)
    return dict(
        name=video,
        images=images,
        annotations=annotations,
        frame_numbers=[frame_number(f) for f in frames])


def detection_image_ids(videos: Sequence[dict],
                        numbering: str) -> Dict[Tuple[str, int], int]:
    """(video, number in a detection's file name) -> image id, for both
    numbering schemes."""
    ids = {}
    for video in videos:
        for index, (number, image) in enumerate(
                zip(video['frame_numbers'], video['images'])):
            ids[(video['name'], number if numbering == 'original' else index +
                 1)] = image['id']
    return ids


def convert_detections(det_file: str, image_ids: Dict[Tuple[str, int],
                                                      int]) -> List[dict]:
    """Detection list keyed by frame file (``image_name`` or ``file_name``) ->
    COCO results with ids.

    ``image_ids`` comes from :func:`detection_image_ids`.
    """
    with open(det_file) as f:
        detections = json.load(f)
    if not isinstance(detections, list):
        raise TypeError(f'{det_file} must hold a list of detections')
    results = []
    for i, det in enumerate(detections):
        name = det.get('image_name', det.get('file_name'))
        if name is None:
            raise KeyError(
                f'{det_file}: detection {i} has neither "image_name" nor '
                '"file_name"')
        key = (osp.basename(osp.dirname(name)), frame_number(name))
        if key not in image_ids:
            raise KeyError(
                f'{det_file}: detection {i} is for {name}, a frame of no '
                'converted video')
        results.append(
            dict(
                image_id=image_ids[key],
                bbox=[float(v) for v in det['bbox'][:4]],
                score=float(det['score']),
                category_id=int(det.get('category_id', 1))))
    return results


def dump_json(content, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(content, f)


def convert_split(ann_files: Sequence[str],
                  image_root: str,
                  split: str,
                  out_dir: str,
                  frames_mode: str = 'symlink',
                  det_file: Optional[str] = None,
                  det_numbering: str = 'original') -> dict:
    """Convert the annolist files of one split; returns a summary with the
    written paths."""
    merged = dict(images=[], annotations=[], categories=POSETRACK_CATEGORIES)
    videos, source_of = [], {}
    for ann_path in sorted(ann_files):
        video = convert_video(ann_path, image_root, split, out_dir,
                              frames_mode)
        for image in video['images']:
            if image['id'] in source_of:
                raise InputDataError(
                    f'image id {image["id"]} of {ann_path} was already given '
                    'to a frame of '
                    f'{source_of[image["id"]]}: two videos share a video '
                    'number')
            source_of[image['id']] = ann_path
        dump_json(
            dict(
                images=video['images'],
                annotations=video['annotations'],
                categories=POSETRACK_CATEGORIES),
            osp.join(out_dir, 'annotations', split, f'{video["name"]}.json'))
        merged['images'] += video['images']
        merged['annotations'] += video['annotations']
        videos.append(video)
    ann_file = osp.join(out_dir, 'annotations', f'posetrack17_{split}.json')
    dump_json(merged, ann_file)
    summary = dict(
        ann_file=ann_file,
        videos=len(ann_files),
        images=len(merged['images']),
        annotations=len(merged['annotations']))
    if det_file:
        det_out = osp.join(out_dir, 'annotations',
                           f'posetrack17_{split}_human_detections.json')
        detections = convert_detections(
            det_file, detection_image_ids(videos, det_numbering))
        dump_json(detections, det_out)
        summary.update(det_file=det_out, detections=len(detections))
    return summary


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--ann-dir',
        required=True,
        help='folder of per-video PoseTrack2017 annolist JSON files')
    parser.add_argument(
        '--image-root',
        required=True,
        help='folder that the annolist image names are relative to (holds '
        'images/...)')
    parser.add_argument(
        '--split',
        required=True,
        help="split name used in the output, e.g. 'train' or 'val'")
    parser.add_argument(
        '--out-dir',
        required=True,
        help='data root to write (e.g. data/posetrack17)')
    parser.add_argument(
        '--frames',
        choices=['symlink', 'copy', 'none'],
        default='symlink',
        help='how to place renamed frames under OUT_DIR/images (none: '
        'annotations only)')
    parser.add_argument(
        '--det-file',
        help='person detections keyed by frame file (image_name or file_name)')
    parser.add_argument(
        '--det-numbering',
        choices=['original', 'renamed'],
        default='original',
        help='frame numbers in --det-file names: original files, or 1-based '
        'positions '
        "(DetectAndTrack's images_renamed, used by PoseWarper/DCPose)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ann_files = glob.glob(osp.join(args.ann_dir, '*.json'))
    if not ann_files:
        raise FileNotFoundError(
            f'no .json annotation files in {args.ann_dir} (convert .mat files '
            'with '
            "poseval's matlab/mat2json.m first)")
    summary = convert_split(ann_files, args.image_root, args.split,
                            args.out_dir, args.frames, args.det_file,
                            args.det_numbering)
    print(f'PoseTrack2017 {args.split}: {summary["videos"]} videos, '
          f'{summary["images"]} frames, '
          f'{summary["annotations"]} persons -> {summary["ann_file"]}')
    if 'det_file' in summary:
        print(f'  {summary["detections"]} detections -> {summary["det_file"]}')


if __name__ == '__main__':
    run_cli(main)
