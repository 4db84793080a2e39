"""Entry points replaced by :class:`~mgpose_mm.apis.VideoPoseInferencer`, kept
for one release; each warns with a ``DeprecationWarning`` naming its
replacement."""
import os.path as osp
import warnings
from typing import Dict, Iterator, List, Optional, Tuple

import torch.nn as nn

from .boxes import BoxSource, mmdet_model_zoo_entry
from .clips import ClipPoseEstimator, FramePoses
from .frame_sources import (IMAGE_EXTENSIONS, StopOnInterrupt,
                            open_frame_source, open_stream_source)
from .tracking import IoUTracker
from .writers import (AnnotatedImageWriter, AnnotatedVideoWriter,
                      PoseFrameDrawer, PredictionJsonWriter, Window,
                      write_predictions)

NEW_API = ('VideoPoseInferencer(pose2d=CONFIG, pose2d_weights=CKPT)(inputs, '
           'bboxes=..., vis_out_dir=..., pred_out_dir=...)')


def _deprecated(name: str, replacement: str = NEW_API) -> None:
    warnings.warn(
        f'{name} is deprecated and will be removed in the next release; use '
        f'{replacement}',
        DeprecationWarning,
        stacklevel=3)


class LegacyVideoPoseInferencer(ClipPoseEstimator):
    """``VideoPoseInferencer(model, box_source, batch_size, tracker)`` of the
    previous release: ``inferencer(source)`` yields a :class:`FramePoses` per
    frame of a file input."""

    def __init__(self,
                 model: nn.Module,
                 box_source: BoxSource,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        super().__init__(model, batch_size, tracker)
        self.box_source = box_source

    def __call__(self, source) -> Iterator[FramePoses]:
        return super().__call__(open_frame_source(source), self.box_source)


class StreamingPoseInferencer(ClipPoseEstimator):
    """Deprecated: ``VideoPoseInferencer(...)(source, stream=True)``."""

    def __init__(self,
                 model: nn.Module,
                 box_source: BoxSource,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        _deprecated('StreamingPoseInferencer')
        super().__init__(model, batch_size, tracker)
        self.box_source = box_source

    def __call__(self, source, **source_kwargs) -> Iterator[FramePoses]:
        frames = open_stream_source(source, **source_kwargs)
        return super().__call__(frames, self.box_source, live=True)


def inference_video(model: nn.Module,
                    source,
                    box_source: BoxSource,
                    batch_size: int = 16,
                    tracker: Optional[IoUTracker] = None) -> List[Dict]:
    """Deprecated: per frame ``{frame_index, instances}`` of ``source``."""
    _deprecated('inference_video')
    estimator = ClipPoseEstimator(model, batch_size, tracker)
    return [
        p.to_dict() for p in estimator(open_frame_source(source), box_source)
    ]


def stream_video_pose(model: nn.Module,
                      source,
                      box_source: BoxSource,
                      batch_size: int = 16,
                      tracker: Optional[IoUTracker] = None,
                      **source_kwargs) -> Iterator[FramePoses]:
    """Deprecated: each frame's poses of a live ``source``."""
    _deprecated('stream_video_pose', NEW_API.replace(')(', ')(stream=True, '))
    estimator = ClipPoseEstimator(model, batch_size, tracker)
    frames = open_stream_source(source, **source_kwargs)
    yield from estimator(frames, box_source, live=True)


def _writers(model, frames, out_video, out_json, show, kpt_thr, radius,
             thickness):
    drawer = PoseFrameDrawer(model, kpt_thr, radius, thickness) \
        if out_video is not None or show else None
    video_writer = None
    if out_video is not None:
        video_writer = AnnotatedImageWriter(out_video, drawer) \
            if out_video.lower().endswith(IMAGE_EXTENSIONS) else \
            AnnotatedVideoWriter(out_video, frames.fps, drawer)
    json_writer = PredictionJsonWriter(out_json, model.dataset_meta,
                                       frames.name, frames.fps) \
        if out_json is not None else None
    return drawer, video_writer, json_writer


def run_video_pose(model: nn.Module,
                   source,
                   box_source: BoxSource,
                   out_video: Optional[str] = None,
                   out_json: Optional[str] = None,
                   batch_size: int = 16,
                   tracker: Optional[IoUTracker] = None,
                   kpt_thr: float = 0.3,
                   radius: int = 3,
                   thickness: int = 1,
                   show: bool = False,
                   fps: Optional[float] = None,
                   progress: bool = True) -> Dict:
    """Deprecated: poses of a file input written to ``out_video`` and
    ``out_json`` (MMPose's demo layout); returns a summary dict."""
    _deprecated('run_video_pose')
    frames = open_frame_source(source, fps=fps)
    drawer, video_writer, json_writer = _writers(model, frames, out_video,
                                                 out_json, show, kpt_thr,
                                                 radius, thickness)
    estimator = ClipPoseEstimator(model, batch_size, tracker)
    return write_predictions(
        estimator(frames, box_source),
        video_writer,
        json_writer,
        Window() if show else None,
        drawer=drawer)


def run_stream_pose(model: nn.Module,
                    source,
                    box_source: BoxSource,
                    out_video: Optional[str] = None,
                    out_json: Optional[str] = None,
                    batch_size: int = 16,
                    tracker: Optional[IoUTracker] = None,
                    kpt_thr: float = 0.3,
                    radius: int = 3,
                    thickness: int = 1,
                    show: bool = False,
                    status_interval: float = 2.0,
                    say=print,
                    **source_kwargs) -> Dict:
    """Deprecated: poses of a live input written frame by frame; what was
    written is kept whatever stops the stream."""
    _deprecated('run_stream_pose', NEW_API.replace(')(', ')(stream=True, '))
    frames = open_stream_source(source, **source_kwargs)
    estimator = ClipPoseEstimator(model, batch_size, tracker)
    drawer, video_writer, json_writer = _writers(model, frames, out_video,
                                                 out_json, show, kpt_thr,
                                                 radius, thickness)
    with StopOnInterrupt(frames, say):
        summary = write_predictions(
            estimator(frames, box_source, live=True),
            video_writer,
            json_writer,
            Window() if show else None,
            drawer=drawer,
            keep_partial=True,
            status_interval=status_interval,
            say=say)
    summary.update(
        delay=estimator.delay,
        stop_reason=getattr(frames, 'stop_reason', None) or 'end of input')
    return summary


def resolve_mmdet_config(det_config: str,
                         det_checkpoint: Optional[str] = None
                         ) -> Tuple[str, Optional[str]]:
    """Deprecated: ``(config path, checkpoint)`` of an MMDetection config file
    or model-zoo name; ``det_model=`` / :class:`MMDetBoxes` take the name."""
    _deprecated('resolve_mmdet_config', 'VideoPoseInferencer(det_model=NAME)')
    if osp.isfile(det_config):
        return det_config, det_checkpoint
    config, weights = mmdet_model_zoo_entry(det_config)
    if det_checkpoint is not None and '://' not in det_checkpoint and \
            not osp.isfile(det_checkpoint):
        name = osp.splitext(osp.basename(config))[0]
        raise FileNotFoundError(
            f'detector checkpoint not found: {det_checkpoint} (to get the '
            'weights of an MMDetection model: mim download mmdet --config '
            f'{name} --dest .)')
    return config, det_checkpoint or weights
