"""What the benchmark measures: :mod:`.specs` (which models, how built and
fed), :mod:`.flops` (per-stage GFLOPs/params), :mod:`.timing` (interleaved
timing) and :mod:`.memory` (peak memory, child process per model).

The benchmark itself (tables, plot) is ``tools/analysis_tools/benchmark.py``.
"""
from .flops import ModelCost, StageCost, model_cost, stage_of
from .specs import BASELINE_KEY, ModelSpec, build_model, variant_specs

__all__ = [
    'BASELINE_KEY', 'ModelCost', 'ModelSpec', 'StageCost', 'build_model',
    'model_cost', 'stage_of', 'variant_specs'
]
