"""Tables (Markdown, CSV) and a plot of an ablation study's statistics."""
import csv
import math
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from ablation_runner import RunSpec, is_finished
from ablation_stats import summarize_study

from mgpose_mm.evaluation.functional.subsets import SUBSETS, JointDetections
from mgpose_mm.evaluation.metrics.posetrack_subsets import (load_jitter,
                                                            load_records)

SUBSET_TITLES = dict(
    total='Total AP (all joints)',
    hard='AP on hard key frames (occluded or '
    'blurred frames, all joints)',
    occluded='AP on occluded key-frame joints',
    blurred='AP on motion-blurred persons',
    jitter='Jitter (acceleration error, % of the person size; lower is '
    'steadier)')
# the AP subsets, then the jitter (runs recorded before jitter have none)
TABLES = (*SUBSETS, 'jitter')


class VideoJitter:
    """A run's acceleration errors summed per video, for the same paired video
    bootstrap as AP (:func:`summarize_study` reads ``videos`` and
    ``total_ap``).

    Args:
        errors (dict): video -> (M, K) errors (NaN: joint not counted), as
            :func:`load_jitter` returns.
        videos (list[str]): the study's videos.
    """

    def __init__(self, errors: Dict[str, np.ndarray], videos: Sequence[str]):
        self.videos = list(videos)
        finite = [
            np.asarray(errors.get(v, np.zeros(0)), np.float64).ravel()
            for v in self.videos
        ]
        finite = [e[np.isfinite(e)] for e in finite]
        self.sums = np.array([e.sum() for e in finite])
        self.counts = np.array([e.size for e in finite], np.float64)

    def total_ap(self, weights: np.ndarray = None):
        """Mean error over the counted joints; with ``weights`` (B, V) video
        counts, one mean per bootstrap draw (B,)."""
        if weights is None:
            count = self.counts.sum()
            return float(self.sums.sum() / count) if count else float('nan')
        with np.errstate(invalid='ignore', divide='ignore'):
            return (weights @ self.sums) / (weights @ self.counts)


def load_study(runs: Sequence[RunSpec]
               ) -> Dict[str, Dict[str, Dict[int, JointDetections]]]:
    """subset -> config name -> seed -> JointDetections, from the finished
    runs' records; the video list is the union over runs in sorted order (the
    same for every run)."""
    records, jitter = {}, {}
    for run in runs:
        if is_finished(run):
            records[(run.name, run.seed)] = load_records(run.records_file)
            jitter[(run.name, run.seed)] = load_jitter(run.records_file)
    study: Dict[str, Dict[str,
                          Dict[int,
                               JointDetections]]] = {s: {}
                                                     for s in TABLES}
    if not records:
        return study
    videos = sorted(
        {r.video
         for recs in records.values() for r in recs['total']})
    for (name, seed), recs in records.items():
        for subset in SUBSETS:
            study[subset].setdefault(name, {})[seed] = JointDetections(
                recs.get(subset, []), videos)
    complete = {
        name
        for name, _ in records if all(
            j is not None for (n, _), j in jitter.items() if n == name)
    }
    for (name, seed), errors in jitter.items():
        if name in complete:
            study['jitter'].setdefault(name,
                                       {})[seed] = VideoJitter(errors, videos)
    return study


def summarize(study,
              reference,
              num_boot=1000,
              level=0.95,
              seed=0) -> Dict[str, Dict[str, dict]]:
    """subset -> config -> statistics (see :func:`summarize_study`); no
    differences in a table the reference has no runs in."""
    return {
        subset: summarize_study(per_config,
                                reference if reference in per_config else None,
                                num_boot, level, seed)
        for subset, per_config in study.items() if per_config
    }


def short_names(names: Sequence[str]) -> Dict[str, str]:
    """Display names without the suffix all names share from an underscore on,
    e.g. ``ftp-pose-eps0_vit-tiny_1xb16-12e_synthetic-128x96`` -> ``ftp-pose-
    eps0``."""
    names = list(names)
    if len(names) < 2:
        return {n: n for n in names}
    suffix = osp.commonprefix([n[::-1] for n in names])[::-1]
    cut = suffix.find('_')
    if cut < 0 or any(len(n) == len(suffix) - cut for n in names):
        return {n: n for n in names}
    return {n: n[:len(n) - len(suffix) + cut] for n in names}


def rename(stats: Dict[str, Dict[str, dict]],
           names: Dict[str, str]) -> Dict[str, Dict[str, dict]]:
    """The statistics with configs renamed (e.g. by :func:`short_names`)."""
    return {
        subset: {names.get(c, c): row
                 for c, row in rows.items()}
        for subset, rows in stats.items()
    }


def _fmt(value, digits=1):
    return 'n/a' if value is None or not math.isfinite(
        value) else f'{value:.{digits}f}'


def _interval(pair):
    return f'[{_fmt(pair[0])}, {_fmt(pair[1])}]'


def markdown_table(stats: Dict[str, Dict[str, dict]],
                   order: Sequence[str],
                   reference: str,
                   level: float = 0.95) -> str:
    """One Markdown table per subset: config, seeds, per-seed AP, mean +- std,
    interval over videos, paired difference to the reference with its
    intervals."""
    pct = f'{100 * level:.0f} %'
    lines = []
    for subset in TABLES:
        rows = stats.get(subset)
        if not rows:
            continue
        value = 'Jitter' if subset == 'jitter' else 'AP'
        lines += [
            f'**{SUBSET_TITLES[subset]}**', '',
            f'| Config | Seeds | {value} per seed | Mean +- std | {pct} CI '
            '(videos) | '
            f'Diff. to {reference} | {pct} CI (videos) | {pct} CI (videos + '
            'seeds) |',
            '| :----- | :---: | :---------- | :---------: | :----------: | '
            ':---: | '
            ':----------: | :----------: |'
        ]
        for name in order:
            if name not in rows:
                continue
            r = rows[name]
            per_seed = ' / '.join(_fmt(r['per_seed'][s]) for s in r['seeds'])
            if name == reference:
                diff = ('reference', '-', '-')
            elif r.get('diff_per_seed'):
                diff = (f'{r["diff_mean"]:+.1f}', _interval(r['diff_ci']),
                        _interval(r['diff_ci_seeds']))
            else:
                diff = ('n/a', 'n/a', 'n/a')
            lines.append(f'| {name} | {len(r["seeds"])} | {per_seed} | '
                         f'{_fmt(r["mean"])} +- '
                         f'{_fmt(r["std"])} | {_interval(r["ci"])} | '
                         f'{" | ".join(diff)} |')
        lines.append('')
    return '\n'.join(lines)


CSV_FIELDS = [
    'subset', 'config', 'num_seeds', 'seeds', 'per_seed', 'mean', 'std',
    'ci_low', 'ci_high', 'diff_mean', 'diff_ci_low', 'diff_ci_high',
    'diff_ci_seeds_low', 'diff_ci_seeds_high'
]


def csv_rows(stats: Dict[str, Dict[str, dict]],
             order: Sequence[str]) -> List[dict]:
    rows = []
    for subset in TABLES:
        for name in order:
            r = stats.get(subset, {}).get(name)
            if r is None:
                continue
            row = dict(
                subset=subset,
                config=name,
                num_seeds=len(r['seeds']),
                seeds=' '.join(map(str, r['seeds'])),
                per_seed=' '.join(f'{r["per_seed"][s]:.2f}'
                                  for s in r['seeds']),
                mean=r['mean'],
                std=r['std'],
                ci_low=r['ci'][0],
                ci_high=r['ci'][1])
            if r.get('diff_per_seed'):
                row.update(
                    diff_mean=r['diff_mean'],
                    diff_ci_low=r['diff_ci'][0],
                    diff_ci_high=r['diff_ci'][1],
                    diff_ci_seeds_low=r['diff_ci_seeds'][0],
                    diff_ci_seeds_high=r['diff_ci_seeds'][1])
            rows.append(row)
    return rows


def write_csv(path: str, rows: List[dict]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({
                k: (f'{v:.3f}' if isinstance(v, float) else v)
                for k, v in row.items()
            })


def plot(stats: Dict[str, Dict[str, dict]], order: Sequence[str],
         reference: str, path: str) -> None:
    """Per subset: mean AP with its interval and the seeds (top), paired
    difference to the reference with its two intervals (bottom)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    subsets = [s for s in SUBSETS if stats.get(s)]
    fig, axes = plt.subplots(
        2, len(subsets), figsize=(4.2 * len(subsets), 7.5), squeeze=False)
    for col, subset in enumerate(subsets):
        rows = stats[subset]
        names = [n for n in order if n in rows]
        ys = list(range(len(names)))[::-1]
        top, bottom = axes[0][col], axes[1][col]
        for y, name in zip(ys, names):
            r = rows[name]
            top.plot([r['ci'][0], r['ci'][1]], [y, y], color='C0', lw=2)
            top.plot(r['mean'], y, 'o', color='C0')
            top.plot([r['per_seed'][s] for s in r['seeds']],
                     [y] * len(r['seeds']),
                     'x',
                     color='0.5',
                     ms=4)
            if r.get('diff_per_seed') and name != reference:
                lo, hi = r['diff_ci_seeds']
                bottom.plot([lo, hi], [y, y], color='C1', lw=1)
                bottom.plot(list(r['diff_ci']), [y, y], color='C3', lw=3)
                bottom.plot(r['diff_mean'], y, 'o', color='C3')
        for ax in (top, bottom):
            ax.set_yticks(ys)
            ax.set_yticklabels(names if col == 0 else [], fontsize=7)
            ax.grid(axis='x', alpha=0.3)
        bottom.axvline(0, color='k', lw=0.8)
        top.set_title(SUBSET_TITLES[subset], fontsize=8)
        top.set_xlabel('AP (mean, 95 % CI over videos, x: seeds)', fontsize=7)
        bottom.set_xlabel(
            f'AP - {reference} (95 % CI: videos red, + seeds orange)',
            fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
