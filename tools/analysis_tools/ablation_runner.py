"""Train and test a list of configs x seeds with MMPose's tools, resumably.

Layout of one run (``<work_root>/<config name>/seed<k>/``):

- ``train.log``, the checkpoints and ``last_checkpoint`` of ``tools/train.py``;
- ``train_done.json``: written after training succeeded (duration, checkpoint);
- ``test_<eval name>/``: ``tools/test.py`` output, ``metrics.json``,
  ``records.npz`` (the per-frame subset records,
  :mod:`mgpose_mm.evaluation.metrics.posetrack_subsets`) and ``result.json``
  (written last: its presence marks the run finished).

A finished step is never repeated, so an interrupted study continues where it
stopped, and a trained model can be tested on another split (``eval_name``)
without training it again.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mgpose_mm.errors import ConfigValueError
from mgpose_mm.utils import AtomicFile

TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


@dataclass
class RunSpec:
    """One training seed of one config, evaluated on one split."""
    config: str
    seed: int
    work_dir: str
    eval_name: str = 'val'

    @property
    def name(self) -> str:
        return config_name(self.config)

    @property
    def test_dir(self) -> str:
        return osp.join(self.work_dir, f'test_{self.eval_name}')

    @property
    def result_file(self) -> str:
        return osp.join(self.test_dir, 'result.json')

    @property
    def metrics_file(self) -> str:
        return osp.join(self.test_dir, 'metrics.json')

    @property
    def records_file(self) -> str:
        return osp.join(self.test_dir, 'records.npz')

    @property
    def train_marker(self) -> str:
        return osp.join(self.work_dir, 'train_done.json')


@dataclass
class StudyOptions:
    """How the runs are executed.

    Attributes:
        device: 'cpu' (hides CUDA devices from the subprocesses) or 'cuda'.
        train_options / test_options: extra ``--cfg-options`` (``key=value``
            strings), for training and testing (e.g. a shorter schedule;
            another evaluation split).
        python: interpreter of the subprocesses.
        train_script / test_script: ``tools/train.py`` and ``tools/test.py``
            beside this tool.
        env: extra environment variables of the subprocesses.
    """
    device: str = 'cpu'
    train_options: Sequence[str] = ()
    test_options: Sequence[str] = ()
    python: str = sys.executable
    train_script: str = osp.join(TOOLS_DIR, 'train.py')
    test_script: str = osp.join(TOOLS_DIR, 'test.py')
    env: Dict[str, str] = field(default_factory=dict)


def config_name(config: str) -> str:
    """Name of a config file without folder and ``.py``."""
    return osp.splitext(osp.basename(config))[0]


def plan_runs(configs: Sequence[str],
              seeds: Sequence[int],
              work_root: str,
              eval_name: str = 'val') -> List[RunSpec]:
    """All (config, seed) runs, seed-major (every config of seed 0 first, so
    that a study stopped early still has complete, paired seeds)."""
    names = [config_name(c) for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigValueError(
            f'config names must be unique, got {duplicates} more than once')
    if len(set(seeds)) != len(seeds):
        raise ConfigValueError(f'seeds must be unique, got {list(seeds)}')
    for config in configs:
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
    work_root = osp.abspath(work_root)
    return [
        RunSpec(
            osp.abspath(config), int(seed),
            osp.join(work_root, config_name(config), f'seed{seed}'), eval_name)
        for seed in seeds for config in configs
    ]


def is_trained(run: RunSpec) -> bool:
    return osp.isfile(run.train_marker)


def is_finished(run: RunSpec) -> bool:
    """Tested: its records and its metrics are there.

    ``result.json`` is not needed: the committed per-run results (metrics,
    records, training summary; no checkpoint) count as finished on a fresh
    clone, so the report regenerates and new seeds extend the study without
    retesting runs whose checkpoints are gone.
    """
    return osp.isfile(run.records_file) and (osp.isfile(run.result_file)
                                             or osp.isfile(run.metrics_file))


def read_json(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def write_json(path: str, obj: dict) -> None:
    """Write JSON atomically (a crash never leaves a half-written marker)."""
    with AtomicFile(path) as out, open(
            out.tmp_path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1)


def estimate_seconds(pending: Sequence[RunSpec], finished: Sequence[RunSpec],
                     default_train_s: float, default_test_s: float) -> float:
    """Expected time of the pending runs: the mean durations of finished runs
    of the same config (else of any config, else the defaults), test only where
    training is done."""
    durations: Dict[str, List[tuple]] = {}
    for run in finished:
        if osp.isfile(run.result_file):
            result = read_json(run.result_file)
        elif osp.isfile(run.train_marker):  # committed run: no test time
            result = dict(train_s=read_json(run.train_marker)['train_s'])
        else:
            result = {}
        durations.setdefault(run.name, []).append(
            (result.get('train_s',
                        default_train_s), result.get('test_s',
                                                     default_test_s)))
    everything = [d for ds in durations.values() for d in ds]
    total = 0.0
    for run in pending:
        known = durations.get(run.name) or everything
        train_s = (sum(d[0] for d in known) /
                   len(known)) if known else default_train_s
        test_s = (sum(d[1] for d in known) /
                  len(known)) if known else default_test_s
        total += test_s + (0.0 if is_trained(run) else train_s)
    return total


def _subprocess_env(options: StudyOptions) -> Dict[str, str]:
    env = dict(os.environ)
    if options.device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    elif not options.device.startswith('cuda'):
        raise ValueError(
            f"device must be 'cpu' or 'cuda', got {options.device!r}")
    env.update(options.env)
    return env


def _run_logged(cmd: List[str],
                log_file: str,
                env: Dict[str, str],
                launcher: Callable = subprocess.run) -> float:
    """Run ``cmd`` with its output in ``log_file``; returns the seconds it
    took."""
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    start = time.perf_counter()
    with open(log_file, 'w', encoding='utf-8') as log:
        proc = launcher(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(
            f'command failed (exit {proc.returncode}), see {log_file}: ' +
            ' '.join(cmd))
    return time.perf_counter() - start


def train(run: RunSpec,
          options: StudyOptions,
          launcher: Callable = subprocess.run) -> dict:
    """Train one run with ``tools/train.py`` (no validation during
    training)."""
    cmd = [
        options.python, options.train_script, run.config, '--work-dir',
        run.work_dir, '--no-validate', '--cfg-options',
        f'randomness.seed={run.seed}', *options.train_options
    ]
    seconds = _run_logged(cmd, osp.join(run.work_dir, 'train.log'),
                          _subprocess_env(options), launcher)
    last = osp.join(run.work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(
            f'training of {run.name} seed {run.seed} wrote no {last}')
    with open(last, encoding='utf-8') as f:
        checkpoint = osp.abspath(f.read().strip())
    marker = dict(
        config=run.config,
        seed=run.seed,
        checkpoint=checkpoint,
        train_s=seconds,
        train_options=list(options.train_options))
    write_json(run.train_marker, marker)
    return marker


def test(run: RunSpec,
         options: StudyOptions,
         launcher: Callable = subprocess.run) -> dict:
    """Test the trained run with ``tools/test.py``; writes the subset records
    and result."""
    marker = read_json(run.train_marker)
    metrics_file = run.metrics_file
    cmd = [
        options.python, options.test_script, run.config, marker['checkpoint'],
        '--work-dir', run.test_dir, '--out', metrics_file, '--cfg-options',
        f'test_evaluator.record_file={run.records_file}',
        'test_evaluator.difficulty_subsets=True',
        'test_evaluator.attribute_subsets=True', *options.test_options
    ]
    seconds = _run_logged(cmd, osp.join(run.test_dir, 'test.log'),
                          _subprocess_env(options), launcher)
    for path in (metrics_file, run.records_file):
        if not osp.isfile(path):
            raise RuntimeError(
                f'testing of {run.name} seed {run.seed} wrote no {path}')
    result = dict(
        config=run.config,
        name=run.name,
        seed=run.seed,
        eval_name=run.eval_name,
        metrics=read_json(metrics_file),
        train_s=marker['train_s'],
        test_s=seconds,
        test_options=list(options.test_options))
    write_json(run.result_file, result)
    return result


def _execute_one(run: RunSpec, options: StudyOptions, launcher: Callable,
                 log: Callable[[str], None]) -> Dict[str, int]:
    """Train (if needed) and test one unfinished run; returns its step
    counts."""
    counts = dict(skipped=0, trained=0, tested=0)
    if not is_trained(run):
        log(f'train {run.name} seed {run.seed} -> {run.work_dir}')
        train(run, options, launcher)
        counts['trained'] = 1
    log(f'test {run.name} seed {run.seed} on {run.eval_name} -> {run.test_dir}'
        )
    result = test(run, options, launcher)
    counts['tested'] = 1
    total = result['metrics'].get('posetrack/Total AP', float('nan'))
    log(f'done {run.name} seed {run.seed}: Total AP {total:.1f} (train '
        f'{result["train_s"]:.0f} s, test {result["test_s"]:.0f} s)')
    return counts


def execute(runs: Sequence[RunSpec],
            options: StudyOptions,
            launcher: Callable = subprocess.run,
            log: Callable[[str], None] = print,
            progress: Optional[Callable[[], None]] = None,
            jobs: int = 1) -> Dict[str, int]:
    """Train (if needed) and test (if needed) every run; finished runs are
    skipped.

    Args:
        jobs: runs executed at the same time (each in its own subprocesses; on
            a CPU give each ``jobs``-th of the cores through ``options.env``,
            e.g. ``OMP_NUM_THREADS=1`` with ``jobs=2`` on 2 cores). Runs start
            in the order given (seed-major).

    Returns:
        dict: counts of ``skipped``, ``trained`` and ``tested`` runs.

    Raises:
        RuntimeError: a training or test failed. The runs in flight finish
            first; no other run starts.
    """
    if jobs < 1:
        raise ValueError(f'jobs must be >= 1, got {jobs}')
    counts = dict(skipped=0, trained=0, tested=0)
    pending = []
    for run in runs:
        if is_finished(run):
            counts['skipped'] += 1
            if progress is not None:
                progress()
        else:
            pending.append(run)
    lock = threading.Lock()
    failed = threading.Event(
    )  # after a failure no further run starts (as with jobs=1)

    def work(run):
        if failed.is_set():
            return
        try:
            done = _execute_one(run, options, launcher, log)
        except BaseException:
            failed.set()
            raise
        with lock:
            for key, value in done.items():
                counts[key] += value
            if progress is not None:
                progress()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(work, run) for run in pending]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]
    return counts
