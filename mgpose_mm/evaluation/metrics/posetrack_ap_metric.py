"""PoseTrack mAP metric (poseval or PoseTrack21-kit protocol) for MMEngine."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger
from mmpose.evaluation.functional import oks_nms
from mmpose.registry import METRICS

from mgpose_mm.datasets.posetrack_json import load_videos
from mgpose_mm.errors import ConfigValueError, InputDataError
from mgpose_mm.utils import to_numpy
from ..functional.jitter import summarize_jitter
from ..functional.posetrack_ap import (JOINT_GROUPS, check_assignment,
                                       check_protocol, posetrack_ap)
from .posetrack_results import (build_frames, dump_video_predictions,
                                video_jitter_errors)
from .posetrack_subsets import (build_subset_records, dump_records,
                                subset_metrics)


@METRICS.register_module()
class PoseTrackAPMetric(BaseMetric):
    """Per-frame multi-person pose AP of PoseTrack, as the official tools.

    ``protocol='poseval'`` reproduces poseval's ``evaluateAP`` (the
    PoseTrack2017/2018 numbers), ``protocol='posetrack21'`` the PoseTrack21
    kit's ``PosemAP``; the rules of each (which GT and predicted joints
    count, which frames are evaluated, AP of joints without GT) are listed
    in :mod:`mgpose_mm.evaluation.functional.posetrack_ap`.

    Ground truth is read from ``ann_file``; predictions come from the data
    samples (``pred_instances.keypoints`` (N, K, 2) and ``keypoint_scores``
    (N, K) in image coordinates, with ``img_id`` and ``id``). All instances
    of a frame are evaluated together; evaluated frames without predictions
    count their GT joints as missed. The prediction files written with
    ``outfile_prefix`` give the same numbers with the official tools and
    with ``tools/analysis_tools/eval_posetrack.py``.

    Reported keys (with the ``posetrack`` prefix): ``Head AP``,
    ``Shoulder AP``, ``Elbow AP``, ``Wrist AP``, ``Hip AP``, ``Knee AP``,
    ``Ankle AP``, ``Total AP``; with ``attribute_subsets`` also the same keys
    under ``hard/`` for the evaluated frames whose image ``attributes`` mark
    ``occluded`` or ``motion_blur`` (synthetic data); with
    ``difficulty_subsets`` also under ``occluded/`` (only the joints an
    occluder covers, from the annotations' ``occluded_joints``) and
    ``blurred/`` (only the persons marked ``motion_blurred``), see
    :mod:`mgpose_mm.evaluation.functional.subsets`; and ``jitter``, the mean
    acceleration error of the predictions in % of the person size (GT tracks
    matched in three consecutive frames, see
    :mod:`mgpose_mm.evaluation.functional.jitter`).

    Args:
        ann_file (str | Sequence[str], optional): the COCO-style annotation
            file (e.g. ``posetrack18_val.json``), a directory of per-video
            files (PoseTrack18 ``annotations/val``, PoseTrack21
            ``posetrack_data/val``) or a list of files. If None, the
            annotation file recorded by the test dataset is used.
        protocol (str): ``'poseval'`` (PoseTrack2017/2018) or
            ``'posetrack21'`` (PoseTrack21). Defaults to ``'poseval'``.
        dist_thr (float): PCKh threshold. Defaults to 0.5.
        assignment (str): ``'poseval'`` (greedy, official) or
            ``'hungarian'``. Defaults to ``'poseval'``.
        attribute_subsets (bool): also report ``hard/...`` AP.
            Defaults to False.
        difficulty_subsets (bool): also report ``occluded/...`` and
            ``blurred/...`` AP. Defaults to False.
        record_file (str, optional): write the per-frame matching records of
            every subset (total, hard, occluded, blurred) to this ``.npz``
            file, for bootstrap intervals over videos
            (``tools/analysis_tools/ablation.py``). Defaults to None.
        nms_mode (str): ``'none'`` or ``'oks_nms'`` (MMPose's OKS NMS per
            frame before evaluation, for detected boxes). Defaults to
            ``'none'``.
        nms_thr (float): OKS NMS threshold. Defaults to 0.9.
        keypoint_score_thr (float): keypoints above it form the instance
            score ``bbox_score * mean(keypoint scores)`` (MMPose's
            ``bbox_keypoint`` score, used for NMS and written as ``score``).
            Defaults to 0.2.
        outfile_prefix (str, optional): directory to write predictions to,
            one official-format JSON per video (``<dir>/<video>.json``).
            Defaults to None (nothing written).
        format_only (bool): only write the prediction files.
            Defaults to False.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'posetrack'``.
    """
    default_prefix: Optional[str] = 'posetrack'

    def __init__(self,
                 ann_file: Optional[Union[str, Sequence[str]]] = None,
                 protocol: str = 'poseval',
                 dist_thr: float = 0.5,
                 assignment: str = 'poseval',
                 attribute_subsets: bool = False,
                 difficulty_subsets: bool = False,
                 record_file: Optional[str] = None,
                 nms_mode: str = 'none',
                 nms_thr: float = 0.9,
                 keypoint_score_thr: float = 0.2,
                 outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if nms_mode not in ('none', 'oks_nms'):
            raise ConfigValueError(
                f"nms_mode must be 'none' or 'oks_nms', got {nms_mode!r}")
        if format_only and not outfile_prefix:
            raise ConfigValueError(
                'format_only=True needs outfile_prefix (the '
                'directory for the prediction files)')
        if record_file is not None and not str(record_file).endswith('.npz'):
            raise ConfigValueError(
                f'record_file {record_file!r} must end with .npz (the subset '
                'records are written as a NumPy archive)')
        self.ann_file = ann_file
        self.protocol = check_protocol(protocol)
        self.dist_thr = dist_thr
        self.assignment = check_assignment(assignment)
        self.attribute_subsets = attribute_subsets
        self.difficulty_subsets = difficulty_subsets
        self.record_file = record_file
        self.nms_mode = nms_mode
        self.nms_thr = nms_thr
        self.keypoint_score_thr = keypoint_score_thr
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Keep the predicted instances of each data sample."""
        for sample in data_samples:
            if 'pred_instances' not in sample:
                raise ValueError('PoseTrackAPMetric needs pred_instances in '
                                 'each data sample')
            pred = sample['pred_instances']
            keypoints = to_numpy(pred['keypoints']).astype(np.float64)
            scores = to_numpy(pred['keypoint_scores']).astype(np.float64)
            if keypoints.ndim != 3 or scores.shape != keypoints.shape[:2]:
                raise ValueError(
                    f'sample {sample.get("id")}: keypoints {keypoints.shape} '
                    f'and keypoint_scores {scores.shape} must be (N, K, 2) '
                    'and (N, K)')
            num = len(keypoints)
            gt_instances = sample.get('gt_instances', {})
            if 'bbox_scores' in pred:
                bbox_scores = to_numpy(pred['bbox_scores'])
            elif len(gt_instances.get('bbox_scores', ())) == num:
                bbox_scores = to_numpy(gt_instances['bbox_scores'])
            else:
                bbox_scores = np.ones(num)
            if len(gt_instances.get('bbox_scales', ())) == num:
                areas = np.prod(to_numpy(gt_instances['bbox_scales']), axis=1)
            else:
                extent = keypoints.max(axis=1) - keypoints.min(axis=1)
                areas = extent[:, 0] * extent[:, 1]
            track_ids = (
                to_numpy(pred['track_ids'])
                if 'track_ids' in pred else [None] * num)
            for i in range(num):
                self.results.append(
                    dict(
                        id=sample['id'],
                        img_id=sample['img_id'],
                        instance_index=i,
                        keypoints=keypoints[i],
                        keypoint_scores=scores[i],
                        bbox_score=float(np.ravel(bbox_scores)[i]),
                        area=float(areas[i]),
                        track_id=track_ids[i]))

    def _resolve_ann_file(self) -> Union[str, Sequence[str]]:
        if self.ann_file:
            return self.ann_file
        dataset_name = (self.dataset_meta or {}).get('dataset_name')
        ann_file = MessageHub.get_current_instance().get_info(
            f'{dataset_name}_ann_file') if dataset_name else None
        if not ann_file:
            raise ConfigValueError('PoseTrackAPMetric needs ann_file (no test '
                                   'dataset recorded its annotation file)')
        return ann_file

    def _instance_score(self, instance: dict) -> float:
        """MMPose's ``bbox_keypoint`` instance score."""
        scores = instance['keypoint_scores']
        valid = scores[scores > self.keypoint_score_thr]
        return instance['bbox_score'] * (valid.mean() if valid.size else 0.)

    def _group_predictions(self, results: List[dict]) -> Dict[int, list]:
        """Predictions by image id, duplicates (same sample) dropped,
        optionally OKS-NMS filtered."""
        by_image: Dict[int, list] = {}
        seen = set()
        for instance in results:
            key = (instance['img_id'], instance['id'],
                   instance['instance_index'])
            if key in seen:
                continue
            seen.add(key)
            instance = dict(instance, score=self._instance_score(instance))
            by_image.setdefault(instance['img_id'], []).append(instance)
        if self.nms_mode == 'oks_nms':
            sigmas = (self.dataset_meta or {}).get('sigmas')
            if sigmas is None:
                raise ConfigValueError(
                    "nms_mode='oks_nms' needs the dataset's "
                    'sigmas in dataset_meta')
            for img_id, instances in by_image.items():
                kpts_db = [
                    dict(
                        keypoints=np.concatenate([
                            inst['keypoints'], inst['keypoint_scores'][:, None]
                        ],
                                                 axis=1),
                        score=inst['score'],
                        area=inst['area']) for inst in instances
                ]
                keep = oks_nms(kpts_db, self.nms_thr, sigmas=sigmas)
                by_image[img_id] = [instances[i] for i in keep]
        return by_image

    def _ap_metrics(self, frames: list, hard: List[bool]) -> OrderedDict:
        """``'<group> AP'`` of all evaluated frames and, with
        ``attribute_subsets``, ``'hard/<group> AP'`` of the hard ones."""
        logger = MMLogger.get_current_instance()
        metrics = OrderedDict()
        subsets = [('', frames)]
        if self.attribute_subsets:
            subsets.append(('hard/', [f for f, h in zip(frames, hard) if h]))
        for name, subset in subsets:
            if subset:
                summary = posetrack_ap(subset, self.protocol, self.dist_thr,
                                       self.assignment)['summary']
            else:
                logger.warning(
                    f'PoseTrackAPMetric: no evaluated frames for '
                    f'"{name or "all"}"; its AP is NaN (printed as n/a)')
                summary = OrderedDict.fromkeys(
                    list(JOINT_GROUPS) + ['Total'], float('nan'))
            for group, value in summary.items():
                metrics[f'{name}{group} AP'] = value
            logger.info(f'PoseTrack AP {name or "all"} ({len(subset)} '
                        'frames): ' + ', '.join(
                            f'{g} ' +
                            ('n/a' if v != v else f'{v:.1f}')  # NaN: no frames
                            for g, v in summary.items()))
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the AP table (and write prediction files if asked)."""
        logger = MMLogger.get_current_instance()
        videos = load_videos(self._resolve_ann_file())
        preds_by_image = self._group_predictions(results)
        known_ids = {img['id'] for video in videos for img in video.images}
        unknown = sorted(set(preds_by_image) - known_ids)
        if unknown:
            raise InputDataError(
                f'{len(unknown)} predicted img_id(s) are not in ann_file '
                f'{self.ann_file!r}, e.g. {unknown[:3]}')

        if self.outfile_prefix:
            written = dump_video_predictions(videos, preds_by_image,
                                             self.outfile_prefix)
            logger.info(f'wrote {len(written)} PoseTrack prediction files to '
                        f'{self.outfile_prefix}')
        if self.format_only:
            return {}

        metrics = self._ap_metrics(
            *build_frames(videos, preds_by_image, self.protocol))
        jitter_errors = {
            video.name: video_jitter_errors(video, preds_by_image,
                                            self.protocol)
            for video in videos
        }
        jitter = summarize_jitter(np.concatenate(list(jitter_errors.values())))
        metrics['jitter'] = jitter['jitter']
        logger.info(f'PoseTrack jitter (acceleration error, % of the person '
                    f'size) {jitter["jitter"]:.2f} over '
                    f'{jitter["num_joints"]} joints')
        if self.difficulty_subsets or self.record_file:
            records = build_subset_records(videos, preds_by_image,
                                           self.dist_thr, self.assignment,
                                           self.protocol)
            if self.difficulty_subsets:
                metrics.update(subset_metrics(records))
                logger.info('PoseTrack AP occluded joints ({} frames) {:.1f}, '
                            'blurred persons ({} frames) {:.1f}'.format(
                                len(records['occluded']),
                                metrics['occluded/Total AP'],
                                len(records['blurred']),
                                metrics['blurred/Total AP']))
            if self.record_file:
                dump_records(records, self.record_file, jitter_errors)
                logger.info(f'wrote subset records to {self.record_file}')
        return metrics
