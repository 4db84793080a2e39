"""One call from a live stream (webcam, URL, file read as a stream) to an
annotated video and a predictions JSON, with per-frame latency and fps; stops
cleanly and keeps what was written."""
import json
import os.path as osp
import signal
import threading
import time
from collections import deque
from typing import Callable, Dict, Optional

import numpy as np
import torch.nn as nn

from ..utils import AtomicFile
from .box_sources import BoxSource
from .runner import _Window
from .stream_sources import open_stream_source
from .streaming import StreamFramePoses, StreamingPoseInferencer
from .tracking import IoUTracker
from .writers import AnnotatedVideoWriter, PoseFrameDrawer, _json_ready


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

    def add(self, prediction: StreamFramePoses) -> None:
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
        return (
            f'{s["frames"]} frames | latency median {s["latency_median_ms"]:.1f} ms, '
            f'p95 {s["latency_p95_ms"]:.1f} ms | {s["fps"]:.2f} fps')


class StreamingJsonWriter:
    """The predictions JSON of :class:`PredictionJsonWriter` (same keys),
    written frame by frame so that memory stays bounded over a long stream.

    ``close`` writes the ``video`` entry
    (``num_frames`` = frames written) and renames the file into place.
    """

    def __init__(self,
                 path: str,
                 dataset_meta: Optional[dict] = None,
                 input_name: str = '',
                 fps: Optional[float] = None):
        self.file = AtomicFile(path)
        self.path = path
        self.video = dict(input=input_name, fps=fps)
        self.count = 0
        self.handle = open(self.file.tmp_path, 'w')
        self.handle.write('{"meta_info": ' +
                          json.dumps(_json_ready(dataset_meta or {})) +
                          ', "instance_info": [')

    def write(self, prediction) -> None:
        if self.count:
            self.handle.write(', ')
        json.dump(_json_ready(prediction.to_dict()), self.handle)
        self.video.update(
            height=int(prediction.frame.shape[0]),
            width=int(prediction.frame.shape[1]))
        self.count += 1

    def close(self) -> None:
        self.video['num_frames'] = self.count
        self.handle.write('], "video": ' + json.dumps(self.video) + '}')
        self.handle.close()
        self.file.commit()

    def abort(self) -> None:
        self.handle.close()
        self.file.discard()


class _GracefulInterrupt:
    """First Ctrl-C: ask the source to stop (the frames already read are
    finished and written); a second one raises ``KeyboardInterrupt`` (what was
    written is still committed)."""

    def __init__(self, frames, say: Callable[[str], None]):
        self.frames, self.say, self.previous = frames, say, None
        self.active = (
            hasattr(frames, 'stop')
            and threading.current_thread() is threading.main_thread())

    def __enter__(self):
        if self.active:
            previous = signal.signal(signal.SIGINT, self._handle)
            # None: a handler installed outside Python; Ctrl-C then falls back to Python's
            self.previous = signal.default_int_handler if previous is None else previous
        return self

    def _handle(self, signum, frame):
        signal.signal(signal.SIGINT, self.previous)
        self.say(
            'stopping: finishing the frames already read (Ctrl-C again to stop at once)'
        )
        self.frames.stop()

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False


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
                    say: Callable[[str], None] = print,
                    **source_kwargs) -> Dict:
    """Estimate poses over a live stream, writing and/or showing the annotated
    frames as they come, and print the running latency and fps every
    ``status_interval`` seconds.

    The stream ends at its end (end of file, closed stream), when the camera disappears, on
    Ctrl-C (the frames already read are finished), or after ``max_frames``. In every case, and
    also when an error interrupts the run, the outputs hold the frames processed so far and are
    valid files (the video is finalised, the JSON closed); the error is then re-raised. When no
    frame was done, no output file is written (existing files at those paths are kept).

    Args:
        model, box_source, batch_size, tracker: as :class:`StreamingPoseInferencer`.
        source: ``'webcam'``, a camera index, a stream URL, a video file, a FrameSource...
        out_video (str, optional): annotated mp4. out_json (str, optional): predictions JSON
            (:class:`StreamingJsonWriter`).
        kpt_thr, radius, thickness: drawing options. show (bool): display the frames.
        status_interval (float): seconds between status lines; <= 0 for none.
        say (callable): prints the status lines.
        **source_kwargs: :class:`CaptureFrames` options (``fps``, ``realtime``, ``max_frames``,
            ``read_retries``).

    Returns:
        dict: ``num_frames``, ``num_instances``, ``seconds``, ``fps``, ``latency_median_ms``,
        ``latency_p95_ms``, ``delay`` (frames), ``stop_reason``, ``out_video``, ``out_json``.
    """
    frames = open_stream_source(source, **source_kwargs)
    inferencer = StreamingPoseInferencer(
        model, box_source, batch_size=batch_size, tracker=tracker)
    drawer = (
        PoseFrameDrawer(model, kpt_thr, radius, thickness)
        if out_video is not None or show else None)
    writers, video_writer = [], None
    if out_video is not None:
        video_writer = AnnotatedVideoWriter(out_video, frames.fps, drawer)
        writers.append(video_writer)
    if out_json is not None:
        writers.append(
            StreamingJsonWriter(out_json, model.dataset_meta, frames.name,
                                frames.fps))
    window = _Window() if show else None
    stats, num_instances = LatencyStats(), 0
    start = next_status = time.perf_counter()
    try:
        with _GracefulInterrupt(frames, say):
            for prediction in inferencer(frames):
                stats.add(prediction)
                num_instances += len(prediction.instances)
                drawn = video_writer.write(
                    prediction) if video_writer is not None else None
                for writer in writers:
                    if writer is not video_writer:
                        writer.write(prediction)
                if window is not None:
                    window.show(
                        drawn if drawn is not None else drawer.
                        draw(prediction.frame, prediction.instances))
                if status_interval > 0 and time.perf_counter() >= next_status:
                    say(stats.line())
                    next_status = time.perf_counter() + status_interval
    finally:
        # keep what was written, whatever stopped the stream (no frame done: no files)
        for writer in writers:
            if stats.count == 0 or (writer is video_writer
                                    and video_writer.writer is None):
                writer.abort()
            else:
                writer.close()
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
        delay=inferencer.delay,
        stop_reason=getattr(frames, 'stop_reason', None) or 'end of input',
        out_video=osp.abspath(out_video)
        if out_video and video_writer.writer else None,
        out_json=osp.abspath(out_json) if out_json and stats.count else None)
