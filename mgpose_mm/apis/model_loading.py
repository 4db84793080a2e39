"""Building a video pose model for inference, loading its checkpoint
strictly."""
import copy
import os.path as osp
from pathlib import Path
from typing import Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader
from mmpose.apis import init_model

# Registers MGFEViT & co. and LoadVideoFrames/PoseTrackVideoDataset (the config's dataset
# type gives the default dataset_meta).
import mgpose_mm.datasets  # noqa: F401
import mgpose_mm.models  # noqa: F401
from mgpose_mm.datasets import check_frame_offsets
from mgpose_mm.engine import (check_state_dict_matches, checkpoint_state_dict,
                              trusted_checkpoints)
from mgpose_mm.errors import CheckpointMismatchError
from mgpose_mm.models.utils import check_clip_layout

__all__ = [
    'init_video_pose_model', 'clip_frame_offsets', 'check_state_dict_matches',
    'checkpoint_state_dict', 'CheckpointMismatchError'
]


def _load_config(config: Union[str, Path, Config]) -> Config:
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'pose config not found: {config}')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    raise TypeError(
        f'config must be a file path or a Config, got {type(config).__name__}')


def init_video_pose_model(config: Union[str, Path, Config],
                          checkpoint: Optional[str] = None,
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None,
                          trust_checkpoint: bool = False) -> nn.Module:
    """Build a video top-down pose model (e.g. FTP-Pose) for inference.

    The model is built by :func:`mmpose.apis.init_model` (``model.cfg`` = the config,
    ``model.dataset_meta``, eval mode); the checkpoint is then loaded **strictly**: missing or
    unexpected keys or shape mismatches raise :class:`CheckpointMismatchError` naming the keys.
    ``dataset_meta`` comes from the checkpoint's ``meta['dataset_meta']`` when present, else from
    the config's training dataset type (PoseTrack18 metainfo for the FTP-Pose configs).

    Args:
        config (str | Path | Config): pose config.
        checkpoint (str, optional): checkpoint file (MMEngine format with ``state_dict``, or a
            bare state dict). None keeps the random initial weights.
        device (str): e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): overrides merged into the config.
        trust_checkpoint (bool): allow a full unpickle of a checkpoint holding other types than
            weights and MMEngine checkpoint objects (it can run code from the file); see
            :mod:`mgpose_mm.engine.safe_checkpoint_io`. Defaults to False.

    Returns:
        nn.Module: the model in eval mode on ``device``.
    """
    config = _load_config(config)
    if checkpoint is not None and '://' not in checkpoint and not osp.isfile(
            checkpoint):
        raise FileNotFoundError(f'pose checkpoint not found: {checkpoint}')
    model = init_model(config, None, device='cpu', cfg_options=cfg_options)
    if checkpoint is not None:
        with trusted_checkpoints(trust_checkpoint):
            loaded = CheckpointLoader.load_checkpoint(
                checkpoint, map_location='cpu')
        if not isinstance(loaded, dict):
            raise CheckpointMismatchError(
                f'pose checkpoint {checkpoint} does not hold a dict of weights'
            )
        state_dict = checkpoint_state_dict(loaded)
        check_state_dict_matches(model, state_dict,
                                 f'pose checkpoint {checkpoint}')
        model.load_state_dict(state_dict, strict=True)
        dataset_meta = (loaded.get('meta') or {}).get('dataset_meta')
        if dataset_meta:
            model.dataset_meta = dataset_meta
    model.to(device)
    model.eval()
    return model


def clip_frame_offsets(model: nn.Module) -> Tuple[Tuple[int, ...], int]:
    """The clip layout of the model's config: ``(frame_offsets,
    key_frame_index)``.

    Read from ``test_dataloader.dataset.frame_offsets`` (falling back to the
    top-level ``frame_offsets`` of the config) and checked against the
    backbone's ``num_frames`` and ``key_frame_index``
    (:func:`check_clip_layout`).
    """
    cfg = model.cfg
    offsets = None
    dataloader = cfg.get('test_dataloader') or {}
    dataset = dataloader.get('dataset') or {}
    if dataset.get('frame_offsets') is not None:
        offsets = dataset['frame_offsets']
    elif cfg.get('frame_offsets') is not None:
        offsets = cfg['frame_offsets']
    if offsets is None:
        raise KeyError(
            'the pose config has no test_dataloader.dataset.frame_offsets (nor a '
            'top-level frame_offsets): cannot tell which frames form a clip')
    offsets = check_frame_offsets(offsets)
    check_clip_layout(
        getattr(model, 'backbone', None), offsets, offsets.index(0),
        'the config\'s test_dataloader.dataset')
    return offsets, offsets.index(0)
