"""Speed, memory and FLOPs benchmark of FTP-Pose against its unpruned baseline
and MMPose peers.

Import directly
(``from mgpose_mm.benchmark import BenchmarkSettings, run_benchmark``); the CLI
is ``tools/analysis_tools/benchmark.py``. Modules: :mod:`.specs` (which models,
how built and fed), :mod:`.flops` (per-stage GFLOPs/params), :mod:`.timing`
(interleaved timing), :mod:`.memory` (peak memory, child process per model),
:mod:`.report` (table, ratios, targets), :mod:`.plot`.
"""
from .flops import ModelCost, StageCost, model_cost, stage_of
from .report import COLUMNS, evaluate_targets, markdown_table
from .runner import BenchmarkSettings, load_ap, run_benchmark
from .specs import BASELINE_KEY, ModelSpec, build_model, variant_specs

__all__ = [
    'BASELINE_KEY', 'BenchmarkSettings', 'COLUMNS', 'ModelCost', 'ModelSpec',
    'StageCost', 'build_model', 'evaluate_targets', 'load_ap',
    'markdown_table', 'model_cost', 'run_benchmark', 'stage_of',
    'variant_specs'
]
