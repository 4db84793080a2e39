"""generate_posetrack_dataset: write a synthetic PoseTrack18-style video pose
dataset."""
import os.path as osp

from mgpose_mm.errors import ConfigValueError
from . import writer
from .scene import GeneratorConfig, keyed_rng, plan_video, render_frame

SPLIT_CODES = {'train': 0, 'val': 1}
# val videos are numbered 500001, 500002, ... (distinct from train)
VAL_VID_OFFSET = 500000


def _vid_id(split, index):
    return f'{index + 1 + (VAL_VID_OFFSET if split == "val" else 0):06d}'


def _write_split(out_dir, split, num_videos, cfg, seed, detections):
    """Render and write all videos of one split; appends val detections to
    `detections`."""
    images, annotations = [], []
    counts = dict(
        occluded=0,
        motion_blur=0,
        truncated=0,
        ignore_regions=0,
        hard=0,
        occluded_joints=0,
        blurred_persons=0)
    width, height = cfg.image_size
    code = SPLIT_CODES[split]
    for v in range(num_videos):
        vid_id = _vid_id(split, v)
        name = writer.video_name(vid_id)
        plan = plan_video(cfg, seed, code, v)
        polygons = [plan.ignore_polygon
                    ] if plan.ignore_polygon is not None else []
        det_rng = keyed_rng(seed, code, v, 'detections')
        vid_images, vid_annotations = [], []
        for t in range(plan.nframes):
            image, labels, attributes, distractors = render_frame(
                plan, t, seed, code, v)
            writer.write_jpeg(
                osp.join(out_dir, 'images', split, name, f'{t:06d}.jpg'),
                image, cfg.jpeg_quality)
            entry = writer.image_entry(split, vid_id, t, plan.nframes, width,
                                       height, polygons, attributes)
            vid_images.append(entry)
            vid_annotations.extend(
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
            writer.coco_dict(vid_images, vid_annotations))
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
    for name, value in (('image_size', image_size), ('persons_per_video',
                                                     persons_per_video)):
        if len(value) != 2:
            raise ConfigValueError(f'{name} must have two values, got {value}')
    cfg = GeneratorConfig(
        image_size=(int(image_size[0]), int(image_size[1])),
        frames_per_video=int(frames_per_video),
        persons_per_video=(int(persons_per_video[0]),
                           int(persons_per_video[1])),
        occlusion_rate=float(occlusion_rate),
        motion_blur_rate=float(motion_blur_rate),
        truncation_rate=float(truncation_rate),
        ignore_region_rate=float(ignore_region_rate),
        jpeg_quality=int(jpeg_quality))
    cfg.validate()
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
