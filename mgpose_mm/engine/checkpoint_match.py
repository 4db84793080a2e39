"""Strict check that a checkpoint's weights fit the model built from the
config."""
from typing import Dict

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from mgpose_mm.errors import CheckpointMismatchError

MAX_LISTED_KEYS = 10


def checkpoint_state_dict(checkpoint: dict) -> Dict[str, object]:
    """The model weights of a loaded checkpoint (``state_dict`` entry or the
    dict itself), without the ``module.`` prefix of (Distributed)DataParallel,
    as MMEngine's loader does."""
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            'a checkpoint must hold a dict of weights, got '
            f'{type(checkpoint).__name__}')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(
            'checkpoint state_dict must be a dict, got '
            f'{type(state_dict).__name__}')
    return {(key[len('module.'):] if key.startswith('module.') else key): value
            for key, value in state_dict.items()}


def _listed(keys, limit: int = MAX_LISTED_KEYS) -> str:
    more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def check_state_dict_matches(model: nn.Module,
                             state_dict: Dict[str, object],
                             checkpoint_name: str = 'checkpoint') -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` has exactly
    the model's parameter/buffer names with the model's shapes.

    MMPose's ``init_model`` and MMEngine's ``load_from`` load non-strictly: a
    checkpoint of another config would load partially and predict garbage with
    only a log warning. The message lists the first mismatching keys of each
    kind (missing, unexpected, shape). Not MMEngine's
    ``load_checkpoint(strict=True)``: it copies the matching weights before it
    raises, raises on rank 0 only, lists every key, and ``load_from`` cannot
    ask it for strictness.
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    shape_mismatch = [
        f'{key} (checkpoint {tuple(state_dict[key].shape)} vs model '
        f'{tuple(value.shape)})' for key, value in expected.items()
        if key in state_dict and hasattr(state_dict[key], 'shape')
        and tuple(state_dict[key].shape) != tuple(value.shape)
    ]
    problems = [
        f'{len(keys)} {kind}: {_listed(keys)}'
        for kind, keys in (('missing keys', missing), ('unexpected keys',
                                                       unexpected),
                           ('shape mismatches', shape_mismatch)) if keys
    ]
    if not problems:
        return
    raise CheckpointMismatchError(
        f'{checkpoint_name} does not match the model of the config (' +
        '; '.join(problems) +
        '). Was it trained with another config? Use that config, or '
        'make this one match with --cfg-options (e.g. '
        'model.backbone.num_frames=...).')


@HOOKS.register_module()
class StrictCheckpointHook(Hook):
    """Refuse a checkpoint loaded by the runner (``load_from``) unless its
    weights match the model exactly (:func:`check_state_dict_matches`);
    ``tools/test.py`` registers it.

    MMEngine calls ``after_load_checkpoint`` with the loaded checkpoint before
    copying it into the model, so the check costs no second read.
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint_name: str = 'checkpoint'):
        self.checkpoint_name = checkpoint_name

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        check_state_dict_matches(model, checkpoint_state_dict(checkpoint),
                                 self.checkpoint_name)
