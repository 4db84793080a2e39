"""Benchmark: per-stage FLOPs (counted + attention/DPC handles) and the
benchmark table."""
import csv
import json
import os.path as osp

import pytest
import torch
from conftest import TINY_CONFIG as DEFAULT_TINY_CONFIG
from conftest import load_tool
from mmengine.analysis import FlopAnalyzer

bench_report = load_tool('benchmark_report')
bench_runner = load_tool('benchmark_runner')

# The tiny config: 128x96 input, patch 16 with padding 2 -> 8x6 = 48 tokens per
# frame, T = 3, C = 96, 4 ViT layers with prune_layer = 1 (1 per-frame, 3
# joint), 1 temporal head layer.
TOKENS_PER_FRAME, FRAMES, CHANNELS = 48, 3, 96
# The paper setting at tiny scale (pruning after layer 1 of 4, eps 0.5,
# stacked fine stem): the hand counts below follow its stages.
TINY_CONFIG = DEFAULT_TINY_CONFIG.replace('ftp-pose_vit-tiny',
                                          'ftp-pose-paper_vit-tiny')


def tiny_spec(eps=0.5, selector='dpc'):
    from mgpose_mm.benchmark import ModelSpec
    return ModelSpec(f'tiny_{selector}_{eps}', 'tiny', TINY_CONFIG, 'ftp-pose',
                     eps, selector)


def tiny_clips(batch):
    from mgpose_mm.benchmark.specs import make_clips
    return make_clips(batch, FRAMES, (128, 96), 'cpu')


class TensorForward(torch.nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model._forward(x)


def sdpa_macs_handle(inputs, outputs):
    """Traced MACs of scaled_dot_product_attention: B*H*L*S*(D + Dv) (QK^T and
    AV)."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    return q[0] * q[1] * q[2] * k[2] * (q[3] + v[3])


@pytest.mark.parametrize('batch', [1, 2])
def test_stage_costs_add_up_and_attention_matches_hand_count(batch):
    from mgpose_mm.benchmark import build_model, model_cost
    from mgpose_mm.benchmark.flops import (STAGE_FINE, STAGE_FRAMES,
                                           STAGE_HEAD, STAGE_JOINT,
                                           STAGE_OTHER, STAGE_PRUNING)
    model = build_model(tiny_spec(0.5))
    clips = tiny_clips(batch)
    cost = model_cost(model, clips)

    # Counted part: an independent FlopAnalyzer, summed over the modules of
    # each stage.
    analyzer = FlopAnalyzer(TensorForward(model), (clips, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    total = analyzer.total()
    sub = lambda name: analyzer.total('model.' + name)  # noqa: E731
    assert sum(s.counted_macs for s in cost.stages) == total
    assert cost.stage(STAGE_FRAMES).counted_macs == sub(
        'backbone.patch_embed') + sub('backbone.layers.0')
    joint_layers = sum(sub(f'backbone.layers.{i}') for i in (1, 2, 3))
    assert cost.stage(STAGE_JOINT).counted_macs == joint_layers + \
        sub('backbone.ln1')
    assert cost.stage(STAGE_FINE).counted_macs == sub('backbone.fine_stem')
    assert cost.stage(STAGE_HEAD).counted_macs == sub('head')
    assert cost.stage(STAGE_OTHER).total_macs == 0
    assert cost.total_macs == sum(s.total_macs for s in cost.stages)
    assert cost.total_params == sum(p.numel() for p in model.parameters())

    # Analytic part by hand: 2 * M^2 * C per attention layer and clip, N^2 * C
    # for DPC distances.
    kept = TOKENS_PER_FRAME + (FRAMES - 1) * TOKENS_PER_FRAME // 2
    full = FRAMES * TOKENS_PER_FRAME
    assert (cost.kept_tokens, cost.total_tokens) == (kept, full) == (96, 144)
    assert cost.stage(
        STAGE_FRAMES
    ).attention_macs == batch * FRAMES * 2 * TOKENS_PER_FRAME**2 * CHANNELS
    assert cost.stage(
        STAGE_JOINT
    ).attention_macs == batch * 3 * 2 * kept**2 * CHANNELS == batch * 5308416
    assert cost.stage(
        STAGE_HEAD).attention_macs == batch * 2 * kept**2 * CHANNELS
    assert cost.stage(
        STAGE_PRUNING
    ).scoring_macs == batch * full**2 * CHANNELS == batch * 1990656

    # The analytic attention equals what the traced sdpa calls would count,
    # stage by stage.
    analyzer = FlopAnalyzer(TensorForward(model), (clips, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           sdpa_macs_handle)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    traced = {
        stage: sum(
            analyzer.by_operator('model.' +
                                 name).get('scaled_dot_product_attention', 0)
            for name in names)
        for stage, names in ((STAGE_FRAMES, ['backbone.layers.0']),
                             (STAGE_JOINT,
                              [f'backbone.layers.{i}'
                               for i in (1, 2, 3)]), (STAGE_HEAD, ['head']))
    }
    for stage, macs in traced.items():
        assert cost.stage(stage).attention_macs == macs


def test_pruning_lowers_only_the_stages_after_the_pruner():
    from mgpose_mm.benchmark import build_model, model_cost
    from mgpose_mm.benchmark.flops import (STAGE_FINE, STAGE_FRAMES,
                                           STAGE_JOINT, STAGE_PRUNING)
    base = model_cost(build_model(tiny_spec(0.0)), tiny_clips(1))
    rand = model_cost(build_model(tiny_spec(0.75, 'random')), tiny_clips(1))
    for stage in (STAGE_FRAMES, STAGE_FINE):
        assert base.stage(stage).total_macs == rand.stage(stage).total_macs
    assert rand.stage(
        STAGE_JOINT).total_macs < 0.6 * base.stage(STAGE_JOINT).total_macs
    assert base.stage(STAGE_PRUNING).total_macs == rand.stage(
        STAGE_PRUNING).total_macs == 0  # no DPC
    assert rand.kept_tokens == 48 + 96 - 72


def test_variant_specs_always_include_baseline_and_default_eps():
    from mgpose_mm.benchmark import variant_specs
    keys = [s.key for s in variant_specs(TINY_CONFIG, [0.25], peers=True)]
    assert keys == [
        'ftp_eps0', 'ftp_dpc_eps0.25', 'ftp_dpc_eps0.5', 'ftp_random_eps0.25',
        'ftp_random_eps0.5', 'vitpose_b', 'hrnet_w48'
    ]
    with pytest.raises(ValueError, match='epsilon'):
        variant_specs(TINY_CONFIG, [1.0], peers=False)
    specs = variant_specs(
        TINY_CONFIG, [], peers=['vitpose_b'], compare=[DEFAULT_TINY_CONFIG])
    assert [s.key for s in specs] == [
        'ftp_eps0', 'ftp_dpc_eps0.5', 'ftp_random_eps0.5',
        'cfg:ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96', 'vitpose_b'
    ]
    assert specs[3].prune_ratio is None and specs[3].family == 'ftp-pose'
    with pytest.raises(ValueError, match="unknown peer 'vitpose'"):
        variant_specs(TINY_CONFIG, [], peers=['vitpose'])
    # a config whose selector is not plain DPC is swept with its own selector
    # (its default row must exist), and random
    anchored = DEFAULT_TINY_CONFIG.replace('ftp-pose_vit-tiny',
                                           'ftp-pose-anchored-dpc_vit-tiny')
    specs = variant_specs(anchored, [0.5], peers=False)
    assert [s.key for s in specs] == [
        'ftp_eps0', 'ftp_dpc-anchored_eps0.5', 'ftp_dpc-anchored_eps0.9',
        'ftp_random_eps0.5', 'ftp_random_eps0.9'
    ]
    assert specs[2].selector == 'dpc-anchored'


def test_rows_give_clips_per_second_as_a_ratio_to_vitpose_b():
    rows = [
        dict(
            variant=key,
            batch=batch,
            backend='pytorch',
            clips_per_s=cps,
            flops_speedup=1.0,
            train_mem_mb=None)
        for key, batch, cps in [('ftp_eps0', 1, 2.0), (
            'vitpose_b', 1, 8.0), ('ftp_dpc_eps0.8', 1,
                                   4.0), ('ftp_eps0', 8,
                                          1.0), ('ftp_dpc_eps0.8', 8, 3.0)]
    ]
    bench_report._add_ratios(rows)
    ratio = {(r['variant'], r['batch']): r.get('vs_vitpose_b') for r in rows}
    assert ratio[('ftp_eps0', 1)] == 0.25 and ratio[('vitpose_b', 1)] == 1.0
    assert ratio[('ftp_dpc_eps0.8', 1)] == 0.5
    assert ratio[('ftp_dpc_eps0.8', 8)] is None  # no ViTPose-B at batch 8
    assert rows[2]['speedup'] == 2.0


def test_strip_pretrained_removes_checkpoints_only():
    from mgpose_mm.benchmark.specs import strip_pretrained
    cfg = dict(
        backbone=dict(
            type='X', init_cfg=dict(type='Pretrained', checkpoint='http://x')),
        head=dict(
            init_cfg=[dict(type='Normal', std=0.01)],
            layers=[dict(init_cfg=dict(type='Pretrained', checkpoint='y'))]))
    out = strip_pretrained(cfg)
    assert out == dict(
        backbone=dict(type='X'),
        head=dict(init_cfg=[dict(type='Normal', std=0.01)], layers=[dict()]))


def test_run_benchmark_tiny_table(tmp_path):
    from mgpose_mm.benchmark import BASELINE_KEY
    COLUMNS = bench_report.COLUMNS
    ap_file = tmp_path / 'ap.json'
    ap_file.write_text(json.dumps({'ftp_eps0': 80.3, 'ftp_dpc_eps0.5': 80.0}))
    settings = bench_runner.BenchmarkSettings(
        config=TINY_CONFIG,
        batch_sizes=(1, 2),
        eps=(0.0, 0.5),
        repeats=2,
        warmup=1,
        onnx=True,
        work_dir=str(tmp_path),
        memory='inline',
        ap_json=[str(ap_file)])
    messages = []
    results = bench_runner.run_benchmark(settings, log=messages.append)
    rows = results['rows']

    expected = {
        (key, backend, batch)
        for batch in (1, 2)
        for key, backend in [(
            'ftp_eps0',
            'pytorch'), ('ftp_dpc_eps0.5',
                         'pytorch'), ('ftp_random_eps0.5',
                                      'pytorch'), ('ftp_eps0', 'onnxruntime'),
                             ('ftp_dpc_eps0.5', 'onnxruntime')]
    }
    assert {(r['variant'], r['backend'], r['batch']) for r in rows} == expected
    assert all(tuple(r) == COLUMNS for r in rows)
    for row in rows:
        base = next(
            r for r in rows if r['variant'] == BASELINE_KEY
            and r['batch'] == row['batch'] and r['backend'] == row['backend'])
        assert row['clips_per_s'] == pytest.approx(row['batch'] * 1e3 /
                                                   row['latency_ms'])
        assert row['speedup'] == pytest.approx(row['clips_per_s'] /
                                               base['clips_per_s'])
        assert row['flops_speedup'] == pytest.approx(base['gflops'] /
                                                     row['gflops'])
        assert row['speedup_efficiency'] == pytest.approx(row['speedup'] /
                                                          row['flops_speedup'])
        assert row['kept_tokens'] == (144 if row['variant'] == BASELINE_KEY
                                      else 96)
        torch_row = row['backend'] == 'pytorch'
        assert (row['infer_mem_mb'] is not None) == torch_row
        if row['variant'] != BASELINE_KEY and torch_row:
            assert row['scoring_share'] == pytest.approx(row['scoring_ms'] /
                                                         row['latency_ms'])
    dpc2, base2 = (
        next(
            r for r in rows
            if (r['variant'], r['batch'], r['backend']) == (key, 2, 'pytorch'))
        for key in ('ftp_dpc_eps0.5', 'ftp_eps0'))
    assert dpc2['train_mem_ratio'] == pytest.approx(dpc2['train_mem_mb'] /
                                                    base2['train_mem_mb'])
    assert dpc2['gflops'] < base2['gflops'] and dpc2['ap'] == 80.0

    stage_sum = sum(s['total_gflops'] for s in results['stages']
                    if s['variant'] == 'ftp_dpc_eps0.5')
    assert stage_sum == pytest.approx(dpc2['gflops'])
    assert any('batch 2' in m
               for m in messages) and any('ftp_random_eps0.5' in m
                                          for m in messages)

    files = results['files']
    assert all(osp.isfile(files[ext]) for ext in ('md', 'csv', 'json', 'png'))
    with open(files['csv']) as f:
        csv_rows = list(csv.DictReader(f))
    assert len(csv_rows) == len(rows) and tuple(csv_rows[0]) == COLUMNS
    markdown = open(files['md']).read()
    assert bench_report.markdown_table(rows) in markdown
    assert '## Cost per stage' in markdown and 'Targets' not in markdown


def test_memory_worker_subprocess_reports_peaks():
    from mgpose_mm.benchmark.memory import measure_memory
    result = measure_memory(
        tiny_spec(0.5), [1], [1], 'cpu', None, (FRAMES, 128, 96), 1)
    for mode in ('infer', 'train'):
        peaks = result[mode][1]
        assert peaks['oom'] is False and peaks['cuda_max_alloc_mb'] is None
        assert 0 < peaks['cpu_rss_delta_mb'] < peaks['cpu_rss_peak_mb']


def test_load_ap_rejects_bad_files(tmp_path):
    load_ap = bench_runner.load_ap
    bad = tmp_path / 'ap.json'
    bad.write_text(json.dumps({'ftp_eps0': 'high'}))
    with pytest.raises(ValueError, match='ap.json'):
        load_ap([str(bad)])
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_ap([str(tmp_path / 'missing.json')])
