"""Benchmark table rows, speed-up ratios and Markdown/CSV/JSON output."""
import csv
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mgpose_mm.benchmark.flops import ModelCost
from mgpose_mm.benchmark.specs import BASELINE_KEY, VITPOSE_KEY, ModelSpec
from mgpose_mm.benchmark.timing import median

COLUMNS = ('variant', 'model', 'selector', 'eps', 'backend', 'batch', 'frames',
           'kept_tokens', 'latency_ms', 'clips_per_s', 'speedup',
           'vs_vitpose_b', 'gflops', 'flops_speedup', 'speedup_efficiency',
           'params_m', 'infer_mem_mb', 'train_mem_mb', 'train_mem_ratio',
           'scoring_ms', 'scoring_share', 'ap')
COLUMN_NOTES = {
    'clips_per_s': ('person-clips per second = batch / latency '
                    '(median over the timed repeats)'),
    'speedup': ('clips_per_s / clips_per_s of FTP-Pose eps=0 '
                '(same batch, same backend, same process)'),
    'vs_vitpose_b': ('clips_per_s / clips_per_s of MMPose\'s ViTPose-B on one '
                     'frame (same batch, same backend, same process; '
                     '--peers vitpose_b)'),
    'gflops': ('GFLOPs per person-clip, MACs-based as MMPose reports them '
               '(1 multiply-add = 1 FLOP), MMEngine counter + attention '
               '(2*M^2*C per layer) + DPC distances (N^2*C), analytic'),
    'flops_speedup':
    'FLOPs-predicted speed-up = gflops(eps=0) / gflops',
    'speedup_efficiency':
    'speedup / flops_speedup',
    'infer_mem_mb': ('peak memory of one inference batch '
                     '(CPU: peak-RSS increase; CUDA: max allocated)'),
    'train_mem_mb':
    'peak memory of one forward+backward at the same batch (same method)',
    'train_mem_ratio':
    'train_mem_mb / train_mem_mb of eps=0',
    'scoring_ms': ('median time of the token pruner alone '
                   '(token scoring + top-k + gather) on the same tokens'),
    'scoring_share':
    'scoring_ms / latency_ms of the same model',
    'ap':
    'accuracy from --ap-json (trained models), if given',
}
STAGE_COLUMNS = ('variant', 'stage', 'counted_gflops', 'attention_gflops',
                 'scoring_gflops', 'total_gflops', 'share', 'params_m')


def _memory_value(peaks: Optional[dict], cuda: bool) -> Optional[float]:
    if not peaks or peaks.get('oom'):
        return None
    return peaks['cuda_max_alloc_mb'] if cuda else peaks['cpu_rss_delta_mb']


def build_rows(specs: Sequence[ModelSpec], costs: Dict[str, ModelCost],
               times: Dict[int, Dict[str, list]], memory: Dict[str, dict],
               ap: Dict[str, float], cuda: bool,
               frames_per_clip: int) -> List[dict]:
    """One row per (model, backend, batch size), with every ratio taken against
    the eps=0 row of the same batch and backend.

    Args:
        times (dict): batch -> runner name (``'<key>|<backend>'`` or
            ``'<key>|pruner'``) -> seconds.
        memory (dict): key ->
            ``{'infer': {batch: peaks}, 'train': {batch: peaks}}``.
        ap (dict): key -> AP.
    """
    base_cost = costs[BASELINE_KEY]
    rows = []
    for batch, by_runner in times.items():
        for spec in specs:
            backends = [
                name.split('|')[1] for name in by_runner
                if name.split('|')[0] == spec.key
                and name.split('|')[1] != 'pruner'
            ]
            for backend in backends:
                cost = costs[spec.key]
                latency = median(by_runner[f'{spec.key}|{backend}'])
                # Neck time and memory are measured in PyTorch; they do not
                # describe other runtimes.
                in_torch = backend.startswith('pytorch')
                pruner_times = by_runner.get(
                    f'{spec.key}|pruner') if in_torch else None
                mem = memory.get(spec.key, {}) if in_torch else {}
                rows.append(
                    dict(
                        variant=spec.key,
                        model=spec.label,
                        selector=spec.selector or '-',
                        eps=spec.prune_ratio,
                        backend=backend,
                        batch=batch,
                        frames=frames_per_clip
                        if spec.family == 'ftp-pose' else 1,
                        kept_tokens=cost.kept_tokens,
                        latency_ms=latency * 1e3,
                        clips_per_s=batch / latency,
                        gflops=cost.total_macs / cost.batch_size / 1e9,
                        flops_speedup=base_cost.total_macs / cost.total_macs,
                        params_m=cost.total_params / 1e6,
                        infer_mem_mb=_memory_value(
                            mem.get('infer', {}).get(batch), cuda),
                        train_mem_mb=_memory_value(
                            mem.get('train', {}).get(batch), cuda),
                        scoring_ms=median(pruner_times) *
                        1e3 if pruner_times else None,
                        ap=ap.get(spec.key)))
                if pruner_times:
                    rows[-1]['scoring_share'] = rows[-1]['scoring_ms'] / rows[
                        -1]['latency_ms']
    _add_ratios(rows)
    return [{column: row.get(column) for column in COLUMNS} for row in rows]


def _add_ratios(rows: List[dict]) -> None:
    baselines = {(r['batch'], r['backend']): r
                 for r in rows if r['variant'] == BASELINE_KEY}
    vitpose = {(r['batch'], r['backend']): r
               for r in rows if r['variant'] == VITPOSE_KEY}
    for row in rows:
        peer = vitpose.get((row['batch'], row['backend']))
        if peer is not None:
            row['vs_vitpose_b'] = row['clips_per_s'] / peer['clips_per_s']
        base = baselines.get((row['batch'], row['backend'])) or baselines.get(
            (row['batch'], 'pytorch'))
        if base is None:
            continue
        row['speedup'] = row['clips_per_s'] / base['clips_per_s']
        row['speedup_efficiency'] = row['speedup'] / row['flops_speedup']
        if row['train_mem_mb'] is not None and base['train_mem_mb']:
            row['train_mem_ratio'] = row['train_mem_mb'] / base['train_mem_mb']


def _fmt(value, column: str) -> str:
    if value is None:
        return 'n/a'
    if isinstance(value, float):
        if column in ('scoring_share', ):
            return f'{value:.1%}'
        if column in ('speedup', 'vs_vitpose_b', 'flops_speedup',
                      'speedup_efficiency', 'train_mem_ratio'):
            return f'{value:.3f}'
        if column == 'eps':
            return f'{value:g}'
        return f'{value:.1f}' if abs(value) >= 100 else f'{value:.2f}' if abs(
            value) >= 1 else f'{value:.4f}'
    return str(value)


def markdown_table(rows: List[dict], columns: Sequence[str] = COLUMNS) -> str:
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    lines += [
        '| ' + ' | '.join(_fmt(row[c], c) for c in columns) + ' |'
        for row in rows
    ]
    return '\n'.join(lines)


def stage_rows(specs: Sequence[ModelSpec],
               costs: Dict[str, ModelCost]) -> List[dict]:
    """Long-format per-stage cost table.

    In GFLOPs per person-clip, MACs-based.
    """
    out = []
    for spec in specs:
        cost = costs[spec.key]
        total = cost.total_macs
        for stage in cost.stages:
            out.append(
                dict(
                    variant=spec.key,
                    stage=stage.stage,
                    counted_gflops=stage.counted_macs / cost.batch_size / 1e9,
                    attention_gflops=stage.attention_macs / cost.batch_size /
                    1e9,
                    scoring_gflops=stage.scoring_macs / cost.batch_size / 1e9,
                    total_gflops=stage.total_macs / cost.batch_size / 1e9,
                    share=f'{stage.total_macs / total:.1%}',
                    params_m=stage.params / 1e6))
    return out


def write_reports(results: dict, work_dir: str) -> Dict[str, str]:
    """Write ``benchmark.md``, ``benchmark.csv`` and ``benchmark.json`` to
    ``work_dir``."""
    paths = {
        ext: osp.join(work_dir, f'benchmark.{ext}')
        for ext in ('md', 'csv', 'json')
    }
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(results['rows'])
    with open(paths['json'], 'w') as f:
        json.dump(results, f, indent=1, default=str)
    with open(paths['md'], 'w') as f:
        f.write(markdown_report(results))
    return paths


def markdown_report(results: dict) -> str:
    settings = results['settings']
    parts = [
        f"# FTP-Pose benchmark: {osp.basename(settings['config'])}",
        '',
        f"device: {results['environment']['device_name']} "
        f"({settings['device']}, "
        f"{results['environment']['threads']} CPU threads), torch "
        f"{results['environment']['torch']}, "
        f"AMP: {settings['amp_dtype'] or 'off'}, "
        f"input {results['input_shape']} (B, T, 3, H, W), "
        f"warm-up {settings['warmup']}, "
        f"repeats {settings['repeats']} (interleaved), "
        f"default epsilon {results['default_eps']:g}.",
        '',
        markdown_table(results['rows']),
        '',
        '\n'.join(f'- `{k}`: {v}' for k, v in COLUMN_NOTES.items()),
        '',
        f"- memory method: {results['memory_method']}",
        '',
        '## Cost per stage (batch 1, GFLOPs = GMACs)',
        '',
        markdown_table(results['stages'], STAGE_COLUMNS),
        '',
    ]
    if results.get('onnx'):
        parts += [
            '## ONNX', '',
            '\n'.join(f'- `{k}`: {v}' for k, v in results['onnx'].items()), ''
        ]
    return '\n'.join(parts)
