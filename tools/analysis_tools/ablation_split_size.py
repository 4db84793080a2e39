"""How many validation videos a study needs: bootstrap half-widths from subset
record files.

For each record file (``test_<split>/records.npz`` of an ablation run) and
subset, prints the 95 % bootstrap half-width of AP over the file's videos, the
half-width on random subsets of fewer videos (to check the 1/sqrt(n) law), and
the number of videos for a target half-width.

Example:
    python tools/analysis_tools/ablation_split_size.py \
        work_dirs/ablation/*/seed0/test_dev/records.npz --target 1.0
"""
import argparse

import numpy as np
from ablation_stats import (bootstrap_weights, percentile_interval,
                            videos_for_half_width)

from mgpose_mm.errors import run_cli
from mgpose_mm.evaluation.functional.subsets import SUBSETS, JointDetections
from mgpose_mm.evaluation.metrics.posetrack_subsets import load_records


def half_width(det: JointDetections, videos: np.ndarray, num_boot: int,
               rng: np.random.Generator) -> float:
    """Half-width of the 95 % bootstrap interval of AP over the given video
    indices."""
    weights = np.zeros((num_boot, len(det.videos)))
    weights[:, videos] = bootstrap_weights(len(videos), num_boot, rng)
    low, high = percentile_interval(det.total_ap(weights))
    return (high - low) / 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'records', nargs='+', help='records.npz files of finished runs')
    parser.add_argument(
        '--target', type=float, default=1.0, help='target half-width (AP)')
    parser.add_argument('--num-boot', type=int, default=1000)
    parser.add_argument(
        '--subsets', nargs='+', default=list(SUBSETS), choices=SUBSETS)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for path in args.records:
        records = load_records(path)
        print(path)
        for subset in args.subsets:
            det = JointDetections(
                records.get(subset, []),
                sorted({r.video
                        for r in records['total']}))
            n = len(det.videos)
            full = half_width(det, np.arange(n), args.num_boot, rng)
            smaller = []
            for m in (n // 4, n // 2):
                if m >= 4:
                    widths = [
                        half_width(det, rng.choice(n, m, replace=False),
                                   args.num_boot // 4, rng) for _ in range(8)
                    ]
                    smaller.append(f'{m} videos +-{np.nanmean(widths):.2f}')
            need = videos_for_half_width(full, n,
                                         args.target) if full > 0 else 0
            print(f'  {subset:9s} AP {det.total_ap():5.1f}: 95 % half-width '
                  f'+-{full:.2f} on {n} videos ({", ".join(smaller)}); '
                  f'+-{args.target:g} needs about {need} videos')


if __name__ == '__main__':
    run_cli(main)
