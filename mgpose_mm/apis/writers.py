"""Writing video pose results: predictions JSON, annotated video or image, a
display window and latency lines.

Every output is written to a temporary file next to it and renamed into place
by ``close()`` (atomic on POSIX, :class:`~mgpose_mm.utils.AtomicFile`);
``abort()`` removes the temporary file. A run that fails or is interrupted
midway therefore never replaces or truncates an existing output.
"""
import itertools
import json
import os
import os.path as osp
import sys
import time
import warnings
from collections import deque
from typing import Callable, Dict, Iterable, List, Optional

import cv2
import numpy as np
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from ..utils import AtomicFile
from ..visualization import CompatPoseLocalVisualizer
from .clips import FramePoses

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
    """Predictions JSON written frame by frame (memory stays bounded over a
    long stream), in one of two layouts.

    ``layout='demo'``, MMPose's ``topdown_demo_with_mmdet.py`` layout::

        {"meta_info": dataset_meta,
         "video": {"input", "fps", "width", "height", "num_frames"},
         "instance_info": [{"frame_index": i, "instances": [{"track_id",
             "bbox": [x1, y1, x2, y2], "bbox_score", "keypoints": [[x, y]] * K,
             "keypoint_scores": [K]}]}]}

    ``layout='inferencer'``, what MMPose's inferencers write to
    ``pred_out_dir`` for a video: ``[{"frame_id": i, "instances": [...]}]``
    with the instances of the inferencer's ``predictions``.

    One entry per frame (empty ``instances`` where nobody was found);
    coordinates in pixels of the input frames.
    """

    def __init__(self,
                 path: str,
                 dataset_meta: Optional[dict] = None,
                 input_name: str = '',
                 fps: Optional[float] = None,
                 layout: str = 'demo'):
        if layout not in ('demo', 'inferencer'):
            raise ValueError(f'unknown layout {layout!r}')
        self.file = AtomicFile(path)
        self.path, self.layout = path, layout
        self.video = dict(input=input_name, fps=fps)
        self.count = 0
        self.handle = open(self.file.tmp_path, 'w')
        if layout == 'demo':
            self.handle.write('{"meta_info": ' +
                              json.dumps(_json_ready(dataset_meta or {})) +
                              ', "instance_info": [')
        else:
            self.handle.write('[')

    def write(self, prediction: FramePoses, instances=None) -> None:
        """Append one frame; ``instances`` replace the prediction's own (the
        inferencer passes its MMPose-style ones)."""
        if self.count:
            self.handle.write(', ')
        if self.layout == 'demo':
            entry = prediction.to_dict()
        else:
            entry = dict(
                frame_id=prediction.frame_index,
                instances=prediction.instances
                if instances is None else instances)
        json.dump(_json_ready(entry), self.handle)
        self.video.update(
            height=int(prediction.frame.shape[0]),
            width=int(prediction.frame.shape[1]))
        self.count += 1

    def close(self) -> None:
        self.video['num_frames'] = self.count
        if self.layout == 'demo':
            self.handle.write('], "video": ' + json.dumps(self.video) + '}')
        else:
            self.handle.write(']')
        self.handle.close()
        self.file.commit()

    def abort(self) -> None:
        self.handle.close()
        self.file.discard()


class PoseFrameDrawer:
    """Draws one frame's people with MMPose's :class:`PoseLocalVisualizer`
    (skeleton style ``'mmpose'``, the model's ``dataset_meta`` colours and
    links), boxes and track ids. The config's ``PoseLocalVisualizer`` is
    replaced by :class:`CompatPoseLocalVisualizer` (same drawing, works under
    NumPy >= 2.4).

    Args:
        model (nn.Module): gives ``cfg.visualizer`` and ``dataset_meta``.
        kpt_thr (float): keypoints with a lower score are not drawn. Defaults
            to 0.3.
        radius (int): keypoint radius. Defaults to 3. thickness (int): link
            width. Defaults to 1.
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
        # One instance per drawer: MMEngine visualizers are named global
        # instances.
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
        self.write_drawn(drawn)
        return drawn

    def write_drawn(self, drawn: np.ndarray) -> None:
        """Append a frame drawn already (BGR)."""
        if self.writer is None:
            height, width = drawn.shape[:2]
            self.writer = cv2.VideoWriter(self.file.tmp_path,
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, (width, height))
            if not self.writer.isOpened():
                raise IOError(
                    f'cannot open a video writer for {self.path} (mp4v codec)')
        self.writer.write(drawn)

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
        drawn = self.drawer.draw(prediction.frame, prediction.instances)
        self.write_drawn(drawn)
        return drawn

    def write_drawn(self, drawn: np.ndarray) -> None:
        """Keep the drawn frame (BGR) of the one-frame input."""
        if self.drawn is not None:
            raise ValueError(f'{self.path} is an image output but the input '
                             'has several frames')
        self.drawn = drawn

    def close(self) -> None:
        if self.drawn is None or not cv2.imwrite(self.file.tmp_path,
                                                 self.drawn):
            raise IOError(f'cannot write image {self.path}')
        self.file.commit()

    def abort(self) -> None:
        self.file.discard()


class Window:
    """``cv2.imshow`` that turns itself off (with a warning) where no display
    is available."""

    def __init__(self, name: str = 'video pose'):
        self.name, self.enabled = name, True
        # Qt builds of OpenCV abort the process (no exception) when there is no
        # display
        if sys.platform.startswith('linux') and not (
                os.environ.get('DISPLAY')
                or os.environ.get('WAYLAND_DISPLAY')):
            self.enabled = False
            warnings.warn('show: no display (DISPLAY is not set); '
                          'continuing without display')

    def show(self, image) -> None:
        if not self.enabled:
            return
        try:
            cv2.imshow(self.name, image)
            cv2.waitKey(1)
        except cv2.error as err:
            self.enabled = False
            warnings.warn(
                f'show: cannot open a window ({str(err).strip()[:120]}); '
                'continuing without display')

    def close(self) -> None:
        if self.enabled:
            try:
                cv2.destroyWindow(self.name)
            except cv2.error:
                pass


class LatencyStats:
    """Per-frame latency (median, 95th percentile) over the last ``window``
    frames and the frame rate of the whole stream. Memory is bounded by
    ``window``.

    Args:
        window (int): frames the percentiles are taken over. Defaults to 10000.
    """

    def __init__(self, window: int = 10000):
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self.latencies: deque = deque(maxlen=window)
        self.count = 0
        self.first_arrival: Optional[float] = None
        self.last_emit: Optional[float] = None

    def add(self, prediction: FramePoses) -> None:
        self.latencies.append(prediction.latency)
        self.count += 1
        if self.first_arrival is None:
            self.first_arrival = prediction.arrived_at
        self.last_emit = prediction.emitted_at

    def summary(self) -> Dict[str, float]:
        """``frames``, ``latency_median_ms``, ``latency_p95_ms`` and ``fps``
        (frames emitted per second from the first frame's arrival to the last
        result; NaN before any frame)."""
        if not self.count:
            nan = float('nan')
            return dict(
                frames=0, latency_median_ms=nan, latency_p95_ms=nan, fps=nan)
        latencies = np.asarray(self.latencies) * 1000.0
        elapsed = self.last_emit - self.first_arrival
        return dict(
            frames=self.count,
            latency_median_ms=float(np.median(latencies)),
            latency_p95_ms=float(np.percentile(latencies, 95)),
            fps=self.count / elapsed if elapsed > 0 else float('nan'))

    def line(self) -> str:
        s = self.summary()
        return (f'{s["frames"]} frames | latency median '
                f'{s["latency_median_ms"]:.1f} ms, '
                f'p95 {s["latency_p95_ms"]:.1f} ms | {s["fps"]:.2f} fps')


def write_predictions(predictions: Iterable[FramePoses],
                      video_writer=None,
                      json_writer: Optional[PredictionJsonWriter] = None,
                      window: Optional[Window] = None,
                      drawer: Optional[PoseFrameDrawer] = None,
                      keep_partial: bool = False,
                      status_interval: float = 0.0,
                      say: Callable[[str], None] = print) -> Dict:
    """Consume ``predictions``, writing and showing each frame.

    Args:
        predictions: the per-frame poses, in frame order.
        video_writer (AnnotatedVideoWriter | AnnotatedImageWriter, optional).
        json_writer (PredictionJsonWriter, optional).
        window (Window, optional): shows the drawn frames with ``drawer``.
        keep_partial (bool): when the run fails midway, commit what was
            written (live inputs) instead of discarding it (files).
        status_interval (float): seconds between latency lines; <= 0: none.
        say (callable): prints the latency lines.

    Returns:
        dict: ``num_frames``, ``num_instances``, ``seconds``, ``fps``,
        ``latency_median_ms``, ``latency_p95_ms``, ``out_video`` and
        ``out_json`` (absolute paths of the files written, or None).
    """
    writers = [w for w in (video_writer, json_writer) if w is not None]
    stats, num_instances = LatencyStats(), 0
    start = time.perf_counter()
    next_status = start + status_interval
    failed = True
    try:
        for prediction in predictions:
            stats.add(prediction)
            num_instances += len(prediction.instances)
            drawn = video_writer.write(
                prediction) if video_writer is not None else None
            if json_writer is not None:
                json_writer.write(prediction)
            if window is not None:
                window.show(
                    drawn if drawn is not None else drawer.
                    draw(prediction.frame, prediction.instances))
            if status_interval > 0 and time.perf_counter() >= next_status:
                say(stats.line())
                next_status = time.perf_counter() + status_interval
        failed = False
    finally:
        written = {}
        for writer in writers:
            empty = stats.count == 0 or getattr(writer, 'writer', True) is None
            if empty or (failed and not keep_partial):
                writer.abort()
            else:
                writer.close()
                written[id(writer)] = osp.abspath(writer.path)
        if window is not None:
            window.close()
    summary = stats.summary()
    return dict(
        num_frames=stats.count,
        num_instances=num_instances,
        seconds=time.perf_counter() - start,
        fps=summary['fps'],
        latency_median_ms=summary['latency_median_ms'],
        latency_p95_ms=summary['latency_p95_ms'],
        out_video=written.get(id(video_writer)),
        out_json=written.get(id(json_writer)))
