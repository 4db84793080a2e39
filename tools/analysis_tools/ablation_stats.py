"""Statistics of an ablation study: seed spread, bootstrap over validation
videos, paired differences to a reference config.

Unit of resampling: a validation video (its frames are correlated, so frames
are not independent samples). Every config is evaluated on the same videos, so
one bootstrap draw (a multiset of videos) is applied to all configs and seeds
at once: differences between configs are *paired* (same seed, same data, same
draw).

Intervals are percentile intervals of ``n_boot`` draws:

- ``ci``: of the seed-mean AP of a config, resampling videos (the seeds held
  fixed);
- ``diff_ci``: of the seed-mean paired difference ``AP(config, s) -
  AP(reference, s)``, resampling videos;
- ``diff_ci_seeds``: the same, also resampling the seeds (paired: the same
  seeds for both configs), which adds the training noise to the validation
  noise.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from mgpose_mm.evaluation.functional.subsets import JointDetections


def bootstrap_weights(num_items: int, num_boot: int,
                      rng: np.random.Generator) -> np.ndarray:
    """(num_boot, num_items) counts of each item in ``num_boot`` resamples with
    replacement."""
    if num_items < 1 or num_boot < 1:
        raise ValueError(
            f'need num_items >= 1 and num_boot >= 1, got {num_items}, '
            f'{num_boot}')
    draws = rng.integers(0, num_items, size=(num_boot, num_items))
    weights = np.zeros((num_boot, num_items), dtype=np.float64)
    np.add.at(weights, (np.arange(num_boot)[:, None], draws), 1.0)
    return weights


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple:
    """(low, high) percentile interval of the finite bootstrap samples (NaN if
    none)."""
    if not 0 < level < 1:
        raise ValueError(f'level must be in (0, 1), got {level}')
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return float('nan'), float('nan')
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return float(low), float(high)


def bootstrap_mean_interval(values: np.ndarray,
                            num_boot: int = 2000,
                            level: float = 0.95,
                            seed: int = 0) -> tuple:
    """Percentile bootstrap interval of the mean of 1-D ``values`` (the same
    resampling as for videos; used to check the machinery on a known
    distribution)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    weights = bootstrap_weights(
        len(values), num_boot, np.random.default_rng(seed))
    return percentile_interval(weights @ values / len(values), level)


def _seed_mean(samples: Dict[int, np.ndarray],
               seeds: Sequence[int]) -> np.ndarray:
    return np.mean(np.stack([samples[s] for s in seeds]), axis=0)


def _common_videos(detections: Dict[str, Dict[int, JointDetections]]):
    """The validation videos every run was evaluated on (None: no run)."""
    videos = None
    for runs in detections.values():
        for det in runs.values():
            if videos is None:
                videos = det.videos
            elif det.videos != videos:
                raise ValueError(
                    'all runs must be evaluated on the same validation videos '
                    f'({len(det.videos)} vs {len(videos)} videos)')
    return videos


def _paired_differences(point: Dict, boot: Dict, config: str, reference: str,
                        seeds: Sequence[int], rng: np.random.Generator,
                        num_boot: int, level: float) -> dict:
    """Differences to ``reference`` over the seeds both ran: per seed, mean,
    video-bootstrap interval and video-and-seed-bootstrap interval."""
    paired = [s for s in seeds if s in point[reference]]
    row = dict(paired_seeds=paired)
    if not paired:
        return row
    diffs = {s: point[config][s] - point[reference][s] for s in paired}
    boot_diff = {s: boot[config][s] - boot[reference][s] for s in paired}
    row['diff_per_seed'] = diffs
    row['diff_mean'] = float(np.mean(list(diffs.values())))
    row['diff_ci'] = percentile_interval(_seed_mean(boot_diff, paired), level)
    seed_draws = rng.integers(0, len(paired), size=(num_boot, len(paired)))
    stacked = np.stack([boot_diff[s] for s in paired])  # (S, B)
    both = stacked[seed_draws, np.arange(num_boot)[:, None]].mean(axis=1)
    row['diff_ci_seeds'] = percentile_interval(both, level)
    return row


def summarize_study(detections: Dict[str, Dict[int, JointDetections]],
                    reference: Optional[str],
                    num_boot: int = 1000,
                    level: float = 0.95,
                    seed: int = 0) -> Dict[str, dict]:
    """Mean/std over seeds, bootstrap intervals and paired differences for one
    subset.

    Args:
        detections: config name -> {training seed -> JointDetections of that
            run}; all built on the same video list.
        reference: the config the differences are taken to (None: no
            differences). Only the seeds it shares with a config are paired.
        num_boot, level, seed: bootstrap draws, interval level, and the random
            seed of the draws.

    Returns:
        dict: config -> dict(seeds, per_seed {seed: AP}, mean, std, ci (low,
        high), and with a reference: diff_per_seed, diff_mean, diff_ci,
        diff_ci_seeds, paired_seeds).
    """
    videos = _common_videos(detections)
    if videos is None:
        return {}
    if reference is not None and reference not in detections:
        raise ValueError(f'reference config {reference!r} has no finished run')
    rng = np.random.default_rng(seed)
    weights = bootstrap_weights(len(videos), num_boot, rng)
    point = {
        c: {s: det.total_ap()
            for s, det in runs.items()}
        for c, runs in detections.items()
    }
    boot = {
        c: {s: det.total_ap(weights)
            for s, det in runs.items()}
        for c, runs in detections.items()
    }
    out = {}
    for config, runs in detections.items():
        seeds = sorted(runs)
        values = np.array([point[config][s] for s in seeds])
        row = dict(
            seeds=seeds,
            per_seed={s: point[config][s]
                      for s in seeds},
            mean=float(np.mean(values)),
            std=float(np.std(values, ddof=1))
            if len(values) > 1 else float('nan'),
            ci=percentile_interval(_seed_mean(boot[config], seeds), level))
        if reference is not None:
            row.update(
                _paired_differences(point, boot, config, reference, seeds, rng,
                                    num_boot, level))
        out[config] = row
    return out


def videos_for_half_width(half_width: float, num_videos: int,
                          target: float) -> int:
    """Videos needed for a bootstrap half-width ``target``, from ``half_width``
    measured on ``num_videos`` videos, assuming the 1/sqrt(n) law of a mean
    over independent videos."""
    if half_width <= 0 or target <= 0 or num_videos < 1:
        raise ValueError('half_width, target and num_videos must be positive')
    return int(np.ceil(num_videos * (half_width / target)**2))
