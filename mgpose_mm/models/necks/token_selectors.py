"""Pluggable token scoring rules for :class:`DPCTokenPruning`.

Each rule maps the tokens of a clip (B, N, C) to scores (B, N); higher scores
are kept first.
"""
from typing import Callable, Dict

import torch
from torch import Tensor

from mgpose_mm.engine.torch_compat import seeded_rand
from ..utils import dpc_knn_scores

TokenScorer = Callable[[Tensor, int, bool], Tensor]


def dpc_scores(tokens: Tensor, k: int, training: bool) -> Tensor:
    """Density-peaks scores; in training a U(0, 1e-6) jitter on rho breaks ties
    (as TCFormer), in eval ties go by position so that selection is
    deterministic."""
    jitter = torch.rand(
        tokens.shape[:2], device=tokens.device) * 1e-6 if training else None
    return dpc_knn_scores(tokens, k=k, jitter=jitter)


def random_scores(tokens: Tensor, k: int, training: bool) -> Tensor:
    """Uniform random scores (the random-pruning ablation); seeded in eval to
    be reproducible."""
    if training:
        return torch.rand(tokens.shape[:2], device=tokens.device)
    return seeded_rand(tokens.shape[:2], tokens.device, seed=0)


TOKEN_SCORERS: Dict[str, TokenScorer] = {
    'dpc': dpc_scores,
    'random': random_scores
}
