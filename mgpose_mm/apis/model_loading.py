"""Building a video pose model for inference, loading its checkpoint strictly."""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader

from mmpose.apis import init_model

# Registers MGFEViT & co. and LoadVideoFrames/PoseTrackVideoDataset (the config's dataset
# type gives the default dataset_meta).
import mgpose_mm.datasets  # noqa: F401
import mgpose_mm.models  # noqa: F401
from mgpose_mm.datasets import check_frame_offsets

MAX_LISTED_KEYS = 10


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model built from the config."""


def _load_config(config: Union[str, Path, Config]) -> Config:
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'pose config not found: {config}')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    raise TypeError(f'config must be a file path or a Config, got {type(config).__name__}')


def checkpoint_state_dict(checkpoint: dict) -> Dict[str, object]:
    """The model weights of a loaded checkpoint (``state_dict`` entry or the dict itself),
    without the ``module.`` prefix of (Distributed)DataParallel, as MMEngine's loader does."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise TypeError(f'checkpoint state_dict must be a dict, got {type(state_dict).__name__}')
    return {(key[len('module.'):] if key.startswith('module.') else key): value
            for key, value in state_dict.items()}


def _listed(keys, limit: int = MAX_LISTED_KEYS) -> str:
    keys = list(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def check_state_dict_matches(model: nn.Module, state_dict: Dict[str, object],
                             checkpoint_name: str = 'checkpoint') -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` has exactly the model's
    parameter/buffer names with the model's shapes.

    MMPose's ``init_model`` loads non-strictly: a checkpoint of another config would load
    partially and predict garbage without an error. The message lists the first mismatching keys
    of each kind (missing, unexpected, shape).
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    shape_mismatch = [
        f'{key} (checkpoint {tuple(state_dict[key].shape)} vs model {tuple(value.shape)})'
        for key, value in expected.items()
        if key in state_dict and hasattr(state_dict[key], 'shape')
        and tuple(state_dict[key].shape) != tuple(value.shape)
    ]
    if not (missing or unexpected or shape_mismatch):
        return
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys: {_listed(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys: {_listed(unexpected)}')
    if shape_mismatch:
        problems.append(f'{len(shape_mismatch)} shape mismatches: {_listed(shape_mismatch)}')
    raise CheckpointMismatchError(
        f'{checkpoint_name} does not match the model of the config ('
        + '; '.join(problems) + '). Was it trained with another config?')


def init_video_pose_model(config: Union[str, Path, Config],
                          checkpoint: Optional[str] = None,
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None) -> nn.Module:
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

    Returns:
        nn.Module: the model in eval mode on ``device``.
    """
    config = _load_config(config)
    if checkpoint is not None and '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pose checkpoint not found: {checkpoint}')
    model = init_model(config, None, device='cpu', cfg_options=cfg_options)
    if checkpoint is not None:
        loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        if not isinstance(loaded, dict):
            raise TypeError(f'pose checkpoint {checkpoint} does not hold a dict of weights')
        state_dict = checkpoint_state_dict(loaded)
        check_state_dict_matches(model, state_dict, f'pose checkpoint {checkpoint}')
        model.load_state_dict(state_dict, strict=True)
        dataset_meta = (loaded.get('meta') or {}).get('dataset_meta')
        if dataset_meta:
            model.dataset_meta = dataset_meta
    model.to(device)
    model.eval()
    return model


def clip_frame_offsets(model: nn.Module) -> Tuple[Tuple[int, ...], int]:
    """The clip layout of the model's config: ``(frame_offsets, key_frame_index)``.

    Read from ``test_dataloader.dataset.frame_offsets`` (falling back to the top-level
    ``frame_offsets`` of the config) and checked against the backbone's ``num_frames``.
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
        raise KeyError('the pose config has no test_dataloader.dataset.frame_offsets (nor a '
                       'top-level frame_offsets): cannot tell which frames form a clip')
    offsets = check_frame_offsets(offsets)
    num_frames = getattr(getattr(model, 'backbone', None), 'num_frames', None)
    if num_frames is not None and num_frames != len(offsets):
        raise ValueError(f'config frame_offsets {offsets} give clips of {len(offsets)} frames but '
                         f'model.backbone.num_frames={num_frames}')
    return offsets, offsets.index(0)
