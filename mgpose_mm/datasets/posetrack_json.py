"""Reading PoseTrack annotation JSON files (merged COCO-style or per video).

PoseTrack18 ships one COCO-style file per video
(``annotations/val/<video>.json``), MMPose's configs use the merged
``posetrack18_val.json``, and PoseTrack21 ships one file per video under
``posetrack_data/{train,val}``. All share the same ``images`` / ``annotations``
/ ``categories`` fields. These helpers turn any of them (a file, a directory of
files, or a list of files) into per-video groups or into one merged COCO-style
dict.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Union

from mmengine.fileio import exists, isdir, list_dir_or_file, load

from mgpose_mm.errors import ConfigValueError

AnnFile = Union[str, Sequence[str]]

POSETRACK_KEYPOINT_NAMES = ('nose', 'head_bottom', 'head_top', 'left_ear',
                            'right_ear', 'left_shoulder', 'right_shoulder',
                            'left_elbow', 'right_elbow', 'left_wrist',
                            'right_wrist', 'left_hip', 'right_hip',
                            'left_knee', 'right_knee', 'left_ankle',
                            'right_ankle')
# PoseTrack18's skeleton, 1-based keypoint indices, as in the official files.
POSETRACK_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13],
                      [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
                      [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                      [4, 6], [5, 7]]
#: the ``categories`` entry of PoseTrack18 files
POSETRACK_CATEGORIES = [
    dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=list(POSETRACK_KEYPOINT_NAMES),
        skeleton=POSETRACK_SKELETON)
]


@dataclass
class PoseTrackVideo:
    """Annotations of one video.

    Attributes:
        name (str): video name, e.g. ``'012834_mpii_test'`` (the name of the
            official per-video annotation file without ``.json``).
        images (list[dict]): image entries in file order.
        annotations (list[dict]): person entries of these images.
        categories (list[dict]): the COCO categories of the source file.
    """
    name: str
    images: List[dict] = field(default_factory=list)
    annotations: List[dict] = field(default_factory=list)
    categories: List[dict] = field(default_factory=list)


def list_annotation_files(ann_file: AnnFile) -> List[str]:
    """Resolve ``ann_file`` (a JSON file, a directory of JSON files, or a list
    of JSON files) into a list of existing JSON file paths."""
    if isinstance(ann_file, str):
        if not ann_file:
            raise ConfigValueError(
                'ann_file is empty: give a PoseTrack JSON file, a directory '
                'of per-video JSON files or a list of JSON files')
        if isdir(ann_file):
            files = sorted(
                osp.join(ann_file, name) for name in list_dir_or_file(
                    ann_file, list_dir=False, suffix='.json'))
            if not files:
                raise FileNotFoundError(
                    f'ann_file directory {ann_file!r} holds no .json files')
            return files
        files = [ann_file]
    else:
        files = list(ann_file)
        if not files:
            raise ConfigValueError('ann_file is an empty list of JSON files')
    for path in files:
        if not exists(path):
            raise FileNotFoundError(
                f'PoseTrack annotation file {path!r} does not exist')
    return files


def video_name_of(image: dict) -> str:
    """Video name of an image entry: the folder holding its frame file."""
    return osp.basename(osp.dirname(image['file_name']))


def _load_json(path: str) -> dict:
    content = load(path, file_format='json')
    if not isinstance(content, dict) or 'images' not in content:
        raise ValueError(f'{path!r} is not a PoseTrack/COCO-style annotation '
                         'file (no "images" list)')
    return content


def load_videos(ann_file: AnnFile) -> List[PoseTrackVideo]:
    """Load PoseTrack annotations grouped by video.

    A single file (e.g. the merged ``posetrack18_val.json``) is split into
    videos by the folder of each image's ``file_name``; files given as a
    directory or a list are one video each, named after the file.

    Returns:
        list[PoseTrackVideo]: videos in file order, images in file order.
    """
    files = list_annotation_files(ann_file)
    videos: Dict[str, PoseTrackVideo] = {}
    source_of_video: Dict[str, str] = {}
    # One merged file is split by frame folder; per-video files keep their
    # own names (poseval pairs prediction and GT files by file name).
    split_by_folder = isinstance(ann_file, str) and not isdir(ann_file)
    for path in files:
        content = _load_json(path)
        images = content['images']
        video_of_image = {}
        for img in images:
            name = (
                video_name_of(img) if split_by_folder else osp.splitext(
                    osp.basename(path))[0])
            if source_of_video.setdefault(name, path) != path:
                raise ValueError(
                    f'video {name!r} appears in two annotation files: '
                    f'{source_of_video[name]!r} and {path!r}')
            video = videos.setdefault(
                name,
                PoseTrackVideo(name, categories=content.get('categories', [])))
            video.images.append(img)
            video_of_image[img['id']] = name
        for ann in content.get('annotations', []):
            if ann['image_id'] not in video_of_image:
                raise ValueError(
                    f'annotation {ann.get("id")} in {path!r} refers to '
                    f'image_id {ann["image_id"]}, which is not in its images')
            videos[video_of_image[ann['image_id']]].annotations.append(ann)
    return list(videos.values())


def merge_videos(videos: Sequence[PoseTrackVideo]) -> dict:
    """Merge videos into one COCO-style dict; image ids must be unique."""
    merged = dict(images=[], annotations=[], categories=[])
    seen_ids = {}
    for video in videos:
        if not merged['categories']:
            merged['categories'] = list(video.categories)
        for img in video.images:
            if img['id'] in seen_ids:
                raise ValueError(
                    f'image id {img["id"]} is used in video {video.name!r} '
                    f'and in video {seen_ids[img["id"]]!r}')
            seen_ids[img['id']] = video.name
        merged['images'].extend(video.images)
        merged['annotations'].extend(video.annotations)
    return merged
