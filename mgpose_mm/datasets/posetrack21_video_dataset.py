"""PoseTrack21 clips around annotated key frames (per-video JSON files)."""
import contextlib
import io

from mmengine.fileio import join_path
from mmengine.utils import is_abs
from mmpose.registry import DATASETS
from xtcocotools.coco import COCO

from .posetrack_json import list_annotation_files, load_videos, merge_videos
from .posetrack_video_dataset import PoseTrackVideoDataset


@DATASETS.register_module()
class PoseTrack21VideoDataset(PoseTrackVideoDataset):
    """PoseTrack21 clips for top-down video pose estimation.

    Produces the same samples as :class:`PoseTrackVideoDataset` (one per
    person with keypoints of a labelled key frame, T frame paths clamped to
    the video), reading PoseTrack21's per-video annotation files. Persons
    annotated with a box only (all keypoints zero, frames with
    ``has_labeled_person`` but not ``is_labeled``) give no sample.

    Expected layout (``data_root``)::

        data_root/
          images/{train,val}/<video>/<frame:06d>.jpg
          posetrack_data/{train,val}/<video>.json      # ann_file (directory)

    Each ``<video>.json`` holds ``images`` (``id``, ``file_name``
    ``images/val/<video>/000017.jpg``, ``frame_id``, ``vid_id``,
    ``nframes``, ``is_labeled``, ``has_labeled_person``,
    ``ignore_regions_x/y``), ``annotations`` (``id``, ``image_id``, ``bbox``,
    ``bbox_head``, ``keypoints`` [x, y, v] * 17, ``track_id``,
    ``person_id``) and ``categories``. Images without ``width``/``height``
    (PoseTrack21 files have none) keep their boxes unclipped.

    Args:
        ann_file (str | Sequence[str]): a directory of per-video JSON files,
            one JSON file, or a list of JSON files (relative paths are joined
            with ``data_root``).
        **kwargs: the arguments of :class:`PoseTrackVideoDataset`.
    """

    def _join_prefix(self):
        """Join ``data_root`` to each file when ``ann_file`` is a list."""
        if isinstance(self.ann_file, (list, tuple)):
            files = list(self.ann_file)
            self.ann_file = ''
            super()._join_prefix()
            self.ann_file = [
                f if is_abs(f) or not self.data_root else join_path(
                    self.data_root, f) for f in files
            ]
        else:
            super()._join_prefix()

    def _load_coco(self) -> COCO:
        """Merge the per-video files into one COCO index."""
        files = list_annotation_files(self.ann_file)
        merged = merge_videos(load_videos(files))
        for img in merged['images']:
            # PoseTrack21 images have no size; BaseCocoStyleDataset clips the
            # box to it, so an unbounded size keeps boxes unchanged.
            img.setdefault('width', float('inf'))
            img.setdefault('height', float('inf'))
        coco = COCO()
        coco.dataset = merged
        with contextlib.redirect_stdout(
                io.StringIO()):  # xtcocotools prints its steps
            coco.createIndex()
        return coco
