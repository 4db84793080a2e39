"""Ablation study: train and test configs x seeds, then tabulate with bootstrap
intervals.

One command trains every (config, seed) with ``tools/train.py``, tests it with
``tools/test.py`` (PoseTrack AP with the difficulty subsets and per-frame
records), skips finished runs, and writes ``ablation.md`` (Markdown tables),
``ablation.csv`` and ``ablation.png`` to the work dir: per config the mean and
std over seeds, a 95 % bootstrap interval over validation videos, and the
paired difference to a reference config.

Example (the synthetic study of configs/ftp_pose/README.md)::

    python tools/analysis_tools/ablation.py \\
        configs/ftp_pose/synthetic/ablation/*.py --seeds 0 1 2 3 \\
        --reference ftp-pose-eps0_vit-tiny_ablation \\
        --work-dir work_dirs/ablation --device cpu
"""
import argparse
import os.path as osp
import time

import ablation_report as report
import ablation_runner as runner

from mgpose_mm.errors import ConfigValueError, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='config files to compare')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2, 3],
        help='training seeds (randomness.seed)')
    parser.add_argument(
        '--reference',
        help='config name (file name without .py) that the '
        'paired differences are taken to; default: the first config')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/ablation',
        help='root of the runs and the reports')
    parser.add_argument(
        '--device',
        default='cpu',
        choices=['cpu', 'cuda'],
        help="'cpu' hides CUDA devices from training and testing")
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU threads of each training/test (OMP_NUM_THREADS, '
        'MKL_NUM_THREADS); 1 is several times faster on a CPU shared with '
        'other jobs (a tiny step: 2 s with 1 thread, 13 s with 2 threads on '
        '2 busy cores)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs at the same time (2 on a 2-core CPU with --threads 1)')
    parser.add_argument(
        '--eval-name',
        default='val',
        help='name of the evaluation split (test_<name>/ in each run); use '
        'another name with --test-options for a different split')
    parser.add_argument(
        '--train-options',
        nargs='*',
        default=[],
        metavar='KEY=VALUE',
        help='extra --cfg-options for tools/train.py of every run')
    parser.add_argument(
        '--test-options',
        nargs='*',
        default=[],
        metavar='KEY=VALUE',
        help='extra --cfg-options for tools/test.py of every run')
    parser.add_argument(
        '--num-boot', type=int, default=1000, help='bootstrap draws')
    parser.add_argument(
        '--level', type=float, default=0.95, help='interval level')
    parser.add_argument(
        '--est-train-minutes',
        type=float,
        default=2.5,
        help='time of one training before any run finished (2 CPU cores, '
        'tiny configs)')
    parser.add_argument(
        '--est-test-minutes',
        type=float,
        default=0.5,
        help='time of one test before any run finished')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='run nothing; tabulate the finished runs')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the plan and the time estimate only')
    return parser.parse_args(argv)


def write_reports(runs, names, reference, work_dir, eval_name, num_boot,
                  level):
    study = report.load_study(runs)
    stats = report.summarize(study, reference, num_boot, level)
    if not stats:
        print('no finished run to report')
        return None
    prefix = osp.join(work_dir, f'ablation_{eval_name}')
    short = report.short_names(names)
    stats = report.rename(stats, short)
    names, reference = [short[n] for n in names], short[reference]
    table = report.markdown_table(stats, names, reference, level)
    with open(prefix + '.md', 'w', encoding='utf-8') as f:
        f.write(table)
    report.write_csv(prefix + '.csv', report.csv_rows(stats, names))
    report.plot(stats, names, reference, prefix + '.png')
    print(table)
    print(f'reports: {prefix}.md, {prefix}.csv, {prefix}.png')
    return stats


def main(argv=None):
    args = parse_args(argv)
    runs = runner.plan_runs(args.configs, args.seeds, args.work_dir,
                            args.eval_name)
    names = [runner.config_name(c) for c in args.configs]
    reference = args.reference or names[0]
    if reference not in names:
        raise ConfigValueError(
            f'--reference {reference!r} is not one of the configs {names}')
    finished = [r for r in runs if runner.is_finished(r)]
    pending = [r for r in runs if not runner.is_finished(r)]
    if args.jobs < 1:
        raise ConfigValueError(f'--jobs must be >= 1, got {args.jobs}')
    # runs in parallel share the machine; the per-run durations already include
    # that
    estimate = runner.estimate_seconds(
        pending, finished, 60 * args.est_train_minutes,
        60 * args.est_test_minutes) / min(args.jobs, max(len(pending), 1))
    print(f'{len(runs)} runs ({len(names)} configs x {len(args.seeds)} seeds) '
          'on '
          f'{args.device}, {args.jobs} at a time: {len(finished)} finished '
          f'(skipped), {len(pending)} to do '
          f'({sum(not runner.is_trained(r) for r in pending)} to train); '
          'estimated '
          f'{estimate / 60:.0f} min (ends about '
          f'{time.strftime("%H:%M", time.localtime(time.time() + estimate))})')
    if args.dry_run:
        return
    if pending and not args.report_only:
        from mmengine.utils import ProgressBar
        env = {} if args.threads is None else dict(
            OMP_NUM_THREADS=str(args.threads),
            MKL_NUM_THREADS=str(args.threads))
        options = runner.StudyOptions(
            device=args.device,
            train_options=args.train_options,
            test_options=args.test_options,
            env=env)
        bar = ProgressBar(len(pending))
        runner.execute(
            pending,
            options,
            log=lambda msg: print(f'\n[ablation] {msg}'),
            progress=bar.update,
            jobs=args.jobs)
        print()
    write_reports(runs, names, reference, args.work_dir, args.eval_name,
                  args.num_boot, args.level)


if __name__ == '__main__':
    run_cli(main)
