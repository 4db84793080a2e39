"""Does a multi-frame model use its supporting frames? Test it with them
replaced by the key frame.

Runs MMPose's test loop on a trained multi-frame checkpoint twice as
``tools/test.py`` would, except that every supporting frame of each clip is
overwritten by the key frame before the backbone: the temporal path then
carries no information beyond the key frame. The AP lost (on all joints,
occluded joints and blurred persons, see PoseTrackAPMetric's
``difficulty_subsets``) is what the model takes from its neighbours.

With one checkpoint per training seed, ``WORK_DIR/probe.md`` tabulates the
AP and jitter differences with the study's paired intervals (videos, and
videos + seeds resampled).

Example:
    python tools/analysis_tools/temporal_probe.py CONFIG CKPT_SEED0 \
        [CKPT_SEED1 ...] --work-dir work_dirs/probe \
        --cfg-options test_evaluator.ann_file=... \
        test_dataloader.dataset.data_root=...
"""
import argparse
import os.path as osp

import mmengine
from ablation_report import load_study, markdown_table, summarize
from ablation_runner import RunSpec
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mgpose_mm  # noqa: F401
from mgpose_mm.errors import ConfigValueError, run_cli

KEYS = ('posetrack/Total AP', 'posetrack/occluded/Total AP',
        'posetrack/blurred/Total AP', 'posetrack/jitter')


def static_clips(backbone):
    """Wrap ``backbone.forward`` so that every frame of a clip (B, T, 3, H, W)
    is the key frame."""
    forward = backbone.forward
    key = backbone.key_frame_index

    def wrapped(clips, *args, **kwargs):
        return forward(clips[:, key:key + 1].expand_as(clips).contiguous(),
                       *args, **kwargs)

    backbone.forward = wrapped
    return backbone


def probe(cfg_file: str, checkpoint: str, work_dir: str,
          cfg_options: dict) -> dict:
    """Test one checkpoint as is (``clips``) and with every supporting frame
    replaced by the key frame (``static``); metrics and records in
    ``work_dir/<mode>/test_probe``."""
    results = {}
    for mode in ('clips', 'static'):
        cfg = Config.fromfile(cfg_file)
        cfg.merge_from_dict(cfg_options)
        cfg.load_from = checkpoint
        cfg.work_dir = osp.join(work_dir, mode, 'test_probe')
        cfg.test_evaluator.difficulty_subsets = True
        cfg.test_evaluator.record_file = osp.join(cfg.work_dir, 'records.npz')
        runner = Runner.from_cfg(cfg)
        if mode == 'static':
            if cfg.model.backbone.get('num_frames', 1) < 2:
                raise ConfigValueError(
                    'temporal_probe needs a multi-frame model (num_frames >= '
                    '2)')
            static_clips(runner.model.backbone)
        results[mode] = runner.test()
        mmengine.dump(results[mode], osp.join(cfg.work_dir, 'metrics.json'))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoints',
        nargs='+',
        help='one checkpoint per training seed; with several, a paired '
        'table (videos and seeds resampled) goes to WORK_DIR/probe.md')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)
    runs = []
    for seed, checkpoint in enumerate(args.checkpoints):
        work_dir = osp.join(args.work_dir, f'seed{seed}')
        results = probe(args.config, checkpoint, work_dir, args.cfg_options)
        for key in KEYS:
            clips, static = results['clips'][key], results['static'][key]
            print(f'seed {seed} {key}: clips {clips:.2f}, supporting frames '
                  f'= key frame {static:.2f} (difference '
                  f'{clips - static:+.2f})')
        runs += [
            RunSpec(mode, seed, osp.join(work_dir, mode), 'probe')
            for mode in ('clips', 'static')
        ]
    stats = summarize(load_study(runs), 'clips')
    table = markdown_table(stats, ['clips', 'static'], 'clips')
    with open(osp.join(args.work_dir, 'probe.md'), 'w') as f:
        f.write(table)
    print(table)


if __name__ == '__main__':
    run_cli(main)
