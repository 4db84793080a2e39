"""Throughput and GFLOPs against epsilon, DPC vs random selection (matplotlib,
Agg backend)."""
from typing import List

from mgpose_mm.benchmark.specs import BASELINE_KEY


def plot_benchmark(rows: List[dict],
                   batch: int,
                   out_file: str,
                   backend: str = 'pytorch') -> str:
    """Two panels at ``batch``: person-clips/s and GFLOPs per clip vs epsilon.

    One line per selector (both start at the shared eps=0 baseline),
    single-frame peers as horizontal lines.

    Returns:
        str: ``out_file`` (PNG).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    chosen = [
        r for r in rows if r['batch'] == batch and r['backend'] == backend
    ]
    fig, (ax_speed, ax_flops) = plt.subplots(1, 2, figsize=(11, 4.2))
    for line_backend, selector, marker in ((backend, 'dpc',
                                            'o'), (backend, 'random', 's'),
                                           ('onnxruntime', 'dpc', '^')):
        line = _eps_line(rows, batch, line_backend, selector)
        if len(line) < 2:
            continue
        eps = [r['eps'] for r in line]
        label = f'FTP-Pose {selector.upper()}' + (
            ' (onnxruntime)' if line_backend == 'onnxruntime' else '')
        ax_speed.plot(
            eps, [r['clips_per_s'] for r in line], marker=marker, label=label)
        if line_backend == backend:
            ax_flops.plot(
                eps, [r['gflops'] for r in line], marker=marker, label=label)
    for i, peer in enumerate(r for r in chosen if r['eps'] is None):
        style = dict(linestyle='--', color=f'C{i + 3}', label=peer['model'])
        ax_speed.axhline(peer['clips_per_s'], **style)
        ax_flops.axhline(peer['gflops'], **style)
    ax_speed.set(
        xlabel='pruning ratio epsilon',
        ylabel='person-clips / s',
        title=f'Throughput, batch {batch} ({backend})')
    ax_flops.set(
        xlabel='pruning ratio epsilon',
        ylabel='GFLOPs (MACs) per clip',
        title='Compute per clip')
    for ax in (ax_speed, ax_flops):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)
    return out_file


def _eps_line(rows: List[dict], batch: int, backend: str,
              selector: str) -> List[dict]:
    """The eps=0 baseline followed by the pruned rows of one selector, by
    increasing epsilon."""
    chosen = [
        r for r in rows if r['batch'] == batch and r['backend'] == backend
    ]
    pruned = [
        r for r in chosen
        if r['selector'] == selector and r['variant'] != BASELINE_KEY
    ]
    return [r for r in chosen if r['variant'] == BASELINE_KEY] + sorted(
        pruned, key=lambda r: r['eps'])
