"""Person clips from decoded frames and batched inference of a video top-down
pose model."""
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from ..utils import to_numpy
from .model_loading import clip_frame_offsets


def _transform_name(transform) -> str:
    kind = transform.get('type') if isinstance(transform,
                                               dict) else type(transform)
    return kind if isinstance(kind, str) else getattr(kind, '__name__',
                                                      str(kind))


def is_loading_step(transform) -> bool:
    """True for a pipeline step that reads files (``LoadVideoFrames``,
    ``LoadImage``, ...):

    by MMCV/MMPose convention their type names start with ``Load``.
    """
    return _transform_name(transform).split('.')[-1].startswith('Load')


class ClipBuilder:
    """Turns T decoded frames and one person box into a packed model input.

    Runs the config's ``test_dataloader.dataset.pipeline`` without its loading step(s):
    ``GetBBoxCenterScale`` on the key frame's box, ``TopdownAffine`` applying that one crop to
    every frame, ``PackPoseInputs``/``PackVideoPoseInputs`` stacking them to (T, 3, h, w).

    Args:
        model (nn.Module): a model from :func:`init_video_pose_model` (``cfg``, ``dataset_meta``).
    """

    def __init__(self, model: nn.Module):
        pipeline_cfg = model.cfg.test_dataloader.dataset.pipeline
        # transforms are named in the model's scope (MMPose), whatever scope is current
        with DefaultScope.overwrite_default_scope(
                model.cfg.get('default_scope', 'mmpose')):
            self.pipeline = Compose(
                [step for step in pipeline_cfg if not is_loading_step(step)])
        self.frame_offsets, self.key_frame_index = clip_frame_offsets(model)
        self.dataset_meta = dict(model.dataset_meta or {})
        self._next_id = 0

    def build(self, frames: Sequence[np.ndarray], frame_names: Sequence[str],
              bbox: np.ndarray, bbox_score: float, frame_index: int) -> dict:
        """Pack one person clip.

        Args:
            frames: the T frames (H, W, 3) BGR uint8, ordered like ``frame_offsets``.
            frame_names: the T frame names (``frame_paths`` meta).
            bbox (np.ndarray): (4,) xyxy box of the person in the key frame.
            bbox_score (float): its detection score.
            frame_index (int): index of the key frame in the video (``img_id`` meta).

        Returns:
            dict: ``inputs`` (T, 3, h, w) uint8 tensor and ``data_samples`` (PoseDataSample).
        """
        key_shape = frames[self.key_frame_index].shape[:2]
        results = dict(
            img=list(frames),
            img_shape=key_shape,
            ori_shape=key_shape,
            img_path=frame_names[self.key_frame_index],
            frame_paths=list(frame_names),
            key_frame_index=self.key_frame_index,
            frame_offsets=self.frame_offsets,
            bbox=np.asarray(bbox, np.float32).reshape(1, 4),
            bbox_score=np.asarray([bbox_score], np.float32),
            id=self._next_id,
            img_id=frame_index,
            category_id=1)
        results.update(self.dataset_meta)
        self._next_id += 1
        packed = self.pipeline(results)
        if packed is None:
            raise RuntimeError(
                f'the test pipeline dropped the clip of frame {frame_index}')
        return packed


@torch.no_grad()
def predict_clips(model: nn.Module, clips: Sequence[dict],
                  batch_size: int) -> List[Dict]:
    """Run ``model.test_step`` over packed clips in batches of ``batch_size``.

    Returns:
        list[dict]: per clip, ``keypoints`` (K, 2) and ``keypoint_scores`` (K,) float arrays in
        image coordinates of the key frame.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    predictions = []
    for start in range(0, len(clips), batch_size):
        samples = model.test_step(
            pseudo_collate(list(clips[start:start + batch_size])))
        for sample in samples:
            pred = sample.pred_instances
            predictions.append(
                dict(
                    keypoints=to_numpy(pred.keypoints, np.float32)[0],
                    keypoint_scores=to_numpy(pred.keypoint_scores,
                                             np.float32)[0]))
    return predictions
