"""Does a multi-frame model use its supporting frames? Test it with them
replaced by the key frame.

Runs MMPose's test loop on a trained multi-frame checkpoint twice as
``tools/test.py`` would, except that every supporting frame of each clip is
overwritten by the key frame before the backbone: the temporal path then
carries no information beyond the key frame. The AP lost (on all joints,
occluded joints and blurred persons, see PoseTrackAPMetric's
``difficulty_subsets``) is what the model takes from its neighbours.

Example:
    python tools/analysis_tools/temporal_probe.py CONFIG CHECKPOINT \
        --work-dir work_dirs/probe --cfg-options test_evaluator.ann_file=... \
        test_dataloader.dataset.data_root=...
"""
import argparse
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mgpose_mm  # noqa: F401
from mgpose_mm.errors import ConfigValueError, run_cli


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)
    results = {}
    for mode in ('clips', 'static'):
        cfg = Config.fromfile(args.config)
        cfg.merge_from_dict(args.cfg_options)
        cfg.load_from = args.checkpoint
        cfg.work_dir = osp.join(args.work_dir, mode)
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
    mmengine.dump(results, osp.join(args.work_dir, 'probe.json'), indent=1)
    for key in ('posetrack/Total AP', 'posetrack/occluded/Total AP',
                'posetrack/blurred/Total AP'):
        clips, static = results['clips'][key], results['static'][key]
        print(f'{key}: clips {clips:.1f}, supporting frames = key frame '
              f'{static:.1f} '
              f'(difference {clips - static:+.1f})')


if __name__ == '__main__':
    run_cli(main)
