"""Difficulty-subset records of a PoseTrack evaluation (for the metric and the
ablation study)."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from mgpose_mm.datasets.posetrack_json import PoseTrackVideo
from mgpose_mm.errors import ConfigValueError, InputFileError
from mgpose_mm.utils import AtomicFile
from ..functional.posetrack_ap import NUM_KEYPOINTS
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


def dump_records(records: Dict[str, List[FrameRecord]],
                 path: str,
                 jitter: Optional[Dict[str, np.ndarray]] = None) -> None:
    """Write the records to ``path`` (``.npz``, plain arrays only) for
    :func:`load_records` (the ablation runner's bootstrap reads them).

    ``jitter`` (video name -> (M, K) acceleration errors) is stored as
    ``jitter.video`` (sum M,) and ``jitter.errors`` (sum M, K), read by
    :func:`load_jitter`.

    Per subset ``<name>``: ``<name>.video`` (R,) video names,
    ``<name>.num_persons`` (R,) predicted persons P of each frame,
    ``<name>.scores`` / ``.labels`` / ``.has_pred`` (sum P, K) stacked over
    the frames and ``<name>.num_gt`` (R, K).
    """
    if not path.endswith('.npz'):
        raise ConfigValueError(
            f'record file {path!r} must end with .npz (a NumPy archive)')
    arrays = dict(version=np.array(RECORDS_VERSION))
    num_keypoints = NUM_KEYPOINTS
    for name, recs in records.items():
        if name not in SUBSETS:
            raise ValueError(
                f'unknown subset {name!r}; expected one of {SUBSETS}')
        if recs:
            num_keypoints = np.shape(recs[0].num_gt)[-1]
    for name, recs in records.items():
        arrays[f'{name}.video'] = np.array([r.video for r in recs],
                                           dtype=np.str_)
        arrays[f'{name}.num_persons'] = np.array([len(r.scores) for r in recs],
                                                 dtype=np.int64)
        for field, dtype in (('scores', np.float64), ('labels', bool),
                             ('has_pred', bool)):
            arrays[f'{name}.{field}'] = np.concatenate(
                [np.zeros((0, num_keypoints), dtype)] + [
                    np.asarray(getattr(r, field), dtype).reshape(
                        -1, num_keypoints) for r in recs
                ])
        arrays[f'{name}.num_gt'] = np.asarray(
            [r.num_gt for r in recs] or np.zeros((0, num_keypoints)),
            dtype=np.int64)
    if jitter is not None:
        arrays['jitter.video'] = np.array(
            [v for v, e in jitter.items() for _ in range(len(e))],
            dtype=np.str_)
        arrays['jitter.errors'] = np.concatenate(
            [np.zeros((0, num_keypoints))] +
            [np.reshape(e, (-1, num_keypoints)) for e in jitter.values()])
    with AtomicFile(path) as out, open(out.tmp_path, 'wb') as f:
        np.savez_compressed(f, **arrays)


def load_jitter(path: str) -> Optional[Dict[str, np.ndarray]]:
    """Video name -> (M, K) acceleration errors of a record file, None when the
    file has none (written before jitter was recorded)."""
    with np.load(path, allow_pickle=False) as archive:
        if 'jitter.video' not in archive.files:
            return None
        videos, errors = archive['jitter.video'], archive['jitter.errors']
    return {
        str(v): errors[videos == v]
        for v in dict.fromkeys(videos.tolist())
    }


def load_records(path: str) -> Dict[str, List[FrameRecord]]:
    """Records written by :func:`dump_records`.

    The file is read as plain arrays (``allow_pickle=False``): a file holding
    Python objects (a pickle, or an ``.npz`` with object arrays) is refused,
    so a crafted record file cannot run code.

    Raises:
        InputFileError: ``path`` is no record file of this version.
    """

    def refuse(reason):
        return InputFileError(
            f'{path} is not a version-{RECORDS_VERSION} subset record file '
            f'(.npz written by the PoseTrack AP metric): {reason}')

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError) as error:
        raise refuse(error) from None
    if arrays.get('version', np.array(-1)).tolist() != RECORDS_VERSION:
        raise refuse('no matching version entry')
    records: Dict[str, List[FrameRecord]] = {}
    try:
        for name in SUBSETS:
            if f'{name}.video' not in arrays:
                continue
            videos = arrays[f'{name}.video']
            counts = arrays[f'{name}.num_persons']
            ends = np.cumsum(counts)
            starts = ends - counts
            records[name] = [
                FrameRecord(
                    video=str(video),
                    scores=arrays[f'{name}.scores'][start:end],
                    labels=arrays[f'{name}.labels'][start:end],
                    has_pred=arrays[f'{name}.has_pred'][start:end],
                    num_gt=arrays[f'{name}.num_gt'][i])
                for i, (video, start,
                        end) in enumerate(zip(videos, starts, ends))
            ]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise refuse(error) from None
    return records


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
