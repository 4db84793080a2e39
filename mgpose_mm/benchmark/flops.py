"""FLOPs and parameters per stage, with attention and DPC scoring added analytically.

FLOPs are counted as MMPose reports them (``tools/analysis_tools/get_flops.py`` uses MMEngine's
counter): one fused multiply-add = one FLOP, i.e. the numbers are **MACs** ("GFLOPs" = GMACs).

MMEngine's :class:`~mmengine.analysis.FlopAnalyzer` (like torch's ``FlopCounterMode``) counts
``aten::scaled_dot_product_attention`` and ``aten::cdist`` as 0 on this torch. Those are exactly
the parts that token pruning shrinks, so they are added analytically from the token counts seen in
one real forward pass:

- attention, per mmpretrain ``MultiheadAttention`` call on (B, M, C) tokens:
  ``B * M^2 * C`` MACs for ``Q K^T`` plus ``B * M^2 * C`` for ``A V`` = ``2 B M^2 C``;
- DPC scoring, per pruning neck call on (B, N, C) tokens: the pairwise distance matrix,
  ``B * N^2 * C`` MACs (the k-NN / delta reductions are O(N^2) comparisons and are not MACs).
"""
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmpretrain.models.utils.attention import MultiheadAttention

from .specs import is_video_model

STAGE_FRAMES = 'backbone per-frame'
STAGE_FINE = 'backbone fine stem (key frame)'
STAGE_NECK = 'neck (token scoring)'
STAGE_JOINT = 'backbone joint (kept tokens)'
STAGE_BACKBONE = 'backbone'
STAGE_HEAD = 'head'
STAGE_OTHER = 'other'
VIDEO_STAGES = (STAGE_FRAMES, STAGE_FINE, STAGE_NECK, STAGE_JOINT, STAGE_HEAD, STAGE_OTHER)
IMAGE_STAGES = (STAGE_BACKBONE, STAGE_NECK, STAGE_HEAD, STAGE_OTHER)
# Operators that mean an attention module's QK^T / AV products are already in the traced count.
_COUNTED_ATTENTION_OPS = {'matmul', 'bmm', 'einsum', 'baddbmm'}


@dataclass
class StageCost:
    """Cost of one stage for one input batch. MACs are integers; ``params`` counts weights."""
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

    ``kept_tokens``/``total_tokens`` are the tokens per clip after/before pruning (None without a
    token-pruning neck). ``uncounted_ops`` lists the operators MMEngine's counter skipped.
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
        raise KeyError(f'no stage {name!r}; stages are {[s.stage for s in self.stages]}')

    def to_dict(self) -> dict:
        out = asdict(self)
        for stage, cost in zip(out['stages'], self.stages):
            stage['total_macs'] = cost.total_macs
        out.update(total_macs=self.total_macs, total_params=self.total_params)
        return out


def stage_of(name: str, model: nn.Module) -> str:
    """Stage of a module or parameter, from its dotted name inside the pose estimator."""
    parts = name.split('.')
    if parts[0] == 'backbone':
        if not is_video_model(model):
            return STAGE_BACKBONE
        if len(parts) > 1 and parts[1] == 'fine_stem':
            return STAGE_FINE
        if len(parts) > 1 and parts[1] == 'ln1':
            return STAGE_JOINT
        if len(parts) > 2 and parts[1] == 'layers' and int(parts[2]) >= model.backbone.prune_layer:
            return STAGE_JOINT
        return STAGE_FRAMES
    if parts[0] == 'neck':
        return STAGE_NECK
    if parts[0] == 'head':
        return STAGE_HEAD
    return STAGE_OTHER


class _TensorForward(nn.Module):
    """``model._forward`` (normalised input tensor to heatmaps) as a traceable ``forward``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model._forward(inputs)


def traced_macs_by_stage(model: nn.Module, inputs: torch.Tensor) -> Tuple[Dict[str, int], FlopAnalyzer]:
    """MMEngine-counted MACs per stage: every module's *own* MACs (its total minus its children's)
    go to its stage, so the stages partition the model total exactly."""
    analyzer = FlopAnalyzer(_TensorForward(model), (inputs, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    totals = {name[len('model.'):] if name.startswith('model.') else '': macs
              for name, macs in analyzer.by_module().items() if name != ''}
    children = defaultdict(int)
    for name, macs in totals.items():
        if name:
            children[name.rpartition('.')[0]] += macs
    by_stage = defaultdict(int)
    for name, macs in totals.items():
        by_stage[stage_of(name, model) if name else STAGE_OTHER] += macs - children[name]
    # Anything the wrapper itself runs outside ``model`` also belongs to no stage.
    by_stage[STAGE_OTHER] += analyzer.total() - totals.get('', 0)
    return dict(by_stage), analyzer


def analytic_costs(model: nn.Module, inputs: torch.Tensor) -> dict:
    """Run one forward pass and derive the analytic terms from the token counts it sees.

    Returns:
        dict: ``attention`` (module name -> MACs), ``scoring`` (neck MACs), ``kept_tokens`` and
        ``total_tokens`` per clip (None without a pruning neck).
    """
    attention: Dict[str, int] = defaultdict(int)
    found = dict(scoring=0, kept_tokens=None, total_tokens=None)
    handles = []

    def attention_hook(name):
        def hook(module, args):
            batch, num_tokens = args[0].shape[:2]
            attention[name] += 2 * batch * num_tokens**2 * module.embed_dims
        return hook

    def neck_hook(neck, args):
        video_tokens = args[0]
        batch, num_tokens, channels = video_tokens.tokens.shape
        kept = neck.num_kept(video_tokens.num_frames, video_tokens.tokens_per_frame)
        found.update(kept_tokens=kept, total_tokens=num_tokens)
        if getattr(neck, 'selector', None) == 'dpc' and kept < num_tokens:
            found['scoring'] += batch * num_tokens**2 * channels

    for name, module in model.named_modules():
        if isinstance(module, MultiheadAttention):
            handles.append(module.register_forward_pre_hook(attention_hook(name)))
    neck = getattr(model, 'neck', None)
    if neck is not None and hasattr(neck, 'num_kept'):
        handles.append(neck.register_forward_pre_hook(neck_hook))
    try:
        with torch.no_grad():
            model._forward(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return dict(attention=dict(attention), **found)


def model_cost(model: nn.Module, inputs: torch.Tensor) -> ModelCost:
    """Per-stage MACs (traced + analytic attention + analytic DPC scoring) and parameters.

    Args:
        model (nn.Module): A pose estimator in eval mode.
        inputs (Tensor): Its normalised input, (B, T, 3, H, W) for clips or (B, 3, H, W).
    """
    stage_names = VIDEO_STAGES if is_video_model(model) else IMAGE_STAGES
    stages = {name: StageCost(name) for name in stage_names}
    traced, analyzer = traced_macs_by_stage(model, inputs)
    for name, macs in traced.items():
        stages[name].counted_macs += macs
    extra = analytic_costs(model, inputs)
    for name, macs in extra['attention'].items():
        already_counted = set(analyzer.by_operator('model.' + name)) & _COUNTED_ATTENTION_OPS
        if not already_counted:
            stages[stage_of(name, model)].attention_macs += macs
    stages[STAGE_NECK].scoring_macs += extra['scoring']
    for name, param in model.named_parameters():
        stages[stage_of(name, model)].params += param.numel()
    return ModelCost(batch_size=inputs.shape[0], stages=list(stages.values()),
                     kept_tokens=extra['kept_tokens'], total_tokens=extra['total_tokens'],
                     uncounted_ops=dict(analyzer.unsupported_ops()))
