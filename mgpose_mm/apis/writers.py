"""Writing video pose results: predictions JSON, annotated video or image.

Every output is written to a temporary file next to it and renamed into place
by ``close()`` (atomic on POSIX); ``abort()`` removes the temporary file. A run
that fails or is interrupted midway therefore never replaces or truncates an
existing output.
"""
import itertools
import json
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from ..utils import AtomicFile
from ..visualization import CompatPoseLocalVisualizer
from .video_inference import FramePoses

_visualizer_ids = itertools.count()


def _json_ready(value):
    """NumPy arrays/scalars -> lists/Python numbers, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class PredictionJsonWriter:
    """Predictions JSON in MMPose's demo layout::

        {"meta_info": dataset_meta, "video": {"input", "fps", "width", "height", "num_frames"},
         "instance_info": [{"frame_index": i, "instances": [{"track_id", "bbox": [x1, y1, x2, y2],
                            "bbox_score", "keypoints": [[x, y]] * K, "keypoint_scores": [K]}]}]}

    one ``instance_info`` entry per frame (empty ``instances`` where nobody was found), one
    instance per person; coordinates in pixels of the input frames.
    """

    def __init__(self,
                 path: str,
                 dataset_meta: Optional[dict] = None,
                 input_name: str = '',
                 fps: Optional[float] = None):
        self.file = AtomicFile(path)
        self.path = path
        self.header = dict(
            meta_info=_json_ready(dataset_meta or {}),
            video=dict(input=input_name, fps=fps))
        self.frames: List[Dict] = []
        self.frame_size = None

    def write(self, prediction: FramePoses) -> None:
        self.frame_size = prediction.frame.shape[:2]
        self.frames.append(_json_ready(prediction.to_dict()))

    def close(self) -> None:
        video = self.header['video']
        if self.frame_size is not None:
            video.update(
                height=int(self.frame_size[0]), width=int(self.frame_size[1]))
        video['num_frames'] = len(self.frames)
        with open(self.file.tmp_path, 'w') as f:
            json.dump(dict(self.header, instance_info=self.frames), f)
        self.file.commit()

    def abort(self) -> None:
        self.file.discard()


class PoseFrameDrawer:
    """Draws one frame's people with MMPose's :class:`PoseLocalVisualizer`
    (skeleton style ``'mmpose'``, the model's ``dataset_meta`` colours and
    links), boxes and track ids. The config's ``PoseLocalVisualizer`` is
    replaced by :class:`CompatPoseLocalVisualizer` (same drawing, works under
    NumPy >= 2.4).

    Args:
        model (nn.Module): gives ``cfg.visualizer`` and ``dataset_meta``.
        kpt_thr (float): keypoints with a lower score are not drawn. Defaults to 0.3.
        radius (int): keypoint radius. Defaults to 3. thickness (int): link width. Defaults to 1.
        draw_bbox (bool): draw boxes and track ids. Defaults to True.
    """

    def __init__(self,
                 model,
                 kpt_thr: float = 0.3,
                 radius: int = 3,
                 thickness: int = 1,
                 draw_bbox: bool = True):
        vis_cfg = dict(
            model.cfg.get('visualizer') or dict(type='PoseLocalVisualizer'))
        if vis_cfg.get('type') in ('PoseLocalVisualizer',
                                   'mmpose.PoseLocalVisualizer',
                                   PoseLocalVisualizer):
            vis_cfg['type'] = CompatPoseLocalVisualizer
        # One instance per drawer: MMEngine visualizers are named global instances.
        vis_cfg.update(
            name=f'video_pose_visualizer_{next(_visualizer_ids)}',
            vis_backends=None,
            save_dir=None,
            radius=radius,
            line_width=thickness)
        self.visualizer = VISUALIZERS.build(vis_cfg)
        self.visualizer.set_dataset_meta(
            model.dataset_meta, skeleton_style='mmpose')
        self.kpt_thr, self.draw_bbox = kpt_thr, draw_bbox

    def draw(self, frame: np.ndarray, instances: List[Dict]) -> np.ndarray:
        """The frame (H, W, 3) BGR with the instances drawn, same size, BGR
        uint8."""
        if not instances:
            return frame.copy()
        pred = InstanceData()
        pred.keypoints = np.stack([inst['keypoints'] for inst in instances])
        pred.keypoint_scores = np.stack(
            [inst['keypoint_scores'] for inst in instances])
        pred.bboxes = np.stack([inst['bbox']
                                for inst in instances]).astype(np.float32)
        sample = PoseDataSample(pred_instances=pred)
        self.visualizer.add_datasample(
            'frame',
            np.ascontiguousarray(frame[..., ::-1]),
            data_sample=sample,
            draw_gt=False,
            draw_heatmap=False,
            draw_bbox=self.draw_bbox,
            skeleton_style='mmpose',
            show=False,
            kpt_thr=self.kpt_thr)
        if self.draw_bbox:
            for inst in instances:
                # the OpenCV backend draws one text per call
                self.visualizer.draw_texts(
                    f'id {inst["track_id"]}',
                    np.maximum(inst['bbox'][:2], 0),
                    font_sizes=15,
                    colors=(255, 255, 255),
                    vertical_alignments='top',
                    bboxes=[
                        dict(
                            facecolor='black',
                            alpha=0.8,
                            pad=0.7,
                            edgecolor='none')
                    ])
        return np.ascontiguousarray(self.visualizer.get_image()[..., ::-1])


class AnnotatedVideoWriter:
    """An mp4 (``mp4v``) of the drawn frames, at the input's fps and frame
    size."""

    def __init__(self, path: str, fps: float, drawer: PoseFrameDrawer):
        self.file = AtomicFile(path)
        self.path, self.fps, self.drawer = path, float(fps), drawer
        self.writer = None

    def write(self, prediction: FramePoses) -> np.ndarray:
        """Draw and append one frame; returns the drawn frame (BGR)."""
        drawn = self.drawer.draw(prediction.frame, prediction.instances)
        if self.writer is None:
            height, width = drawn.shape[:2]
            self.writer = cv2.VideoWriter(self.file.tmp_path,
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, (width, height))
            if not self.writer.isOpened():
                raise IOError(
                    f'cannot open a video writer for {self.path} (mp4v codec)')
        self.writer.write(drawn)
        return drawn

    def close(self) -> None:
        if self.writer is None:
            raise RuntimeError(f'no frame was written to {self.path}')
        self.writer.release()
        self.file.commit()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.release()
        self.file.discard()


class AnnotatedImageWriter:
    """The drawn frame of a one-image input, as an image file (format from the
    extension)."""

    def __init__(self, path: str, drawer: PoseFrameDrawer):
        self.file = AtomicFile(path)
        self.path, self.drawer = path, drawer
        self.drawn = None

    def write(self, prediction: FramePoses) -> np.ndarray:
        if self.drawn is not None:
            raise ValueError(
                f'{self.path} is an image output but the input has several frames'
            )
        self.drawn = self.drawer.draw(prediction.frame, prediction.instances)
        return self.drawn

    def close(self) -> None:
        if self.drawn is None or not cv2.imwrite(self.file.tmp_path,
                                                 self.drawn):
            raise IOError(f'cannot write image {self.path}')
        self.file.commit()

    def abort(self) -> None:
        self.file.discard()
