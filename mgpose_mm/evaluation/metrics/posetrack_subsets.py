"""Difficulty-subset records of a PoseTrack evaluation (for the metric and the
ablation study)."""
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence

from mgpose_mm.datasets.posetrack_json import PoseTrackVideo
from ..functional.subsets import (SUBSETS, FrameRecord, frame_records,
                                  records_ap, subset_masks)
from .posetrack_results import (evaluated_images, frame_ground_truth,
                                frame_prediction, is_hard)

RECORDS_VERSION = 1


def build_subset_records(videos: Sequence[PoseTrackVideo],
                         preds_by_image: Dict[int, List[dict]],
                         dist_thr: float = 0.5,
                         assignment: str = 'poseval',
                         protocol: str = 'poseval'
                         ) -> Dict[str, List[FrameRecord]]:
    """Frame records of every subset (``total``, ``hard``, ``occluded``,
    ``blurred``).

    Frames are the evaluated frames of :func:`build_frames` (same order);
    frames without predictions get empty predictions.
    """
    frames, masks, names = [], [], []
    for video, image, anns in evaluated_images(videos, protocol):
        gt = frame_ground_truth(image, anns)
        frames.append(
            (gt, frame_prediction(preds_by_image.get(image['id'], []))))
        masks.append(subset_masks(gt, anns, is_hard(image)))
        names.append(video.name)
    return frame_records(frames, masks, names, dist_thr, assignment, protocol)


def dump_records(records: Dict[str, List[FrameRecord]], path: str) -> None:
    """Pickle the records (plain arrays and strings) to ``path`` for
    :func:`load_records` (the ablation runner's bootstrap reads them)."""
    payload = dict(
        version=RECORDS_VERSION,
        subsets={
            name: [
                dict(
                    video=r.video,
                    scores=r.scores,
                    labels=r.labels,
                    has_pred=r.has_pred,
                    num_gt=r.num_gt) for r in recs
            ]
            for name, recs in records.items()
        })
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_records(path: str) -> Dict[str, List[FrameRecord]]:
    """Records written by :func:`dump_records` (only load files you wrote:

    pickle).
    """
    with open(path, 'rb') as f:
        payload = pickle.load(f)
    if not isinstance(payload,
                      dict) or payload.get('version') != RECORDS_VERSION:
        raise ValueError(
            f'{path} is not a version-{RECORDS_VERSION} subset record file')
    return {
        name: [FrameRecord(**r) for r in recs]
        for name, recs in payload['subsets'].items()
    }


def subset_metrics(
    records: Dict[str, List[FrameRecord]],
    names: Sequence[str] = ('occluded', 'blurred')
) -> Dict[str, float]:
    """``'<subset>/<group> AP'`` for the named subsets (NaN where the subset is
    empty)."""
    metrics = {}
    for name in names:
        if name not in SUBSETS:
            raise ValueError(
                f'unknown subset {name!r}; expected one of {SUBSETS}')
        for group, value in records_ap(records.get(name, [])).items():
            metrics[f'{name}/{group} AP'] = value
    return metrics
