"""Density-peaks-clustering (DPC-kNN) token scores, as used by TCFormer and HoT
for token pruning."""
import math
from typing import Optional

import torch
from torch import Tensor


@torch.no_grad()
def dpc_knn_scores(tokens: Tensor,
                   k: int = 5,
                   jitter: Optional[Tensor] = None,
                   anchors: Optional[Tensor] = None) -> Tensor:
    """Score every token by ``rho * delta``.

    That is density times distance to any denser token. For the tokens
    x_1..x_N of one sample (dimension C):

    - ``d_ij = ||x_i - x_j|| / sqrt(C)``
    - ``rho_i = exp(-mean of d_ij^2 over the k nearest tokens j, i itself
      included) + jitter_i``
    - ``delta_i = min_{j denser than i} d_ij``; the densest token gets the
      largest ``d`` of its sample
    - ``score_i = rho_i * delta_i``

    "j denser than i" means ``rho_j > rho_i``, or equal densities and
    ``j < i``: equal densities (duplicate tokens, or ties that a float32
    jitter cannot separate) are ordered by position, so exactly one token per
    sample is the densest and the result is deterministic without jitter. All
    samples are scored at once, vectorised; no gradient flows.

    With ``anchors``, the anchor tokens (those kept whatever their score, e.g.
    the key frame's) count as denser than every other token: a non-anchor
    token's delta is then at most its distance to the nearest anchor, so a
    token that repeats anchor content scores low and one that shows what no
    anchor shows (a joint hidden in the key frame) scores high. Without
    ``anchors`` the scores are the reference DPC-kNN scores.

    Args:
        tokens (Tensor): Token features, shape (B, N, C).
        k (int): Number of nearest neighbours (the token itself included)
            that define density.
        jitter (Tensor, optional): Tiny noise added to rho (TCFormer uses
            U(0, 1e-6) in training), shape (B, N). None adds nothing.
        anchors (Tensor, optional): Boolean mask of anchor tokens, shape
            (B, N) or (N,). None: no anchors (reference DPC-kNN).

    Returns:
        Tensor: Scores, shape (B, N), float32. Higher means more
        representative (kept first).
    """
    batch, num_tokens, channels = tokens.shape
    if not 1 <= k <= num_tokens:
        raise ValueError(
            f'k={k} nearest neighbours needs 1 <= k <= number of tokens '
            f'({num_tokens})')
    # Centring does not change distances but keeps cdist's matrix-product
    # path accurate in float32.
    x = tokens.float()
    x = x - x.mean(dim=1, keepdim=True)
    dist = torch.cdist(x, x) / math.sqrt(channels)  # (B, N, N)
    dist.diagonal(dim1=-2, dim2=-1).zero_()  # exact zero self-distance

    knn_dist = dist.topk(k, dim=-1, largest=False).values  # (B, N, k)
    rho = (-(knn_dist**2).mean(dim=-1)).exp()
    if jitter is not None:
        rho = rho + jitter.to(rho)

    rho_i, rho_j = rho.unsqueeze(2), rho.unsqueeze(1)  # (B, N, 1), (B, 1, N)
    position = torch.arange(num_tokens, device=x.device)
    # (1, i, j): j < i
    earlier = position.view(1, 1, -1) < position.view(1, -1, 1)
    denser = (rho_j > rho_i) | ((rho_j == rho_i) & earlier)
    if anchors is not None:
        anchors = anchors.to(torch.bool).expand(batch, num_tokens)
        anchor_i, anchor_j = anchors.unsqueeze(2), anchors.unsqueeze(1)
        # between an anchor and a non-anchor, the anchor is the denser one
        denser = torch.where(anchor_i == anchor_j, denser, anchor_j)
    dist_max = dist.flatten(1).max(dim=-1).values.view(batch, 1, 1)
    delta = torch.where(denser, dist, dist_max).min(dim=-1).values
    return rho * delta
