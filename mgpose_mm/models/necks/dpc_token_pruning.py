"""DPC token pruning between the per-frame and the joint spatio-temporal stages
of FTP-Pose."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor

from mgpose_mm.errors import ConfigValueError
from ..utils import VideoTokens
from .token_merging import merge_into_targets
from .token_selectors import TOKEN_SCORERS


@MODELS.register_module()
class DPCTokenPruning(BaseModule):
    """Remove the least representative supporting-frame tokens of a clip.

    All tokens of all frames are scored together (the density field sees every
    frame), but only the supporting frames' tokens compete for the kept slots:
    the key frame's ``n = h * w`` tokens are always kept. Of the
    ``S = (T - 1) * n`` supporting tokens, ``floor(prune_ratio * S)`` are
    removed, so every clip keeps ``M = n + S - floor(prune_ratio * S)`` tokens.
    Kept tokens are gathered into a new, shorter tensor in their original
    order, with their source positions, so all later layers run on M tokens
    only. Scores carry no gradient; the kept features do.

    With ``merge=True`` the removed tokens are not lost: each one is averaged
    into its nearest kept supporting token (:mod:`.token_merging`), so the key
    frame's tokens stay the key frame's own.

    Args:
        prune_ratio (float): Fraction epsilon of supporting-frame tokens to
            remove, in [0, 1).
        k (int): Nearest neighbours for the DPC density. Must be >= 1.
        selector (str): ``'dpc'`` (density peaks, the method),
            ``'dpc-anchored'`` (density peaks with the key frame's tokens
            counted as the densest: a supporting token's distance term is at
            most its distance to the nearest key-frame token, so supporting
            tokens that repeat the key frame go first) or ``'random'``
            (ablation).
        merge (bool): Average removed tokens into their nearest kept
            supporting token instead of dropping them. Defaults to False.
        key_prune_ratio (float): Fraction of the key frame's own tokens that
            :meth:`select_key_tokens` removes in the middle of the backbone
            (``MGFEViT.key_prune_layer``), in [0, 1); scored by ``selector``
            among the key frame's tokens. Defaults to 0 (the key frame is
            never reduced).
        init_cfg (dict, optional): Unused; the module has no parameters.
    """

    def __init__(self,
                 prune_ratio: float = 0.5,
                 k: int = 5,
                 selector: str = 'dpc',
                 merge: bool = False,
                 key_prune_ratio: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= prune_ratio < 1.0:
            raise ConfigValueError(
                'DPCTokenPruning: prune_ratio (epsilon) must be in [0, 1), '
                f'got {prune_ratio}')
        if not 0.0 <= key_prune_ratio < 1.0:
            raise ConfigValueError(
                'DPCTokenPruning: key_prune_ratio must be in [0, 1), '
                f'got {key_prune_ratio}')
        if int(k) != k or k < 1:
            raise ConfigValueError(
                f'DPCTokenPruning: k must be an integer >= 1, got {k}')
        if selector not in TOKEN_SCORERS:
            raise ConfigValueError(
                'DPCTokenPruning: selector must be one of '
                f'{sorted(TOKEN_SCORERS)}, got {selector!r}')
        self.prune_ratio = float(prune_ratio)
        self.k = int(k)
        self.selector = selector
        self.merge = bool(merge)
        self.key_prune_ratio = float(key_prune_ratio)

    def num_kept(self, num_frames: int, tokens_per_frame: int) -> int:
        """Tokens per clip after pruning (key frame + surviving supporting
        tokens)."""
        num_support = (num_frames - 1) * tokens_per_frame
        return tokens_per_frame + num_support - int(
            self.prune_ratio * num_support)

    def forward(self, video_tokens: VideoTokens) -> VideoTokens:
        """Prune a full clip token set.

        Args:
            video_tokens (VideoTokens): Unpruned tokens, ``tokens`` of shape
                (B, T*h*w, C).

        Returns:
            VideoTokens: Kept tokens, ``tokens`` of shape (B, M, C) and
            ``index`` of shape (B, M).
        """
        n = video_tokens.tokens_per_frame
        total = video_tokens.num_frames * n
        if video_tokens.tokens.shape[1] != total:
            raise ValueError(
                f'DPCTokenPruning expects the full clip of {total} tokens, '
                f'got {video_tokens.tokens.shape[1]}')
        num_keep = self.num_kept(video_tokens.num_frames, n)
        if num_keep == total:
            return video_tokens

        tokens = video_tokens.tokens
        with torch.no_grad():
            is_key = (
                video_tokens.frame_of_token == video_tokens.key_frame_index)
            scores = TOKEN_SCORERS[self.selector](tokens.detach(), self.k,
                                                  self.training, is_key)
            # Key-frame tokens outrank every supporting token, so the first
            # n of the ranking are the key frame and top-M contains it.
            scores = scores.masked_fill(is_key, float('inf'))
            ranking = scores.argsort(dim=1, descending=True)
            keep = ranking[:, :num_keep].sort(dim=1).values
        if self.merge:
            tokens = merge_into_targets(tokens, ranking[:, n:num_keep],
                                        ranking[:, num_keep:])
        return video_tokens._replace(tokens=tokens).select(keep)

    def select_key_tokens(self, video_tokens: VideoTokens) -> Tensor:
        """Positions of the tokens to keep when the key frame is reduced.

        Every supporting token is kept, and the ``n - floor(key_prune_ratio *
        n)`` best-scored of the key frame's ``n`` tokens (scored among
        themselves).

        Args:
            video_tokens (VideoTokens): Tokens (B, M, C) with the key frame's
                ``n`` tokens complete.

        Returns:
            Tensor: Ascending positions into M, shape (B, M - removed).
        """
        n = video_tokens.tokens_per_frame
        num_keep = n - int(self.key_prune_ratio * n)
        tokens = video_tokens.tokens
        with torch.no_grad():
            positions = video_tokens.key_frame_positions()  # (B, n)
            key = tokens.gather(
                1,
                positions.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
            key_scores = TOKEN_SCORERS[self.selector](key, min(self.k, n),
                                                      self.training, None)
            scores = torch.full(
                tokens.shape[:2], float('inf'),
                device=tokens.device).scatter(1, positions, key_scores.float())
            num_total = tokens.shape[1] - n + num_keep
            keep = scores.topk(num_total, dim=1).indices.sort(dim=1).values
        return keep
