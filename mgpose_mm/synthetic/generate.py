"""generate_posetrack_dataset: write a synthetic PoseTrack18-style video pose
dataset."""
import os.path as osp
from dataclasses import dataclass

from mgpose_mm.errors import ConfigValueError
from . import writer
from .scene import keyed_rng, plan_video, render_frame

SPLIT_CODES = {'train': 0, 'val': 1}
# val videos are numbered 500001, 500002, ... (distinct from train)
VAL_VID_OFFSET = 500000


@dataclass
class GeneratorConfig:
    """Size of the videos and the rates of the difficulty events (rates per
    frame/person/video)."""
    image_size: tuple = (192, 160)  # (width, height)
    frames_per_video: int = 16
    persons_per_video: tuple = (1, 3)
    # fraction of frames with an occluder on a person
    occlusion_rate: float = 0.15
    motion_blur_rate: float = 0.1  # fraction of frames with motion blur
    # fraction of persons placed across the image border
    truncation_rate: float = 0.15
    # fraction of videos with a faint unannotated figure
    ignore_region_rate: float = 0.15
    jpeg_quality: int = 92

    def __post_init__(self):
        for name in ('image_size', 'persons_per_video'):
            if len(getattr(self, name)) != 2:
                raise ConfigValueError(
                    f'{name} must have two values, got {getattr(self, name)}')
        self.image_size = tuple(int(v) for v in self.image_size)
        self.persons_per_video = tuple(int(v) for v in self.persons_per_video)
        self.frames_per_video = int(self.frames_per_video)
        self.jpeg_quality = int(self.jpeg_quality)
        w, h = self.image_size
        if w < 48 or h < 48:
            raise ConfigValueError(
                'image_size must be at least 48x48 (width, height), got '
                f'{w}x{h}')
        if self.frames_per_video < 1:
            raise ConfigValueError(
                f'frames_per_video must be >= 1, got {self.frames_per_video}')
        lo, hi = self.persons_per_video
        if not 1 <= lo <= hi <= 20:
            raise ConfigValueError(
                'persons_per_video must be (min, max) with 1 <= min <= max '
                f'<= 20, got {self.persons_per_video}')
        for name in ('occlusion_rate', 'motion_blur_rate', 'truncation_rate',
                     'ignore_region_rate'):
            value = float(getattr(self, name))
            setattr(self, name, value)
            if not 0.0 <= value <= 1.0:
                raise ConfigValueError(
                    f'{name} must be in [0, 1], got {value}')
        if self.occlusion_rate + self.motion_blur_rate > 0.5:
            raise ConfigValueError(
                'occlusion_rate + motion_blur_rate must be <= 0.5 so that '
                'hard frames keep clean neighbours, got '
                f'{self.occlusion_rate + self.motion_blur_rate}')
        if not 1 <= self.jpeg_quality <= 100:
            raise ConfigValueError(
                f'jpeg_quality must be in [1, 100], got {self.jpeg_quality}')


def _vid_id(split, index):
    return f'{index + 1 + (VAL_VID_OFFSET if split == "val" else 0):06d}'


COUNTS = ('occluded', 'motion_blur', 'truncated', 'ignore_regions', 'hard',
          'occluded_joints', 'blurred_persons')


def _write_video(out_dir, split, v, cfg, seed, counts, detections):
    """Render and write video ``v`` of a split, add its frames to ``counts``
    and (val) its detections to ``detections``; returns its image and
    annotation entries."""
    width, height = cfg.image_size
    code, vid_id = SPLIT_CODES[split], _vid_id(split, v)
    name = writer.video_name(vid_id)
    plan = plan_video(cfg, seed, code, v)
    polygons = [plan.ignore_polygon] if plan.ignore_polygon is not None else []
    det_rng = keyed_rng(seed, code, v, 'detections')
    images, annotations = [], []
    for t in range(plan.nframes):
        image, labels, attributes, distractors = render_frame(
            plan, t, seed, code, v)
        writer.write_jpeg(
            osp.join(out_dir, 'images', split, name, f'{t:06d}.jpg'), image,
            cfg.jpeg_quality)
        entry = writer.image_entry(split, vid_id, t, plan.nframes, width,
                                   height, polygons, attributes)
        images.append(entry)
        annotations.extend(
            writer.annotation_entry(entry['id'], lab) for lab in labels)
        for key in ('occluded', 'motion_blur', 'truncated'):
            counts[key] += int(attributes[key])
        counts['ignore_regions'] += int(bool(polygons))
        counts['hard'] += int(attributes['occluded']
                              or attributes['motion_blur'])
        counts['occluded_joints'] += sum(
            int(sum(lab['occluded_joints'])) for lab in labels)
        counts['blurred_persons'] += sum(
            int(lab['motion_blurred']) for lab in labels)
        if split == 'val':
            detections.extend(
                writer.detections_for_frame(det_rng, entry['id'], labels,
                                            distractors, width, height))
    writer.write_json(
        osp.join(out_dir, 'annotations', split, f'{name}.json'),
        writer.coco_dict(images, annotations))
    return images, annotations


def _write_split(out_dir, split, num_videos, cfg, seed, detections):
    """Render and write all videos of one split; appends val detections to
    `detections`."""
    images, annotations = [], []
    counts = dict.fromkeys(COUNTS, 0)
    for v in range(num_videos):
        vid_images, vid_annotations = _write_video(out_dir, split, v, cfg,
                                                   seed, counts, detections)
        images.extend(vid_images)
        annotations.extend(vid_annotations)
    ann_file = osp.join(out_dir, 'annotations', f'posetrack18_{split}.json')
    writer.write_json(ann_file, writer.coco_dict(images, annotations))
    return dict(
        ann_file=ann_file,
        img_dir=osp.join(out_dir, 'images', split),
        videos=num_videos,
        images=len(images),
        annotations=len(annotations),
        **counts)


def generate_posetrack_dataset(out_dir,
                               num_train_videos=12,
                               num_val_videos=4,
                               frames_per_video=16,
                               image_size=(192, 160),
                               persons_per_video=(1, 3),
                               seed=0,
                               occlusion_rate=0.15,
                               motion_blur_rate=0.1,
                               truncation_rate=0.15,
                               ignore_region_rate=0.15,
                               jpeg_quality=92,
                               overwrite=False):
    """Write a synthetic multi-person video pose dataset in the PoseTrack18
    COCO-style layout.

    Args:
        out_dir: data root to create (images/, annotations/ inside).
        num_train_videos, num_val_videos: videos per split (>= 0; val needs >=
            1 for the detection file to be meaningful).
        frames_per_video: frames per video; every frame is labelled.
        image_size: (width, height) in pixels.
        persons_per_video: (min, max) annotated people per video.
        seed: everything (images and JSON) is a deterministic function of the
            arguments.
        occlusion_rate / motion_blur_rate: fraction of frames with an occluder
            / motion blur (events last 1-2 frames and always have clean
            neighbouring frames). Each person annotation records the joints an
            occluder covers (``occluded_joints``) and whether it is blurred
            (``motion_blurred``). The ablation study uses 0.25 / 0.15, which
            makes about a third of the frames hard.
        truncation_rate: fraction of people placed across the image border.
        ignore_region_rate: fraction of videos drawn to get a faint unannotated
            figure inside an ignore polygon; it is only placed where it stays
            clear of every annotated person, so crowded videos skip it (about
            60% of the default-size videos have room).
        overwrite: allow writing into a folder that already holds a generated
            dataset.

    Returns:
        dict summary: data_root, det_file, num_detections and per split (under
        'train' / 'val') ann_file, img_dir, videos, images, annotations and
        counts of frames flagged occluded / motion_blur / truncated / with
        ignore regions / hard (occluded or motion_blur), of occluded_joints
        (annotated joints under an occluder) and of blurred_persons (person
        annotations with ``motion_blurred``).
    """
    cfg = GeneratorConfig(image_size, frames_per_video, persons_per_video,
                          occlusion_rate, motion_blur_rate, truncation_rate,
                          ignore_region_rate, jpeg_quality)
    for name, value in (('num_train_videos', num_train_videos),
                        ('num_val_videos', num_val_videos)):
        if int(value) < 0 or int(value) >= VAL_VID_OFFSET:
            raise ConfigValueError(
                f'{name} must be in [0, {VAL_VID_OFFSET}), got {value}')
    existing = osp.join(out_dir, 'annotations', 'posetrack18_train.json')
    if not overwrite and osp.exists(existing):
        raise FileExistsError(
            f'{existing} already exists; pass overwrite=True (CLI: '
            '--overwrite) to write the synthetic dataset again')
    out_dir = osp.abspath(out_dir)
    detections = []
    summary = dict(
        data_root=out_dir,
        seed=int(seed),
        image_size=list(cfg.image_size),
        frames_per_video=cfg.frames_per_video)
    summary['train'] = _write_split(out_dir, 'train', int(num_train_videos),
                                    cfg, seed, [])
    summary['val'] = _write_split(out_dir, 'val', int(num_val_videos), cfg,
                                  seed, detections)
    det_file = osp.join(out_dir, 'annotations',
                        'posetrack18_val_human_detections.json')
    writer.write_json(det_file, detections)
    summary.update(det_file=det_file, num_detections=len(detections))
    return summary
