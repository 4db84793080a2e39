"""Frames/s of the whole video path against MMPose's single-frame inferencer.

Runs :class:`mgpose_mm.apis.VideoPoseInferencer` (an FTP-Pose config) and
MMPose's ``MMPoseInferencer`` (ViTPose-B, its own config) on the same video
with the same boxes (one person box per frame: the whole frame, which both
inferencers use with ``det_model='whole_image'``), flip test as each config
sets it, random weights (timing only), in one process, alternating, and
prints the median frames/s of each and their ratio.

Example::

    # CONFIG: e.g. the default ViT-B config of configs/ftp_pose/posetrack18
    python tools/analysis_tools/benchmark_video.py CONFIG --frames 24 \\
        --repeats 3 --threads 2
"""
import argparse
import os.path as osp
import statistics
import tempfile
import time

import cv2
import numpy as np
import torch

from mgpose_mm.benchmark.specs import PEER_CONFIGS, VITPOSE_KEY, read_config
from mgpose_mm.errors import run_cli


def write_video(path: str, frames: int, size=(192, 256)) -> None:
    """A moving bright blob on noise: ``frames`` frames of ``size`` (W, H)."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25, size)
    for t in range(frames):
        img = rng.integers(0, 60, (size[1], size[0], 3), dtype=np.uint8)
        cv2.circle(img, (40 + 4 * t % (size[0] - 80), size[1] // 2), 30,
                   (255, 255, 255), -1)
        writer.write(img)
    writer.release()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='FTP-Pose config file')
    parser.add_argument('--frames', type=int, default=24)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmpose.apis import MMPoseInferencer

    from mgpose_mm.apis import VideoPoseInferencer
    video = osp.join(tempfile.mkdtemp(), 'clip.mp4')
    write_video(video, args.frames)
    runners = {
        'VideoPoseInferencer (FTP-Pose)':
        VideoPoseInferencer(
            args.config, device='cpu', det_model='whole_image'),
        'MMPoseInferencer (ViTPose-B)':
        MMPoseInferencer(
            # the benchmark's ViTPose-B: the config file in MMPose's .mim
            pose2d=read_config(PEER_CONFIGS[VITPOSE_KEY][1]).filename,
            device='cpu',
            det_model='whole_image'),
    }
    seconds = {name: [] for name in runners}
    for round_ in range(args.repeats + 1):  # the first round warms up
        for name, inferencer in runners.items():
            start = time.perf_counter()
            results = list(inferencer(video))
            if round_:
                seconds[name].append(time.perf_counter() - start)
            assert len(results) == args.frames, (name, len(results))
    fps = {n: args.frames / statistics.median(s) for n, s in seconds.items()}
    ours, theirs = fps.values()
    print(f'| inferencer | frames/s (median of {args.repeats}) |')
    print('|---|---|')
    for name, value in fps.items():
        print(f'| {name} | {value:.2f} |')
    print(f'ratio FTP-Pose / ViTPose-B: {ours / theirs:.2f}x')


if __name__ == '__main__':
    run_cli(main)
