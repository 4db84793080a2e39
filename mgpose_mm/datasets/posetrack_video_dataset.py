"""PoseTrack2017/2018 (COCO-style) clips around annotated key frames."""
import contextlib
import io
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import mmpose
import numpy as np
from mmengine.fileio import exists, get_local_path, load
from mmengine.utils import is_list_of
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS
from mmpose.structures.bbox import bbox_xywh2xyxy
from xtcocotools.coco import COCO

from mgpose_mm.errors import ConfigValueError
from mgpose_mm.utils import clip_frame_numbers, split_frame_file


def mmpose_dataset_info(name: str) -> str:
    """Path of MMPose's dataset meta file ``configs/_base_/datasets/<name>`` as
    installed.

    A wheel ships it under ``mmpose/.mim/configs``; an editable install (a
    clone) keeps it in the clone's ``configs``. A relative
    ``configs/_base_/...`` path only resolves in an MMPose clone (elsewhere
    MMPose warns that it does not exist and looks in ``.mim`` itself).
    """
    package = osp.dirname(mmpose.__file__)
    candidates = [
        osp.join(package, '.mim', 'configs', '_base_', 'datasets', name),
        osp.join(osp.dirname(package), 'configs', '_base_', 'datasets', name)
    ]
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'MMPose dataset meta file {name} not found in ' +
                            ' or '.join(candidates))


def check_frame_offsets(frame_offsets: Sequence[int]) -> Tuple[int, ...]:
    """Validate ``frame_offsets`` (ints, strictly increasing, containing 0)."""
    offsets = tuple(frame_offsets)
    if not offsets or not all(
            isinstance(o, (int, np.integer)) for o in offsets):
        raise ConfigValueError(
            'frame_offsets must be a non-empty sequence of ints, '
            f'got {frame_offsets!r}')
    offsets = tuple(int(o) for o in offsets)
    if 0 not in offsets:
        raise ConfigValueError(
            'frame_offsets must contain 0 (the key frame), got '
            f'{offsets}')
    if any(b <= a for a, b in zip(offsets, offsets[1:])):
        raise ConfigValueError(
            'frame_offsets must be strictly increasing (frames '
            f'are ordered by time), got {offsets}')
    return offsets


def clip_frame_paths(key_frame_path: str,
                     nframes: int,
                     frame_offsets: Sequence[int],
                     first_frame_index: int = 0) -> Tuple[List[str], int]:
    """Paths of the clip frames around a key frame, clamped to the video.

    The frame number is the number at the end of the key frame's file name
    (``.../012834_mpii_test/000017.jpg`` -> 17); supporting frames replace it
    with ``17 + offset``, clamped to
    ``[first_frame_index, first_frame_index + nframes - 1]``, keeping the
    zero-padding width of the key frame's number.

    Returns:
        tuple: the T frame paths (ordered like ``frame_offsets``) and the key
        frame index within the clip.
    """
    folder = osp.dirname(key_frame_path)
    parsed = split_frame_file(key_frame_path)
    if parsed is None:
        raise ValueError(f'cannot find a frame number in the file name of '
                         f'{key_frame_path!r}')
    stem, digits, ext = parsed
    key_number = int(digits)
    last = first_frame_index + int(nframes) - 1
    if not first_frame_index <= key_number <= last:
        raise ValueError(
            f'key frame {key_frame_path!r} has frame number {key_number}, '
            f'outside the video ({nframes} frames from {first_frame_index})')
    paths = [
        osp.join(folder, f'{stem}{number:0{len(digits)}d}{ext}') for number in
        clip_frame_numbers(key_number, frame_offsets, first_frame_index, last)
    ]
    return paths, list(frame_offsets).index(0)


class ImageNameIndex:
    """Find the image id of a detection given by file name.

    DCPose's / PoseWarper's precomputed PoseTrack2017 boxes
    (``posetrack17_precomputed_boxes/val_boxes.json``: ``image_name``,
    ``bbox`` xywh, ``score``, ``category_id``, ``nframes``, ``frame_id``) name
    images by a path relative to their own image folder. A name matches the
    image whose ``file_name`` equals it, else the one with the same video
    folder and frame file (the last two path components).
    """

    def __init__(self, images):
        self.by_path, self.by_tail = {}, {}
        for img in images:
            parts = tuple(osp.normpath(img['file_name']).split(osp.sep))
            self.by_path[parts] = img['id']
            # a tail shared by two images identifies neither
            tail = parts[-2:]
            self.by_tail[tail] = None if tail in self.by_tail else img['id']

    def __call__(self, image_name: str) -> Optional[int]:
        parts = tuple(osp.normpath(image_name).split(osp.sep))
        if parts in self.by_path:
            return self.by_path[parts]
        return self.by_tail.get(parts[-2:])


@DATASETS.register_module()
class PoseTrackVideoDataset(BaseCocoStyleDataset):
    """PoseTrack2018 / converted PoseTrack2017 clips for top-down video pose.

    One sample per annotated person (with at least one labelled keypoint) of
    a labelled key frame. The sample carries the T frame paths at
    ``frame_offsets`` around the key frame (``frame_paths``), clamped to the
    first/last frame of the video, ``key_frame_index`` (position of offset 0)
    and the key frame's box and keypoints. Images are read by
    ``LoadVideoFrames``. Unlike MMPose's ``PoseTrack18VideoDataset`` the
    frame set is fixed per offset and the key frame appears once.

    Expected layout (``data_root``)::

        data_root/
          images/{train,val}/<video>/<frame:06d>.jpg
          annotations/posetrack18_{train,val}.json      # ann_file (merged)
          annotations/{train,val}/<video>.json          # per video (metric)
          annotations/posetrack18_val_human_detections.json   # bbox_file

    Image entries need ``id``, ``file_name``
    (``images/val/<video>/000017.jpg``), ``nframes``, ``width``, ``height``
    and optionally ``is_labeled`` (frames with ``is_labeled`` false are
    skipped); annotation entries need ``id``,
    ``image_id``, ``bbox`` (xywh), ``keypoints`` ([x, y, v] * 17),
    ``category_id``. PoseTrack2017 converted to this layout with 1-based
    frame numbers (``00000001.jpg``) needs ``first_frame_index=1``.

    Args:
        ann_file (str): COCO-style annotation file.
        bbox_file (str, optional): person detections used instead of GT
            boxes, test mode only: a COCO results list (``image_id``,
            ``bbox`` xywh, ``score``, ``category_id``) or the precomputed
            PoseTrack2017 boxes of DCPose/PoseWarper (``image_name`` instead
            of ``image_id``, see :class:`ImageNameIndex`). Filter low-score
            boxes with ``filter_cfg=dict(bbox_score_thr=...)`` as in MMPose.
        frame_offsets (Sequence[int]): frame offsets of the clip relative to
            the key frame, strictly increasing, containing 0.
            Defaults to ``(-1, 0, 1)``.
        first_frame_index (int): number of a video's first frame file.
            Defaults to 0.
        supervise_occluded_joints (bool): train on joints stored with
            visibility 0 but real coordinates (PoseTrack2017 marks occluded
            joints so; PoseTrack18 stores unannotated joints as
            ``(0, 0, 0)``). poseval evaluates these joints, so a model must
            learn to place them. Defaults to True.
        **kwargs: the other arguments of ``BaseCocoStyleDataset``
            (``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``...).
    """

    METAINFO: dict = dict(from_file=mmpose_dataset_info('posetrack18.py'))

    def __init__(self,
                 ann_file: str = '',
                 bbox_file: Optional[str] = None,
                 frame_offsets: Sequence[int] = (-1, 0, 1),
                 first_frame_index: int = 0,
                 supervise_occluded_joints: bool = True,
                 data_mode: str = 'topdown',
                 **kwargs):
        self.frame_offsets = check_frame_offsets(frame_offsets)
        self.first_frame_index = int(first_frame_index)
        self.supervise_occluded_joints = bool(supervise_occluded_joints)
        if data_mode != 'topdown':
            raise ConfigValueError(f'{self.__class__.__name__} only supports '
                                   f'data_mode="topdown", got {data_mode!r}')
        super().__init__(
            ann_file=ann_file,
            bbox_file=bbox_file,
            data_mode=data_mode,
            **kwargs)

    def _load_coco(self) -> COCO:
        """Read ``self.ann_file`` into a COCO index."""
        if not self.ann_file or not exists(self.ann_file):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: annotation file '
                f'{self.ann_file!r} does not exist')
        # xtcocotools prints its loading steps; keep the console for progress
        # and results
        with get_local_path(
                self.ann_file) as local_path, contextlib.redirect_stdout(
                    io.StringIO()):
            return COCO(local_path)

    def _clip_info(self, img: dict) -> dict:
        """Clip fields of a sample whose key frame is the image ``img``."""
        if 'nframes' not in img:
            raise KeyError(f'image {img.get("id")} ({img.get("file_name")}) '
                           f'in {self.ann_file!r} has no "nframes"')
        key_path = osp.join(self.data_prefix['img'], img['file_name'])
        frame_paths, key_frame_index = clip_frame_paths(
            key_path, img['nframes'], self.frame_offsets,
            self.first_frame_index)
        return dict(
            img_path=key_path,
            frame_paths=frame_paths,
            key_frame_index=key_frame_index,
            frame_offsets=self.frame_offsets)

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """One instance per valid person annotation of a labelled frame."""
        # MMPose's version reads one COCO file itself; PoseTrack21 merges
        # per-video files (_load_coco) and unlabelled frames are skipped here.
        self.coco = self._load_coco()
        if 'categories' in self.coco.dataset:
            self._metainfo['CLASSES'] = self.coco.loadCats(
                self.coco.getCatIds())
        instance_list, image_list = [], []
        for img_id in self.coco.getImgIds():
            if img_id % self.sample_interval != 0:
                continue
            img = dict(self.coco.loadImgs(img_id)[0])
            if not img.get('is_labeled', True):
                continue
            img.update(
                img_id=img_id,
                img_path=osp.join(self.data_prefix['img'], img['file_name']))
            image_list.append(img)
            for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=img_id)):
                info = self.parse_data_info(
                    dict(raw_ann_info=ann, raw_img_info=img))
                if info:
                    instance_list.append(info)
        return instance_list, image_list

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """MMPose's COCO instance parsing plus the clip fields.

        With ``supervise_occluded_joints``, a joint stored with visibility 0
        but real coordinates (PoseTrack2017's occluded joints) gets weight 1.
        """
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None:
            return None
        if self.supervise_occluded_joints:
            keypoints = np.asarray(
                raw_data_info['raw_ann_info']['keypoints'],
                dtype=np.float32).reshape(1, -1, 3)
            annotated = np.any(keypoints[..., :2] != 0, axis=-1)
            data_info['keypoints_visible'] = np.maximum(
                data_info['keypoints_visible'], annotated.astype(np.float32))
        data_info.update(self._clip_info(raw_data_info['raw_img_info']))
        return data_info

    def _load_detection_results(self) -> List[dict]:
        """One sample per person detection of ``bbox_file``."""
        # MMPose's version needs image_id; DCPose's boxes give image_name
        # (ImageNameIndex).
        if not exists(self.bbox_file):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: bbox_file {self.bbox_file!r} '
                'does not exist')
        detections = load(self.bbox_file)
        if not is_list_of(detections, dict):
            raise TypeError(f'bbox_file {self.bbox_file!r} must hold a list '
                            'of detection dicts')
        self.coco = self._load_coco()
        self._metainfo['CLASSES'] = self.coco.loadCats(self.coco.getCatIds())
        num_keypoints = self.metainfo['num_keypoints']
        data_list = []
        find_image = ImageNameIndex(self.coco.imgs.values())
        for det in detections:
            if det.get('category_id', 1) != 1:
                continue
            image_id = det.get('image_id')
            if image_id is None and 'image_name' in det:
                image_id = find_image(det['image_name'])
            if image_id not in self.coco.imgs:
                raise KeyError(
                    f'detection for image '
                    f'{det.get("image_id", det.get("image_name"))!r} in '
                    f'{self.bbox_file!r} has no image in {self.ann_file!r}')
            img = self.coco.imgs[image_id]
            data_info = dict(
                img_id=image_id,
                bbox=bbox_xywh2xyxy(
                    np.array(det['bbox'][:4], dtype=np.float32).reshape(1, 4)),
                bbox_score=np.array(det['score'], dtype=np.float32).reshape(1),
                keypoints=np.zeros((1, num_keypoints, 2), dtype=np.float32),
                keypoints_visible=np.ones((1, num_keypoints),
                                          dtype=np.float32),
                category_id=1,
                id=len(data_list))
            data_info.update(self._clip_info(img))
            data_list.append(data_info)
        return data_list
