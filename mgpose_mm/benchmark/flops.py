"""FLOPs and parameters per stage, attention and DPC distances included.

FLOPs are counted as MMPose reports them (``tools/analysis_tools/get_flops.py``
uses MMEngine's counter): one fused multiply-add = one FLOP, i.e. the numbers
are **MACs** ("GFLOPs" = GMACs).

MMEngine's :class:`~mmengine.analysis.FlopAnalyzer` (like torch's
``FlopCounterMode``) has no handle for ``aten::scaled_dot_product_attention``
and ``aten::cdist`` on this torch and counts them as 0. Those are exactly the
parts that token pruning shrinks, so :func:`flop_analyzer` adds handles for
them (``FlopAnalyzer.set_op_handle``), from the traced shapes:

- attention on q (B, H, L, D), k (B, H, S, D), v (B, H, S, Dv):
  ``B H L S (D + Dv)`` MACs (``Q K^T`` and ``A V``), i.e. ``2 B M^2 C`` for
  M tokens of C channels;
- DPC scoring, the pairwise distances of x1 (B, P, C) and x2 (B, R, C):
  ``B P R C`` MACs (the k-NN / delta reductions are O(N^2) comparisons and
  are not MACs).

A stage's ``counted_macs`` are the other operators, ``attention_macs`` and
``scoring_macs`` these two.
"""
from collections import Counter
from dataclasses import asdict, dataclass, field
from math import prod
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape

from .specs import is_video_model

STAGE_FRAMES = 'backbone per-frame'
STAGE_FINE = 'backbone fine stem'
STAGE_PRUNING = 'token pruning (scoring)'
STAGE_JOINT = 'backbone joint (kept tokens)'
STAGE_BACKBONE = 'backbone'
STAGE_HEAD = 'head'
STAGE_OTHER = 'other'
VIDEO_STAGES = (STAGE_FRAMES, STAGE_FINE, STAGE_PRUNING, STAGE_JOINT,
                STAGE_HEAD, STAGE_OTHER)
IMAGE_STAGES = (STAGE_BACKBONE, STAGE_PRUNING, STAGE_HEAD, STAGE_OTHER)


def sdpa_macs(inputs, outputs) -> int:
    """``aten::scaled_dot_product_attention``: B*H*L*S*(D + Dv) MACs.

    The two products ``Q K^T`` and ``A V``.
    """
    q, k, v = (get_shape(x) for x in inputs[:3])
    return prod(q[:-1]) * k[-2] * (q[-1] + v[-1])


def cdist_macs(inputs, outputs) -> int:
    """``aten::cdist`` of x1 (..., P, C) and x2 (..., R, C).

    Counts ``prod(...) * P * R * C`` MACs (one multiply-add per channel of each
    pair of points).
    """
    x1, x2 = get_shape(inputs[0]), get_shape(inputs[1])
    return prod(x1) * x2[-2]


# operator (as FlopAnalyzer names it) -> the StageCost field its MACs go to
_HANDLED_OPS = {
    'scaled_dot_product_attention': 'attention_macs',
    'cdist': 'scoring_macs'
}
_OP_HANDLES = {
    'aten::scaled_dot_product_attention': sdpa_macs,
    'aten::cdist': cdist_macs
}


@dataclass
class StageCost:
    """Cost of one stage for one input batch.

    MACs are integers; ``params`` counts weights.
    """
    stage: str
    counted_macs: int = 0
    attention_macs: int = 0
    scoring_macs: int = 0
    params: int = 0

    @property
    def total_macs(self) -> int:
        return self.counted_macs + self.attention_macs + self.scoring_macs


@dataclass
class ModelCost:
    """Per-stage cost of one model for a batch of ``batch_size`` inputs.

    ``kept_tokens``/``total_tokens`` are the tokens per clip after/before
    pruning (None without a token pruner). ``uncounted_ops`` lists the
    operators MMEngine's counter skipped.
    """
    batch_size: int
    stages: List[StageCost]
    kept_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    uncounted_ops: Dict[str, int] = field(default_factory=dict)

    @property
    def total_macs(self) -> int:
        return sum(s.total_macs for s in self.stages)

    @property
    def total_params(self) -> int:
        return sum(s.params for s in self.stages)

    def stage(self, name: str) -> StageCost:
        for stage in self.stages:
            if stage.stage == name:
                return stage
        raise KeyError(
            f'no stage {name!r}; stages are {[s.stage for s in self.stages]}')

    def to_dict(self) -> dict:
        out = asdict(self)
        for stage, cost in zip(out['stages'], self.stages):
            stage['total_macs'] = cost.total_macs
        out.update(total_macs=self.total_macs, total_params=self.total_params)
        return out


def stage_of(name: str, model: nn.Module) -> str:
    """Stage of a module or parameter, from its dotted name inside the pose
    estimator."""
    parts = name.split('.')
    if parts[0] == 'backbone':
        if not is_video_model(model):
            return STAGE_BACKBONE
        if len(parts) > 1 and parts[1] == 'fine_stem':
            return STAGE_FINE
        if len(parts) > 1 and parts[1] == 'pruner':
            return STAGE_PRUNING
        if len(parts) > 1 and parts[1] == 'ln1':
            return STAGE_JOINT
        if len(parts) > 2 and parts[1] == 'layers' and int(
                parts[2]) >= model.backbone.prune_layer:
            return STAGE_JOINT
        return STAGE_FRAMES
    if parts[0] == 'head':
        return STAGE_HEAD
    return STAGE_OTHER


class _TensorForward(nn.Module):
    """``model._forward`` (normalised input tensor to heatmaps) as a traceable
    ``forward``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model._forward(inputs)


def flop_analyzer(model: nn.Module, inputs: torch.Tensor) -> FlopAnalyzer:
    """MMEngine's analyzer of ``model._forward(inputs)`` with the attention and
    cdist handles."""
    analyzer = FlopAnalyzer(_TensorForward(model), (inputs, ))
    analyzer.set_op_handle(**_OP_HANDLES)
    return analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(
        False)


def _pruner_token_counts(model: nn.Module, found: dict):
    """Hook the backbone's token pruner (if any) to record tokens per clip
    before/after pruning."""
    pruner = getattr(model.backbone, 'pruner', None)
    if pruner is None or not hasattr(pruner, 'num_kept'):
        return None

    def hook(module, args):
        video_tokens = args[0]
        # under the tracer shapes can be 0-d tensors
        found.update(
            total_tokens=int(video_tokens.tokens.shape[1]),
            kept_tokens=int(
                module.num_kept(
                    int(video_tokens.num_frames),
                    int(video_tokens.tokens_per_frame))))

    return pruner.register_forward_pre_hook(hook)


def model_cost(model: nn.Module, inputs: torch.Tensor) -> ModelCost:
    """Per-stage MACs (counted, attention, DPC scoring) and parameters.

    Every module's *own* MACs (its total minus its children's) go to its
    stage, so the stages partition the traced model total exactly.

    Args:
        model (nn.Module): A pose estimator in eval mode.
        inputs (Tensor): Its normalised input, (B, T, 3, H, W) for clips or
            (B, 3, H, W).
    """
    stages = {
        name: StageCost(name)
        for name in (VIDEO_STAGES if is_video_model(model) else IMAGE_STAGES)
    }
    found = dict(kept_tokens=None, total_tokens=None)
    analyzer = flop_analyzer(model, inputs)
    handle = _pruner_token_counts(model, found)
    try:
        # traces the forward pass
        by_module = analyzer.by_module_and_operator()
    finally:
        if handle is not None:
            handle.remove()
    own = {name: Counter(ops) for name, ops in by_module.items()}
    for name, ops in by_module.items():
        # '' is the wrapper, 'model' the estimator, 'model.backbone' ...
        if name:
            own[name.rpartition('.')[0]].subtract(ops)
    for name, ops in own.items():
        # the estimator's and the wrapper's own operators belong to no stage
        stage = stage_of(name[len('model.'):],
                         model) if name.startswith('model.') else STAGE_OTHER
        for op, macs in ops.items():
            field_name = _HANDLED_OPS.get(op, 'counted_macs')
            setattr(stages[stage], field_name,
                    getattr(stages[stage], field_name) + macs)
    for name, param in model.named_parameters():
        stages[stage_of(name, model)].params += param.numel()
    return ModelCost(
        batch_size=inputs.shape[0],
        stages=list(stages.values()),
        **found,
        uncounted_ops=dict(analyzer.unsupported_ops()))
