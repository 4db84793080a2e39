"""Merge pruned tokens into the kept ones instead of dropping them.

As in token merging (ToMe) and TCFormer's DPC clustering: every pruned token is
assigned to its nearest kept target token (Euclidean distance of the features)
and each target becomes the mean of itself and the tokens assigned to it. The
later layers still only see the kept tokens, but what the pruned tokens held is
averaged into them instead of being lost.
"""
import torch
from torch import Tensor


def merge_into_targets(tokens: Tensor, targets: Tensor,
                       sources: Tensor) -> Tensor:
    """Average every source token into its nearest target token.

    Args:
        tokens (Tensor): Token features, shape (B, N, C).
        targets (Tensor): Positions of the tokens that absorb others,
            shape (B, K), K >= 1.
        sources (Tensor): Positions of the tokens to merge away, shape (B, P).

    Returns:
        Tensor: ``tokens`` with each target replaced by the mean of itself and
        its assigned sources, shape (B, N, C). Sources keep their features
        (the caller drops them). The assignment carries no gradient; the
        averaged features do.
    """
    channels = tokens.shape[-1]
    if sources.shape[1] == 0 or targets.shape[1] == 0:
        return tokens
    target_feats = tokens.gather(
        1,
        targets.unsqueeze(-1).expand(-1, -1, channels))
    source_feats = tokens.gather(
        1,
        sources.unsqueeze(-1).expand(-1, -1, channels))
    with torch.no_grad():
        assign = torch.cdist(source_feats.detach().float(),
                             target_feats.detach().float()).argmin(dim=-1)
    sums = target_feats.scatter_add(
        1,
        assign.unsqueeze(-1).expand(-1, -1, channels), source_feats)
    counts = torch.ones_like(
        targets, dtype=tokens.dtype).scatter_add(
            1, assign, torch.ones_like(assign, dtype=tokens.dtype))
    merged = sums / counts.unsqueeze(-1)
    return tokens.scatter(1,
                          targets.unsqueeze(-1).expand(-1, -1, channels),
                          merged)
