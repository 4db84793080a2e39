"""Generate a synthetic multi-person video pose dataset in the PoseTrack18
layout.

Example (the quick-start size, ~10 s on 2 CPU cores):
    python tools/dataset_converters/make_synthetic_posetrack.py \
        --out-dir data/synthetic_posetrack
"""
import argparse
import time

from mgpose_mm.errors import run_cli
from mgpose_mm.synthetic import generate_posetrack_dataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', required=True, help='data root to write')
    parser.add_argument('--num-train-videos', type=int, default=12)
    parser.add_argument('--num-val-videos', type=int, default=4)
    parser.add_argument('--frames-per-video', type=int, default=16)
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[192, 160],
        metavar=('W', 'H'),
        help='image width and height in pixels')
    parser.add_argument(
        '--persons',
        type=int,
        nargs=2,
        default=[1, 3],
        metavar=('MIN', 'MAX'),
        help='number of annotated persons per video')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--occlusion-rate',
        type=float,
        default=0.15,
        help='fraction of frames with an occluder over a joint')
    parser.add_argument(
        '--motion-blur-rate',
        type=float,
        default=0.1,
        help='fraction of frames with motion blur')
    parser.add_argument(
        '--truncation-rate',
        type=float,
        default=0.15,
        help='fraction of persons cut by the image border')
    parser.add_argument(
        '--ignore-region-rate',
        type=float,
        default=0.15,
        help='fraction of videos with an unannotated figure in an ignore '
        'region')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='write even if OUT_DIR already holds a generated dataset')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    summary = generate_posetrack_dataset(
        args.out_dir,
        num_train_videos=args.num_train_videos,
        num_val_videos=args.num_val_videos,
        frames_per_video=args.frames_per_video,
        image_size=tuple(args.image_size),
        persons_per_video=tuple(args.persons),
        seed=args.seed,
        occlusion_rate=args.occlusion_rate,
        motion_blur_rate=args.motion_blur_rate,
        truncation_rate=args.truncation_rate,
        ignore_region_rate=args.ignore_region_rate,
        overwrite=args.overwrite)
    elapsed = time.perf_counter() - start
    width, height = summary['image_size']
    print(
        f'synthetic PoseTrack18 dataset written to {summary["data_root"]} in '
        f'{elapsed:.1f} s '
        f'({width}x{height}, {summary["frames_per_video"]} frames per video, '
        f'seed {summary["seed"]})')
    for split in ('train', 'val'):
        s = summary[split]
        print(
            f'  {split}: {s["videos"]} videos, {s["images"]} images, '
            f'{s["annotations"]} '
            f'person annotations; frames occluded {s["occluded"]}, '
            'motion_blur '
            f'{s["motion_blur"]}, truncated {s["truncated"]}, with ignore '
            'regions '
            f'{s["ignore_regions"]}; hard (occluded or blurred) {s["hard"]} '
            f'({100 * s["hard"] / max(s["images"], 1):.0f} %), occluded '
            'joints '
            f'{s["occluded_joints"]}, blurred persons {s["blurred_persons"]}')
        print(f'    ann_file: {s["ann_file"]}')
    print(f'  detections: {summary["num_detections"]} boxes in '
          f'{summary["det_file"]}')


if __name__ == '__main__':
    run_cli(main)
