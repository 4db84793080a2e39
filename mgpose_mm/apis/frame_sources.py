"""Frame sources: a video file, a folder of frames, images or arrays, and live
sources (a camera, a stream URL, a video file read as a stream).

Every source yields (H, W, 3) BGR uint8 frames of one size in time order, one
at a time (a video is decoded while it is consumed), and knows its ``fps`` and
a ``frame_name`` per index (the clip's ``frame_paths`` meta). A live source
(:class:`CaptureFrames`) ends cleanly when the capture stops delivering frames,
when reading raises (warned, reason in ``stop_reason``) or on
:meth:`CaptureFrames.stop` (Ctrl-C, :class:`StopOnInterrupt`); only a source
that delivers no frame at all raises.
"""
import os
import os.path as osp
import re
import signal
import threading
import time
import warnings
from typing import Callable, Iterable, Iterator, List, Optional, Union

import cv2
import mmcv
import numpy as np
from mmengine.utils import scandir

from mgpose_mm.errors import InputDataError, InputFileError
from mgpose_mm.utils import frame_number

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
DEFAULT_FPS = 25.0
_WEBCAM = re.compile(r'^webcam(?::(\d+))?$')
_URL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*)://')


class FrameSource:
    """Base class: iterating checks and yields the frames of :meth:`read`.

    Attributes:
        name (str): the input, for messages and output names.
        fps (float): frames per second of an output video.
        num_frames (int | None): frame count when known before reading.
        paths (list[str] | None): the frame files, when frames are files.
    """

    name: str = ''
    fps: float = DEFAULT_FPS
    num_frames: Optional[int] = None
    paths: Optional[List[str]] = None

    def __iter__(self) -> Iterator[np.ndarray]:
        first_shape = None
        for index, frame in enumerate(self.read()):
            if not isinstance(frame, np.ndarray) or frame.ndim != 3 or \
                    frame.shape[2] != 3:
                shape = getattr(frame, 'shape', type(frame).__name__)
                raise ValueError(f'frame {index} of {self.name} is not an '
                                 f'HxWx3 BGR image (got {shape})')
            first_shape = first_shape or frame.shape
            if frame.shape != first_shape:
                raise InputDataError(
                    f'frame {index} of {self.name} ({self.frame_name(index)}) '
                    f'has shape {frame.shape}, the first frame has '
                    f'{first_shape}; all frames of a video must share one '
                    'size')
            yield frame if frame.dtype == np.uint8 else np.clip(
                frame, 0, 255).astype(np.uint8)

    def read(self) -> Iterable[np.ndarray]:
        """The raw frames; :meth:`__iter__` checks them."""
        raise NotImplementedError

    def frame_name(self, index: int) -> str:
        """Frame ``index``'s file path, else ``<name>#<index>``."""
        return self.paths[index] if self.paths else f'{self.name}#{index:06d}'

    def frame_numbers(self) -> Optional[List[Optional[int]]]:
        """Per frame file, the number at the end of its name (None for a name
        without one); None when frames are not files (known by position)."""
        return [frame_number(p) for p in self.paths] if self.paths else None


class ImageFrames(FrameSource):
    """Frames from image files (read lazily), (H, W, 3) BGR arrays or a
    :class:`mmcv.VideoReader` (decoded one by one).

    Args:
        items (Iterable): image file paths, arrays or a video, in time order.
        name (str): the input, for messages and outputs.
    """

    def __init__(self, items: Iterable, name: str = 'frames'):
        self.items, self.name = items, name
        if isinstance(items, mmcv.VideoReader):
            if not items.opened or items.read() is None:
                raise InputFileError(f'video file {name} cannot be opened or '
                                     'has no decodable frame (corrupt?)')
            self.fps = items.fps if 0 < items.fps < 1000 else DEFAULT_FPS
            self.num_frames = items.frame_cnt or None
        elif hasattr(items, '__len__'):
            self.num_frames = len(items)
        if self.num_frames == 0:
            raise ValueError(f'{name}: no frames')
        if isinstance(items, (list, tuple)) and all(
                isinstance(p, (str, os.PathLike)) for p in items):
            self.paths = [str(p) for p in items]

    def read(self) -> Iterator[np.ndarray]:
        count = 0
        for count, item in enumerate(self.paths or self.items, 1):
            frame = cv2.imread(item) if self.paths else item
            if frame is None:
                raise InputFileError(f'cannot read image file {item}')
            yield frame
        if not count:
            raise ValueError(f'{self.name}: no frames')


def stream_target(spec) -> Union[int, str, None]:
    """The ``cv2.VideoCapture`` argument of a live input: the camera index of
    ``'webcam'``, ``'webcam:N'``, ``'N'`` or N, a stream URL itself; None for
    anything else (a file, frames)."""
    if isinstance(spec, bool) or not isinstance(spec, (int, np.integer, str)):
        return None
    text = str(spec).strip()
    match = _WEBCAM.match(text.lower())
    if match or text.lstrip('-').isdigit():
        index = int(match.group(1) or 0) if match else int(text)
        if index < 0:
            raise InputDataError(f'camera index must be >= 0, got {index}')
        return index
    return text if _URL.match(text) else None


def output_stem(inputs) -> str:
    """The file-name stem of an input's outputs: ``webcam0``, the host and path
    of a URL (without credentials), a file's or folder's name without
    extension, else ``frames``."""
    target = stream_target(inputs)
    if isinstance(target, int):
        return f'webcam{target}'
    if target is not None:
        rest = re.sub(r'^[^:]+://([^@/]*@)?', '', target)
        return re.sub(r'[^A-Za-z0-9]+', '_', rest).strip('_')[:80] or 'stream'
    if isinstance(inputs, (str, os.PathLike)):
        return osp.splitext(osp.basename(osp.normpath(str(inputs))))[0]
    return 'frames'


def open_input(source,
               stream: bool = False,
               fps: Optional[float] = None,
               **live_kwargs) -> FrameSource:
    """The :class:`FrameSource` of an input: a :class:`CaptureFrames` for a
    camera, a stream URL or, with ``stream``, a video file (``live_kwargs``:
    its ``realtime``, ``max_frames``, ``read_retries``); else the frames of a
    video file, a folder of frames (image files in natural order of their
    names), an image file, a list of image files or (H, W, 3) BGR arrays, any
    iterable of arrays or a source itself.

    Args:
        fps (float, optional): overrides the frame rate (default: the video's,
            else 25).
    """
    video_file = isinstance(source, (str, os.PathLike)) and osp.isfile(
        source) and not str(source).lower().endswith(IMAGE_EXTENSIONS)
    if stream_target(source) is not None or stream and video_file:
        return CaptureFrames(source, fps, **live_kwargs)
    if any(live_kwargs.values()):
        raise ValueError(f'{sorted(live_kwargs)} apply to cameras, URLs and '
                         'video files read with stream=True')
    if isinstance(source, FrameSource):
        frames = source
    elif isinstance(source, (str, os.PathLike)):
        path = str(source)
        if osp.isdir(path):
            names = sorted(
                scandir(path, IMAGE_EXTENSIONS, case_sensitive=False),
                key=lambda n:
                [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', n)])
            if not names:
                raise InputDataError(f'input folder {path} holds no image '
                                     f'file ({", ".join(IMAGE_EXTENSIONS)})')
            frames = ImageFrames([osp.join(path, n) for n in names], path)
        elif not osp.exists(path):
            raise FileNotFoundError(f'input not found: {path}')
        elif path.lower().endswith(IMAGE_EXTENSIONS):
            frames = ImageFrames([path], path)
        else:
            frames = ImageFrames(
                mmcv.VideoReader(path, cache_capacity=1), path)
    elif isinstance(source, np.ndarray) and source.ndim == 3:
        frames = ImageFrames([source], 'image')
    elif hasattr(source, '__iter__'):
        missing = [
            p for p in source
            if isinstance(p, (str, os.PathLike)) and not osp.isfile(p)
        ] if isinstance(source, (list, tuple)) else []
        if missing:
            raise FileNotFoundError(
                f'input image(s) not found: {", ".join(map(str, missing[:3]))}'
            )
        frames = ImageFrames(source, 'frames')
    else:
        raise TypeError('input must be a video/folder/image path, a list of '
                        'HxWx3 arrays or a FrameSource, got '
                        f'{type(source).__name__}')
    if fps is not None:
        frames.fps = float(fps)
    return frames


class CaptureFrames(FrameSource):
    """Frames of a ``cv2.VideoCapture`` (opened at once, released at the end),
    read one by one as they arrive.

    Args:
        source: a camera or stream URL (:func:`stream_target`) or a video
            file.
        fps (float, optional): frame rate of outputs and of ``realtime``
            pacing. Defaults to the capture's rate, or 25 if it has none.
        realtime (bool): deliver a file's frames no faster than ``fps``, as a
            camera would. Defaults to False.
        read_retries (int): consecutive failed reads tolerated before the
            stream ends (network streams drop frames). Defaults to 0.
        max_frames (int, optional): stop after this many frames.
        capture_factory (callable, optional): Defaults to
            ``cv2.VideoCapture``.

    Attributes:
        stop_reason (str | None): ``'end of stream'``, ``'stopped'``
            (:meth:`stop` or ``max_frames``) or ``'source failed after N
            frames: ...'``.
        frames_read (int): frames delivered so far.
        completed (bool): a video file was read to its end.
    """

    def __init__(self,
                 source,
                 fps: Optional[float] = None,
                 realtime: bool = False,
                 read_retries: int = 0,
                 max_frames: Optional[int] = None,
                 capture_factory: Optional[Callable] = None):
        if read_retries < 0 or (max_frames is not None and max_frames < 1):
            raise ValueError('read_retries must be >= 0 and max_frames >= 1, '
                             f'got {read_retries} and {max_frames}')
        target = stream_target(source)
        self.is_file = target is None
        if self.is_file and not osp.isfile(str(source)):
            raise FileNotFoundError(
                f'stream input not found: {source} (give "webcam", a camera '
                'index, a stream URL or a video file)')
        target = str(source).strip() if self.is_file else target
        self.name = f'camera {target}' if isinstance(target, int) else target
        self.capture = (capture_factory or cv2.VideoCapture)(target)
        if not self.capture.isOpened():
            self.capture.release()
            raise IOError(f'cannot open {self.name}' +
                          (' (no camera with this index, or it is in use)'
                           if isinstance(target, int) else
                           ' (unreachable, unsupported or not a video)'))
        reported = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(
            fps or (reported if 0 < reported < 1000 else DEFAULT_FPS))
        self.realtime, self.max_frames = realtime, max_frames
        self.read_retries = read_retries
        self.stop_reason: Optional[str] = None
        self.frames_read = 0
        self._stop_requested = False

    @property
    def completed(self) -> bool:
        return self.is_file and self.stop_reason == 'end of stream'

    def stop(self) -> None:
        """End the stream before the next read (safe in a signal handler)."""
        self._stop_requested = True

    def read(self) -> Iterator[np.ndarray]:
        if self.stop_reason is not None:
            raise RuntimeError(f'{self.name} is a live source and was already '
                               'read; open a new CaptureFrames')
        failures, start = 0, time.perf_counter()
        try:
            while self.stop_reason is None:
                if self._stop_requested or self.frames_read == self.max_frames:
                    self.stop_reason = 'stopped'
                    break
                try:
                    ok, frame = self.capture.read()
                except (cv2.error, OSError, RuntimeError) as error:
                    self.stop_reason = (
                        f'source failed after {self.frames_read} frames: '
                        f'{str(error).strip() or type(error).__name__}')
                    if self.frames_read:
                        warnings.warn(f'{self.name}: {self.stop_reason}; '
                                      'ending the stream there')
                    break
                if not ok or frame is None:
                    failures += 1
                    if failures > self.read_retries:
                        self.stop_reason = 'end of stream'
                    continue
                failures = 0
                if self.realtime:
                    time.sleep(
                        max(
                            0, start + self.frames_read / self.fps -
                            time.perf_counter()))
                self.frames_read += 1
                yield frame
        finally:
            self.capture.release()
        if self.frames_read == 0 and self.stop_reason != 'stopped':
            raise IOError(f'no frame could be read from {self.name} '
                          f'({self.stop_reason})')


class StopOnInterrupt:
    """First Ctrl-C: ask the live source to stop (the frames read are finished
    and written); a second one raises ``KeyboardInterrupt``."""

    def __init__(self, frames, say: Callable[[str], None] = print):
        self.frames, self.say, self.previous = frames, say, None
        self.active = hasattr(frames, 'stop') and \
            threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGINT, self._handle) or \
                signal.default_int_handler
        return self

    def _handle(self, signum, frame):
        signal.signal(signal.SIGINT, self.previous)
        self.say('stopping: finishing the frames already read (Ctrl-C again '
                 'to stop at once)')
        self.frames.stop()

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False
