"""Speed, memory and FLOPs of FTP-Pose: eps 0 vs pruned, DPC vs random.

Epsilon 0 is the unpruned baseline.

Example (GPU, the issue's setting)::

    CONFIGS=configs/ftp_pose/posetrack18
    python tools/analysis_tools/benchmark.py \
        $CONFIGS/ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py \
        --device cuda --amp --peers --work-dir work_dirs/benchmark

Quick CPU run::

    python tools/analysis_tools/benchmark.py CONFIG \
        --batch-sizes 1 8 --repeats 3 --warmup 1

Models are built with random weights (no checkpoint is downloaded); speed and
FLOPs do not depend on the weights. Writes benchmark.md/.csv/.json/.png to
--work-dir and prints the table.
"""
import argparse

from benchmark_report import STAGE_COLUMNS, markdown_table
from benchmark_runner import BenchmarkSettings, run_benchmark

from mgpose_mm.benchmark.specs import PEER_CONFIGS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='FTP-Pose config file')
    parser.add_argument(
        '--device', default='cpu', help="'cpu' or 'cuda' (or 'cuda:N')")
    parser.add_argument(
        '--amp', action='store_true', help='time under torch.autocast')
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        default=None,
        help='autocast dtype (default: float16 on CUDA, bfloat16 on CPU)')
    parser.add_argument(
        '--batch-sizes',
        type=int,
        nargs='+',
        default=[1, 32],
        help='batch sizes in person-clips (on CUDA halved until they fit)')
    parser.add_argument(
        '--eps',
        type=float,
        nargs='+',
        default=[0.0, 0.25, 0.5, 0.75],
        help="pruning ratios; 0 and the config's own epsilon are always added")
    parser.add_argument(
        '--repeats',
        type=int,
        default=10,
        help='timed rounds (median reported)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed rounds first')
    parser.add_argument(
        '--peers',
        nargs='*',
        choices=sorted(PEER_CONFIGS),
        default=None,
        help=("add MMPose's single-frame models: vitpose_b (ViTPose-B, COCO) "
              'and hrnet_w48 (HRNet-W48, PoseTrack18); no names: both. Every '
              "row's clips/s is also given as a ratio to ViTPose-B"))
    parser.add_argument(
        '--compare',
        nargs='+',
        default=[],
        metavar='CONFIG',
        help=('more FTP-Pose configs, timed in the same run, one row each at '
              'their own settings (e.g. the paper config and the '
              'single-frame config)'))
    parser.add_argument(
        '--onnx',
        action='store_true',
        help=('also export the DPC variants to ONNX and time onnxruntime '
              'sessions'))
    parser.add_argument(
        '--work-dir',
        default=None,
        help='where to write the table, JSON, CSV and plot')
    parser.add_argument(
        '--memory',
        choices=['subprocess', 'inline', 'none'],
        default='subprocess',
        help=('peak-memory isolation: a child process per model (default), '
              'in this process, or skip'))
    parser.add_argument(
        '--train-memory',
        choices=['default', 'all', 'none'],
        default='default',
        help=('which models get a training (forward+backward) peak-memory '
              'run at the largest batch: eps=0 and the default epsilon '
              '(default), all, or none'))
    parser.add_argument(
        '--ap-json',
        nargs='+',
        default=[],
        help=('JSON files mapping variant key (e.g. ftp_eps0, '
              'ftp_dpc_eps0.5) -> AP'))
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help=("CPU threads for torch and onnxruntime (default: torch's "
              'default); on a busy machine 1 thread gives steadier timings'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    settings = BenchmarkSettings(
        config=args.config,
        device=args.device,
        amp=args.amp,
        amp_dtype=args.amp_dtype,
        batch_sizes=args.batch_sizes,
        eps=args.eps,
        repeats=args.repeats,
        warmup=args.warmup,
        peers=[] if args.peers is None else (args.peers or True),
        compare=args.compare,
        onnx=args.onnx,
        work_dir=args.work_dir,
        memory=args.memory,
        train_memory=args.train_memory,
        ap_json=args.ap_json,
        seed=args.seed,
        threads=args.threads)
    results = run_benchmark(settings)
    print('\n' + markdown_table(results['rows']))
    print('\nCost per stage (batch 1, GFLOPs = GMACs):\n' +
          markdown_table(results['stages'], STAGE_COLUMNS))


if __name__ == '__main__':
    main()
