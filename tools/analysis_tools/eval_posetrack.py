"""Evaluate official-format PoseTrack predictions: per-joint AP as the official
tools, and the jitter (acceleration error) of the predicted tracks.

    python tools/analysis_tools/eval_posetrack.py GT_DIR PRED_DIR \
        --protocol poseval
    python tools/analysis_tools/eval_posetrack.py \
        data/posetrack21/posetrack_data/val PRED_DIR --protocol posetrack21 \
        --out metrics.json

poseval (PoseTrack2017/2018) and the PoseTrack21 kit, rule for rule, without
installing either: GT_DIR holds one GT file per video, PRED_DIR one prediction
file of the same name (PoseTrack18 COCO-style or PoseTrack2017 ``annolist``
format), e.g. the files ``tools/test.py`` writes with ``--cfg-options
test_evaluator.outfile_prefix=PRED_DIR``.
"""
import argparse
import json
import os
import sys

import numpy as np

from mgpose_mm.evaluation.functional.posetrack_ap import (
    EVALUATED_KEYPOINTS, POSETRACK_KEYPOINT_NAMES, PROTOCOLS)
from mgpose_mm.evaluation.posetrack_files import (PoseTrackInputError,
                                                  evaluate_folders)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('gt_dir', help='folder of per-video GT JSON files')
    parser.add_argument(
        'pred_dir', help='folder of per-video prediction files')
    parser.add_argument(
        '--protocol',
        choices=PROTOCOLS,
        default='poseval',
        help='poseval for PoseTrack2017/2018, posetrack21 for PoseTrack21 '
        '(default: %(default)s)')
    parser.add_argument(
        '--out',
        help='write the AP table (and per-joint AP) to this JSON file')
    parser.add_argument(
        '--per-joint', action='store_true', help='also print the per-joint AP')
    return parser.parse_args(argv)


def format_table(summary: dict) -> str:
    """The official table: Head ...

    Ankle, Total (AP, %).
    """
    names = list(summary)
    values = ['n/a' if np.isnan(v) else f'{v:.1f}' for v in summary.values()]
    widths = [max(len(n), len(v)) for n, v in zip(names, values)]
    header = ' | '.join(n.rjust(w) for n, w in zip(names, widths))
    row = ' | '.join(v.rjust(w) for v, w in zip(values, widths))
    return f'{header}\n{row}'


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = evaluate_folders(args.gt_dir, args.pred_dir, args.protocol)
    except (PoseTrackInputError, KeyError, ValueError) as error:
        print(f'eval_posetrack: error: {error}', file=sys.stderr)
        return 2
    summary = result['summary']
    print(f'Average Precision (AP), {args.protocol} protocol: '
          f'{result["num_videos"]} videos, '
          f'{result["num_frames"]} evaluated frames')
    print(format_table(summary))
    jitter = result['jitter']
    print(f'Jitter (acceleration error): {jitter["jitter"]:.2f} % of the '
          f'person size over {jitter["num_joints"]} joints (GT tracks '
          'matched in three consecutive frames)')
    per_joint = {
        POSETRACK_KEYPOINT_NAMES[k]: float(result['per_joint_ap'][k])
        for k in EVALUATED_KEYPOINTS
    }
    if args.per_joint:
        for name, value in per_joint.items():
            print(f'  {name:>15}: {value:.2f}')
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    protocol=args.protocol,
                    num_videos=result['num_videos'],
                    num_frames=result['num_frames'],
                    **{f'{name} AP': value
                       for name, value in summary.items()},
                    per_joint_ap=per_joint,
                    jitter=jitter['jitter'],
                    jitter_num_joints=jitter['num_joints'],
                    per_joint_jitter=jitter['per_joint']),
                f,
                indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
