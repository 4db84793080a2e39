"""Outputs of video pose inference: the predictions JSON, the drawn video or
image and latency statistics.

Files are written to a temporary file next to their path and renamed into place
by ``close()`` (:class:`~mgpose_mm.utils.AtomicFile`); ``abort()`` removes the
temporary file, so a failed run never replaces or truncates an existing output.
"""
import json
from collections import deque
from typing import Dict, List, Optional

import cv2
import numpy as np

from ..utils import AtomicFile
from .clips import FramePoses
from .frame_sources import IMAGE_EXTENSIONS


class PredictionJsonWriter:
    """The predictions JSON, in the layout MMPose's inferencers write to
    ``pred_out_dir`` for a video, written frame by frame (bounded memory)::

        [{"frame_id": 0, "instances": [{"keypoints": [[x, y]] * K,
          "keypoint_scores": [K], "bbox": [[x1, y1, x2, y2]],
          "bbox_score": s, "track_id": i}, ...]}, ...]

    One entry per frame (``[]`` where nobody was found), in input pixels.
    """

    def __init__(self, path: str):
        self.path, self.file = path, AtomicFile(path)
        self.handle = open(self.file.tmp_path, 'w')
        self.handle.write('[')
        self.count = 0

    def write(self, frame_index: int, instances: List[Dict]) -> None:
        self.handle.write(', ' if self.count else '')
        json.dump(dict(frame_id=frame_index, instances=instances), self.handle)
        self.count += 1

    def close(self) -> None:
        self.handle.write(']')
        self.handle.close()
        self.file.commit()

    def abort(self) -> None:
        self.handle.close()
        self.file.discard()


class DrawnFramesWriter:
    """The drawn frames as an mp4 (``mp4v``) at ``fps``, or as one image when
    ``path`` has an image extension (a one-image input)."""

    def __init__(self, path: str, fps: float):
        self.path, self.file, self.fps = path, AtomicFile(path), fps
        self.is_image = path.lower().endswith(IMAGE_EXTENSIONS)
        self.writer = self.image = None

    def write(self, drawn: np.ndarray) -> None:
        """Append a drawn (H, W, 3) BGR frame."""
        if self.is_image:
            self.image = drawn
            return
        if self.writer is None:
            self.writer = cv2.VideoWriter(self.file.tmp_path,
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, drawn.shape[1::-1])
            if not self.writer.isOpened():
                raise IOError(f'cannot open a video writer for {self.path}')
        self.writer.write(drawn)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
        elif self.image is None or not cv2.imwrite(self.file.tmp_path,
                                                   self.image):
            raise IOError(f'nothing could be written to {self.path}')
        self.file.commit()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.release()
        self.file.discard()


class LatencyStats:
    """Per-frame latency (median, 95th percentile) over the last ``window``
    frames and the frame rate of the whole input, in bounded memory.

    Args:
        window (int): frames the percentiles are taken over. Defaults to
            10000.
    """

    def __init__(self, window: int = 10000):
        self.latencies: deque = deque(maxlen=window)
        self.count = 0
        self.first_arrival: Optional[float] = None
        self.last_emit: Optional[float] = None

    def add(self, poses: FramePoses) -> None:
        self.latencies.append(poses.latency)
        self.count += 1
        if self.first_arrival is None:
            self.first_arrival = poses.arrived_at
        self.last_emit = poses.emitted_at

    def summary(self) -> Dict[str, float]:
        """``frames``, ``latency_median_ms``, ``latency_p95_ms`` and ``fps``
        (frames per second from the first arrival to the last result; NaN
        before any frame)."""
        nan = float('nan')
        if not self.count:
            return dict(
                frames=0, latency_median_ms=nan, latency_p95_ms=nan, fps=nan)
        latencies = np.asarray(self.latencies) * 1000.0
        elapsed = self.last_emit - self.first_arrival
        return dict(
            frames=self.count,
            latency_median_ms=float(np.median(latencies)),
            latency_p95_ms=float(np.percentile(latencies, 95)),
            fps=self.count / elapsed if elapsed > 0 else nan)

    def line(self) -> str:
        """``N frames | latency median M ms, p95 P ms | F fps``."""
        s = self.summary()
        return (f'{s["frames"]} frames | latency median '
                f'{s["latency_median_ms"]:.1f} ms, p95 '
                f'{s["latency_p95_ms"]:.1f} ms | {s["fps"]:.2f} fps')
