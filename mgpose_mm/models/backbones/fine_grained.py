"""Fine-grained path of the MGFE on the supporting frames, pruned with their
tokens.

The key frame's high-resolution features come from a light convolutional stem
on the whole frame. A supporting frame's are computed only where its token
survived pruning: the stem runs on the ``P x P`` pixel patch of every kept
token (P = the ViT patch size), so this path costs ``1 - epsilon`` of its
unpruned cost, like the joint ViT layers. The patch features of all supporting
frames are then pooled over frames, per position, into maps that do not depend
on the clip length: their mean, their max and the fraction of supporting frames
that kept the position.
"""
from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mgpose_mm.errors import ConfigValueError
from ..utils import VideoTokens


def support_token_index(video_tokens: VideoTokens) -> Tensor:
    """Flat source positions of the kept supporting-frame tokens.

    The key frame's ``n = h * w`` tokens are never pruned and form one
    contiguous run of the ordered kept tokens, so the supporting tokens are the
    kept tokens before and after that run.

    Args:
        video_tokens (VideoTokens): Kept tokens, ``index`` of shape (B, M).

    Returns:
        Tensor: ``t * n + y * w + x`` of each kept supporting token, shape
        (B, M - n), ascending.
    """
    n = video_tokens.tokens_per_frame
    index = video_tokens.index
    num_support = index.shape[1] - n
    key_start = (index < video_tokens.key_frame_index * n).sum(
        dim=1, keepdim=True)  # (B, 1)
    slots = torch.arange(
        num_support, device=index.device).expand(index.shape[0], -1)
    return index.gather(1, slots + n * (slots >= key_start).long())


def gather_patches(clips: Tensor, token_index: Tensor,
                   patch_size: int) -> Tensor:
    """Cut the pixel patches of some tokens out of clips.

    Args:
        clips (Tensor): Clips, shape (B, T, 3, H, W), H and W multiples of
            ``patch_size``.
        token_index (Tensor): Flat token positions ``t * n + y * w + x``,
            shape (B, S).
        patch_size (int): Patch side P.

    Returns:
        Tensor: Patches, shape (B * S, 3, P, P).
    """
    batch, num_frames, channels, height, width = clips.shape
    grid_h, grid_w = height // patch_size, width // patch_size
    patches = clips.reshape(batch, num_frames, channels, grid_h, patch_size,
                            grid_w, patch_size)
    patches = patches.permute(0, 1, 3, 5, 2, 4,
                              6).reshape(batch, num_frames * grid_h * grid_w,
                                         channels, patch_size, patch_size)
    rows = torch.arange(batch, device=clips.device).unsqueeze(1)
    return patches[rows, token_index].flatten(0, 1)


def pool_support_features(patch_feats: Tensor, token_index: Tensor,
                          video_tokens: VideoTokens) -> Tensor:
    """Pool the supporting frames' patch features over frames, per position.

    Args:
        patch_feats (Tensor): Stem features of the kept supporting patches,
            shape (B * S, C, b, b) (b = P / stride).
        token_index (Tensor): Their flat token positions, shape (B, S).
        video_tokens (VideoTokens): The kept tokens (for T, key frame, grid).

    Returns:
        Tensor: ``[mean (C), max (C), coverage (1)]`` maps, shape
        (B, 2 * C + 1, h * b, w * b). Positions that no supporting frame kept
        are 0; ``coverage`` is the fraction of supporting frames that kept the
        position. The stem ends in a ReLU, so a 0 never exceeds a kept
        feature in the max.
    """
    batch, num_support = token_index.shape
    _, channels, block, _ = patch_feats.shape
    grid_h, grid_w = video_tokens.grid
    n = grid_h * grid_w
    num_slots = video_tokens.num_frames - 1
    frame = torch.div(token_index, n, rounding_mode='floor')
    slot = frame - (frame > video_tokens.key_frame_index).long()
    dense_index = slot * n + token_index % n  # (B, S)

    feats = patch_feats.reshape(batch, num_support, -1)  # (B, S, C*b*b)
    dense = feats.new_zeros(batch, num_slots * n, feats.shape[-1])
    dense = dense.scatter(
        1,
        dense_index.unsqueeze(-1).expand(-1, -1, feats.shape[-1]), feats)
    kept = feats.new_zeros(batch, num_slots *
                           n).scatter(1, dense_index,
                                      feats.new_ones(batch, num_support))
    dense = dense.view(batch, num_slots, n, -1)
    count = kept.view(batch, num_slots, n, 1).sum(dim=1)  # (B, n, 1)
    mean = dense.sum(dim=1) / count.clamp(min=1)
    if num_slots > 0:
        peak = dense.max(dim=1).values
    else:
        peak = torch.zeros_like(mean)
    pooled = torch.stack([mean, peak], dim=3)  # (B, n, C*b*b, 2) -> maps
    pooled = pooled.view(batch, grid_h, grid_w, channels, block, block, 2)
    pooled = pooled.permute(0, 6, 3, 1, 4, 2,
                            5).reshape(batch, 2 * channels, grid_h * block,
                                       grid_w * block)
    coverage = (count / max(num_slots, 1)).view(batch, 1, grid_h, grid_w)
    coverage = coverage.repeat_interleave(
        block, dim=2).repeat_interleave(
            block, dim=3)
    return torch.cat([pooled, coverage], dim=1)


def check_patch_grid(image_size: Tuple[int, int], patch_size: int,
                     fine_stride: int) -> None:
    """Raise :class:`ConfigValueError` unless supporting patches tile the input
    and the fine grid."""
    height, width = image_size
    if height % patch_size or width % patch_size:
        raise ConfigValueError(
            "MGFEViT: fine_frames='kept' cuts the input into the ViT's "
            f'{patch_size}x{patch_size} patches, so img_size must be a '
            f'multiple of patch_size, got {tuple(image_size)}')
    if patch_size % fine_stride:
        raise ConfigValueError(
            f"MGFEViT: fine_frames='kept' needs fine_stride={fine_stride} to "
            f'divide patch_size={patch_size}')


def support_fine_features(stem: nn.Module, clips: Tensor,
                          video_tokens: VideoTokens,
                          patch_size: int) -> Tensor:
    """Fine-grained features of the kept supporting patches, pooled over
    frames.

    Args:
        stem (nn.Module): Maps (N, 3, P, P) to (N, C, P / s, P / s), ending in
            a ReLU (the key frame's stem).
        clips (Tensor): Clips, shape (B, T, 3, H, W).
        video_tokens (VideoTokens): The kept tokens after pruning.
        patch_size (int): Patch side P.

    Returns:
        Tensor: ``[mean, max, coverage]`` maps, shape (B, 2 * C + 1, H / s,
        W / s) (see :func:`pool_support_features`).
    """
    index = support_token_index(video_tokens)
    patches = gather_patches(clips, index, patch_size)
    return pool_support_features(stem(patches), index, video_tokens)
