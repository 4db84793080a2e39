"""Accuracy against speed: the ablation study's AP next to the benchmark's
clips/s.

The study trains the tiny synthetic configs (AP with intervals); the benchmark
times the ViT-B configs of the same designs (clips/s, and the ratio to MMPose's
single-frame ViTPose-B timed in the same run). This tool pairs them and writes
a Markdown table and a plot of AP (Total and occluded joints) against clips/s.

Example::

    python tools/analysis_tools/pareto.py \\
        --ablation-csv configs/ftp_pose/study_results/ablation_val.csv \\
        --benchmark-json work_dirs/benchmark/benchmark.json --batch 8 \\
        --pair ftp-pose-single-frame=cfg:ftp-pose-single-frame_vit-base \\
               ftp-pose-eps0=ftp_eps0 ftp-pose=ftp_dpc_eps0.8 \\
        --out work_dirs/pareto
"""
import argparse
import csv
import json
import os
import os.path as osp

from mgpose_mm.errors import ConfigValueError, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--ablation-csv',
        required=True,
        help='ablation_<eval>.csv written by tools/analysis_tools/ablation.py')
    parser.add_argument(
        '--benchmark-json',
        required=True,
        help='benchmark.json written by tools/analysis_tools/benchmark.py')
    parser.add_argument(
        '--batch', type=int, required=True, help='benchmark batch size')
    parser.add_argument(
        '--pair',
        nargs='+',
        required=True,
        metavar='STUDY=BENCH',
        help=('study config name (as in the CSV, a prefix is enough) = '
              'benchmark variant key'))
    parser.add_argument('--out', required=True, help='output folder')
    return parser.parse_args(argv)


def read_study(path):
    """``{(subset, config): row}`` of an ablation CSV."""
    with open(path, newline='', encoding='utf-8') as f:
        return {(r['subset'], r['config']): r for r in csv.DictReader(f)}


def find_config(study, name):
    configs = sorted({config for _, config in study})
    matches = [c for c in configs if c == name or c.startswith(name + '_')]
    if len(matches) != 1:
        raise ConfigValueError(
            f'pareto: {name!r} matches {matches or "no config"} of the study '
            f'({configs})')
    return matches[0]


def pareto_rows(study, bench_rows, batch, pairs):
    """One row per pair: AP (Total, occluded) with the seeds' mean and the
    interval over videos, clips/s and its ratio to ViTPose-B."""
    rows = []
    for pair in pairs:
        if '=' not in pair:
            raise ConfigValueError(
                f'pareto: --pair {pair!r} is not STUDY=BENCH')
        name, key = pair.split('=', 1)
        config = find_config(study, name)
        bench = [
            r for r in bench_rows if r['variant'] == key
            and r['batch'] == batch and r['backend'] == 'pytorch'
        ]
        if not bench:
            raise ConfigValueError(
                f'pareto: no benchmark row {key!r} at batch {batch}')
        row = dict(
            study=config,
            benchmark=key,
            clips_per_s=bench[0]['clips_per_s'],
            vs_vitpose_b=bench[0].get('vs_vitpose_b'),
            speedup=bench[0].get('speedup'),
            gflops=bench[0]['gflops'])
        for subset in ('total', 'occluded'):
            stats = study[(subset, config)]
            row[subset] = float(stats['mean'])
            row[f'{subset}_ci'] = (float(stats['ci_low']),
                                   float(stats['ci_high']))
            row['seeds'] = int(stats['num_seeds'])
        rows.append(row)
    return rows


def markdown(rows, batch):
    lines = [
        f'| Design (study config = benchmark row) | Seeds | Total AP | '
        f'Occluded AP | GFLOPs | clips/s (batch {batch}) | vs eps 0 | '
        'vs ViTPose-B |', '| :-- | :-: | :-: | :-: | :-: | :-: | :-: | :-: |'
    ]

    def ratio(value):
        return 'n/a' if value is None else f'{value:.2f}x'

    for r in rows:
        lines.append(
            f"| {r['study']} = {r['benchmark']} | {r['seeds']} | "
            f"{r['total']:.1f} [{r['total_ci'][0]:.1f}, "
            f"{r['total_ci'][1]:.1f}] | {r['occluded']:.1f} "
            f"[{r['occluded_ci'][0]:.1f}, {r['occluded_ci'][1]:.1f}] | "
            f"{r['gflops']:.1f} | {r['clips_per_s']:.2f} | "
            f"{ratio(r['speedup'])} | {ratio(r['vs_vitpose_b'])} |")
    return '\n'.join(lines) + '\n'


def plot(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, subset, title in ((axes[0], 'total', 'Total AP'),
                              (axes[1], 'occluded', 'occluded joints AP')):
        for r in rows:
            low, high = r[f'{subset}_ci']
            ax.errorbar(
                r['clips_per_s'],
                r[subset],
                yerr=[[r[subset] - low], [high - r[subset]]],
                fmt='o',
                capsize=3)
            ax.annotate(
                r['study'].split('_vit')[0], (r['clips_per_s'], r[subset]),
                textcoords='offset points',
                xytext=(4, 4),
                fontsize=7)
        ax.set_xlabel('clips/s (ViT-B, benchmark)')
        ax.set_ylabel(f'{title} (tiny model, synthetic study)')
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    for path in (args.ablation_csv, args.benchmark_json):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} is not a file')
    study = read_study(args.ablation_csv)
    with open(args.benchmark_json, encoding='utf-8') as f:
        bench_rows = json.load(f)['rows']
    rows = pareto_rows(study, bench_rows, args.batch, args.pair)
    os.makedirs(args.out, exist_ok=True)
    table = markdown(rows, args.batch)
    with open(osp.join(args.out, 'pareto.md'), 'w', encoding='utf-8') as f:
        f.write(table)
    plot(rows, osp.join(args.out, 'pareto.png'))
    print(table)


if __name__ == '__main__':
    run_cli(main)
