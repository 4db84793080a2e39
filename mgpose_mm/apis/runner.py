"""One call from an input video to its predictions JSON and annotated video."""
import os
import os.path as osp
import sys
import time
import warnings
from typing import Dict, Optional

import cv2
import torch.nn as nn
from mmengine.utils import ProgressBar

from .box_sources import BoxSource
from .frame_sources import IMAGE_EXTENSIONS, open_frame_source
from .tracking import IoUTracker
from .video_inference import VideoPoseInferencer
from .writers import (AnnotatedImageWriter, AnnotatedVideoWriter,
                      PoseFrameDrawer, PredictionJsonWriter)


class _Window:
    """``cv2.imshow`` that turns itself off (with a warning) where no display
    is available."""

    def __init__(self, name: str = 'video pose'):
        self.name, self.enabled = name, True
        # Qt builds of OpenCV abort the process (no exception) when there is no display
        if sys.platform.startswith('linux') and not (
                os.environ.get('DISPLAY')
                or os.environ.get('WAYLAND_DISPLAY')):
            self.enabled = False
            warnings.warn(
                '--show: no display (DISPLAY is not set); continuing without display'
            )

    def show(self, image) -> None:
        if not self.enabled:
            return
        try:
            cv2.imshow(self.name, image)
            cv2.waitKey(1)
        except cv2.error as err:
            self.enabled = False
            warnings.warn(
                f'--show: cannot open a window ({str(err).strip()[:120]}); '
                'continuing without display')

    def close(self) -> None:
        if self.enabled:
            try:
                cv2.destroyWindow(self.name)
            except cv2.error:
                pass


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
    """Estimate poses over a video and write the results.

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        source: video file, folder of frames, image file or list of BGR arrays.
        box_source (BoxSource): person boxes per frame.
        out_video (str, optional): annotated output; a video (mp4) for videos and folders, or an
            image file (by extension) for a one-image input. Same frame count and size as the
            input, at the input's fps.
        out_json (str, optional): predictions JSON (:class:`PredictionJsonWriter`).
        batch_size (int): person clips per forward pass.
        tracker (IoUTracker, optional): Defaults to ``IoUTracker()``.
        kpt_thr, radius, thickness: drawing options.
        show (bool): display the drawn frames (skipped with a warning when headless).
        fps (float, optional): output frame rate; default: the video's own rate, 25 for
            folders, images and arrays.
        progress (bool): show an MMEngine progress bar over frames.

    Returns:
        dict: ``num_frames``, ``num_instances``, ``seconds`` (inference + writing),
        ``fps`` (frames per second of the whole run), ``out_video``, ``out_json``.

    Outputs are committed only after the last frame; on any error they are discarded and
    existing files at those paths are left untouched.
    """
    frames = open_frame_source(source, fps=fps)
    inferencer = VideoPoseInferencer(
        model, box_source, batch_size=batch_size, tracker=tracker)
    need_drawing = out_video is not None or show
    drawer = PoseFrameDrawer(model, kpt_thr, radius,
                             thickness) if need_drawing else None
    writers = []
    window = _Window() if show else None
    try:
        video_writer = None
        if out_video is not None:
            if out_video.lower().endswith(IMAGE_EXTENSIONS):
                video_writer = AnnotatedImageWriter(out_video, drawer)
            else:
                video_writer = AnnotatedVideoWriter(out_video, frames.fps,
                                                    drawer)
            writers.append(video_writer)
        if out_json is not None:
            writers.append(
                PredictionJsonWriter(out_json, model.dataset_meta, frames.name,
                                     frames.fps))
        bar = ProgressBar(frames.num_frames or 0) if progress else None
        start = time.perf_counter()
        num_frames = num_instances = 0
        for prediction in inferencer(frames):
            drawn = None
            for writer in writers:
                output = writer.write(prediction)
                drawn = output if writer is video_writer else drawn
            if window is not None:
                window.show(
                    drawn if drawn is not None else drawer.
                    draw(prediction.frame, prediction.instances))
            num_frames += 1
            num_instances += len(prediction.instances)
            if bar is not None:
                bar.update()
        for writer in writers:
            writer.close()
        seconds = time.perf_counter() - start
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    finally:
        if window is not None:
            window.close()
    if bar is not None:
        print()
    return dict(
        num_frames=num_frames,
        num_instances=num_instances,
        seconds=seconds,
        fps=num_frames / max(seconds, 1e-9),
        out_video=osp.abspath(out_video) if out_video else None,
        out_json=osp.abspath(out_json) if out_json else None)
