"""Pluggable token scoring rules for :class:`DPCTokenPruning`.

Each rule maps the tokens of a clip (B, N, C) to scores (B, N); higher scores
are kept first. ``anchors`` (B, N) marks the tokens that are kept whatever
their score (the key frame's); a rule may use it or ignore it.
"""
from typing import Callable, Dict, Optional

import torch
from torch import Tensor

from mgpose_mm.engine.torch_compat import seeded_rand
from ..utils import dpc_knn_scores

TokenScorer = Callable[[Tensor, int, bool, Optional[Tensor]], Tensor]


def _jitter(tokens: Tensor, training: bool) -> Optional[Tensor]:
    """U(0, 1e-6) on rho in training to break ties (as TCFormer); none in eval,
    where ties go by position so that selection is deterministic."""
    if not training:
        return None
    return torch.rand(tokens.shape[:2], device=tokens.device) * 1e-6


def dpc_scores(tokens: Tensor,
               k: int,
               training: bool,
               anchors: Optional[Tensor] = None) -> Tensor:
    """Reference density-peaks (DPC-kNN) scores; ``anchors`` is ignored."""
    return dpc_knn_scores(tokens, k=k, jitter=_jitter(tokens, training))


def dpc_anchored_scores(tokens: Tensor,
                        k: int,
                        training: bool,
                        anchors: Optional[Tensor] = None) -> Tensor:
    """DPC-kNN scores with the anchors (the key frame's tokens) counted as the
    densest tokens, so supporting tokens that repeat the key frame score low
    (see :func:`dpc_knn_scores`)."""
    return dpc_knn_scores(
        tokens, k=k, jitter=_jitter(tokens, training), anchors=anchors)


def random_scores(tokens: Tensor,
                  k: int,
                  training: bool,
                  anchors: Optional[Tensor] = None) -> Tensor:
    """Uniform random scores (the random-pruning ablation); seeded in eval to
    be reproducible."""
    if training:
        return torch.rand(tokens.shape[:2], device=tokens.device)
    return seeded_rand(tokens.shape[:2], tokens.device, seed=0)


TOKEN_SCORERS: Dict[str, TokenScorer] = {
    'dpc': dpc_scores,
    'dpc-anchored': dpc_anchored_scores,
    'random': random_scores
}
