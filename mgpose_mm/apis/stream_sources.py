"""Live frame sources read with ``cv2.VideoCapture``: a camera index, an
RTSP/HTTP(S) URL, or a video file read as a stream (frame by frame, optionally
paced at its frame rate like a camera).

A live source is read once, in arrival order; it ends cleanly (no exception)
when the capture stops delivering frames (end of a file, a closed stream, a
camera unplugged), when reading raises (the reason is kept in ``stop_reason``
and warned), or when :meth:`CaptureFrames.stop` is called (e.g. from a Ctrl-C
handler). Only a source that delivers no frame at all raises.
"""
import os
import os.path as osp
import re
import time
import warnings
from typing import Callable, Iterator, Optional, Union

import cv2
import numpy as np

from .frame_sources import (DEFAULT_FPS, IMAGE_EXTENSIONS, FrameSource,
                            open_frame_source)

STREAM_URL_SCHEMES = ('rtsp', 'rtsps', 'rtmp', 'http', 'https', 'udp', 'tcp',
                      'srt')
_WEBCAM = re.compile(r'^webcam(?::(\d+))?$')
_URL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*)://')

END_OF_STREAM = 'end of stream'
STOPPED = 'stopped'


def parse_stream_spec(spec: Union[int, str]) -> Union[int, str]:
    """The ``cv2.VideoCapture`` argument of a stream input.

    ``'webcam'`` -> camera 0, ``'webcam:N'`` or ``'N'`` (digits) or an int -> camera N; a URL
    with a streaming scheme (``rtsp://``, ``http(s)://``, ...) or an existing file path -> itself.

    Raises:
        ValueError: a negative camera index or a URL scheme OpenCV does not stream.
        FileNotFoundError: anything else that is not an existing file.
    """
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        index = int(spec)
    elif isinstance(spec, (str, os.PathLike)):
        text = str(spec).strip()
        match = _WEBCAM.match(text.lower())
        if match:
            index = int(match.group(1) or 0)
        elif text.isdigit():
            index = int(text)
        else:
            url = _URL.match(text)
            if url:
                if url.group(1).lower() not in STREAM_URL_SCHEMES:
                    raise ValueError(
                        f'stream URL {text}: scheme {url.group(1)!r} is not one of '
                        f'{", ".join(STREAM_URL_SCHEMES)}')
                return text
            if not osp.isfile(text):
                raise FileNotFoundError(
                    f'stream input not found: {text} (give "webcam", a '
                    'camera index, a stream URL or a video file)')
            return text
    else:
        raise TypeError(
            f'stream input must be a camera index, "webcam", a URL or a video path, '
            f'got {type(spec).__name__}')
    if index < 0:
        raise ValueError(f'camera index must be >= 0, got {index}')
    return index


def is_stream_input(spec) -> bool:
    """True for ``webcam``, ``webcam:N``, a camera index or a stream URL (not
    for file paths)."""
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return True
    if not isinstance(spec, str):
        return False
    text = spec.strip()
    return bool(
        _WEBCAM.match(text.lower()) or text.isdigit() or _URL.match(text))


def stream_output_stem(spec) -> str:
    """A file-name stem for the outputs of a stream: ``webcam0``,
    ``<host>_<path>`` of a URL, or the file's own stem."""
    if isinstance(spec, (str, os.PathLike)) and not is_stream_input(str(spec)):
        return osp.splitext(osp.basename(osp.normpath(str(spec))))[0]
    target = parse_stream_spec(spec)
    if isinstance(target, int):
        return f'webcam{target}'
    if _URL.match(target):
        rest = re.sub(r'^[^:]+://([^@/]*@)?', '',
                      target)  # no scheme, no credentials
        return re.sub(r'[^A-Za-z0-9]+', '_', rest).strip('_')[:80] or 'stream'
    return 'stream'


class CaptureFrames(FrameSource):
    """Frames of a ``cv2.VideoCapture``, read one by one as they arrive (a live
    source).

    The capture is opened at construction (so a wrong camera index or URL fails at once) and
    released when the iteration ends; a live source can be iterated only once.

    Args:
        source: ``'webcam'``, ``'webcam:N'``, a camera index, a stream URL or a video file
            (see :func:`parse_stream_spec`).
        fps (float, optional): frame rate of outputs (and of ``realtime`` pacing); default: the
            capture's own rate, or 25 when it reports none (many webcams and streams).
        realtime (bool): deliver the frames of a file no faster than ``fps``, as a camera would
            (frames are not dropped when the consumer is slower). Defaults to False.
        read_retries (int): consecutive failed reads tolerated before the stream is considered
            ended (network streams drop frames). Defaults to 0.
        max_frames (int, optional): stop after this many frames.
        capture_factory (callable): builds the capture from the parsed source; defaults to
            ``cv2.VideoCapture`` (tests pass a fake).

    Attributes:
        stop_reason (str | None): why the iteration ended: ``'end of stream'``, ``'stopped'``
            (:meth:`stop` or ``max_frames``) or ``'source failed after N frames: ...'``.
        frames_read (int): frames delivered so far.
    """

    def __init__(self,
                 source,
                 fps: Optional[float] = None,
                 realtime: bool = False,
                 read_retries: int = 0,
                 max_frames: Optional[int] = None,
                 capture_factory: Callable = cv2.VideoCapture):
        if read_retries < 0:
            raise ValueError(f'read_retries must be >= 0, got {read_retries}')
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        self.target = parse_stream_spec(source)
        self.is_camera = isinstance(self.target, int)
        self.is_file = not self.is_camera and not _URL.match(self.target)
        self.name = f'camera {self.target}' if self.is_camera else self.target
        self.capture = capture_factory(self.target)
        if not self.capture.isOpened():
            self.capture.release()
            raise IOError(f'cannot open {self.name}' + (
                ' (no camera with this index, or it is in use)' if self.
                is_camera else ' (unreachable, unsupported or not a video)'))
        reported = self.capture.get(cv2.CAP_PROP_FPS)
        if fps is not None:
            self.fps = float(fps)
        elif reported and np.isfinite(reported) and 0 < reported < 1000:
            self.fps = float(reported)
        else:
            self.fps = DEFAULT_FPS
        self.num_frames = None  # live: unknown until the stream ends
        self.realtime, self.read_retries, self.max_frames = realtime, read_retries, max_frames
        self.stop_reason: Optional[str] = None
        self.frames_read = 0
        self._stop_requested = False
        self._consumed = False

    @property
    def completed(self) -> bool:
        """True when a video file was read to its end (every frame of the input
        was seen)."""
        return self.is_file and self.stop_reason == END_OF_STREAM

    def stop(self) -> None:
        """End the stream before the next read (safe to call from a signal
        handler)."""
        self._stop_requested = True

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._consumed:
            raise RuntimeError(
                f'{self.name} is a live source and was already read; open a new '
                'CaptureFrames')
        self._consumed = True
        first_shape, failures, start = None, 0, time.perf_counter()
        try:
            while True:
                if self._stop_requested or self.frames_read == self.max_frames:
                    self.stop_reason = STOPPED
                    break
                try:
                    ok, frame = self.capture.read()
                except (cv2.error, OSError, RuntimeError) as err:
                    self._fail(str(err).strip() or type(err).__name__)
                    break
                if not ok or frame is None:
                    failures += 1
                    if failures <= self.read_retries:
                        continue
                    self.stop_reason = END_OF_STREAM
                    break
                failures = 0
                frame = self._checked(frame, self.frames_read, first_shape)
                first_shape = first_shape or frame.shape
                if self.realtime:
                    wait = start + self.frames_read / self.fps - time.perf_counter(
                    )
                    if wait > 0:
                        time.sleep(wait)
                self.frames_read += 1
                yield frame
        finally:
            self.capture.release()
        if self.frames_read == 0 and self.stop_reason != STOPPED:
            raise IOError(
                f'no frame could be read from {self.name} ({self.stop_reason})'
            )

    def _fail(self, message: str) -> None:
        self.stop_reason = f'source failed after {self.frames_read} frames: {message}'
        if self.frames_read:
            warnings.warn(
                f'{self.name}: {self.stop_reason}; ending the stream there')


def open_stream_source(source,
                       fps: Optional[float] = None,
                       **capture_kwargs) -> FrameSource:
    """A frame source read as a live stream.

    A :class:`FrameSource` is used as is; ``'webcam'``, a camera index, a
    stream URL or a video file becomes a :class:`CaptureFrames`
    (``capture_kwargs`` go to it); a folder of frames, a list of arrays or any
    iterable of HxWx3 BGR arrays (e.g. a generator fed by your own camera code)
    is read frame by frame through :func:`open_frame_source`.
    """
    if isinstance(source, FrameSource):
        if fps is not None:
            source.fps = float(fps)
        return source
    is_video_file = (
        isinstance(source, (str, os.PathLike)) and osp.isfile(str(source))
        and not str(source).lower().endswith(IMAGE_EXTENSIONS))
    is_capture = is_stream_input(source) or is_video_file
    if is_capture:
        return CaptureFrames(source, fps=fps, **capture_kwargs)
    if capture_kwargs:
        raise ValueError(
            f'{sorted(capture_kwargs)} apply to cameras, URLs and video files only'
        )
    return open_frame_source(source, fps=fps)
