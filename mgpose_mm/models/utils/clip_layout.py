"""Consistency of a clip layout (frame offsets, key frame) between the data and
the model."""
from typing import Optional, Sequence

import torch.nn as nn

from mgpose_mm.errors import ConfigValueError


def check_clip_layout(backbone: Optional[nn.Module],
                      frame_offsets: Optional[Sequence[int]],
                      key_frame_index: Optional[int],
                      source: str = 'the data') -> None:
    """Raise :class:`ConfigValueError` unless a clip layout fits the backbone.

    A clip holds the frames at ``frame_offsets`` around the key frame (offset
    0), whose position in the clip is ``key_frame_index``. The backbone (e.g.
    :class:`MGFEViT`) takes clips of ``num_frames`` frames and predicts the
    pose of frame ``key_frame_index``. When the two disagree, the model
    silently predicts the pose of another frame than the annotated one.

    Args:
        backbone (nn.Module, optional): with ``num_frames`` and
            ``key_frame_index`` attributes; nothing is checked for a backbone
            without them.
        frame_offsets (Sequence[int], optional): the data's offsets (None: not
            checked).
        key_frame_index (int, optional): the data's key frame position (None:
            not checked).
        source (str): what gave the layout, for the message.
    """
    num_frames = getattr(backbone, 'num_frames', None)
    model_key = getattr(backbone, 'key_frame_index', None)
    offsets = None if frame_offsets is None else tuple(
        int(o) for o in frame_offsets)
    described = f' (frame_offsets {offsets})' if offsets is not None else ''
    if offsets is not None and num_frames is not None and len(
            offsets) != num_frames:
        raise ConfigValueError(
            f'{source} gives clips of {len(offsets)} frames{described} but '
            f'model.backbone.num_frames={num_frames}; '
            'make the frame_offsets and num_frames agree')
    if offsets is not None and key_frame_index is not None and \
            (0 not in offsets or offsets.index(0) != int(key_frame_index)):
        raise ConfigValueError(
            f'{source} has key_frame_index={key_frame_index} but its '
            f'frame_offsets {offsets} put offset 0 elsewhere')
    if key_frame_index is not None and model_key is not None and int(
            key_frame_index) != model_key:
        raise ConfigValueError(
            f'{source} has the key frame at index {int(key_frame_index)} '
            f'of each clip{described}'
            f' but model.backbone.key_frame_index={model_key}: '
            'the model would predict the pose of another frame; '
            'set model.backbone.key_frame_index='
            f'{int(key_frame_index)} or change the frame_offsets')
