"""Frame sources: a video file, a folder of frames, images or arrays, and live
sources (a camera, a stream URL, a video file read as a stream).

Every source yields HxWx3 BGR uint8 frames in time order, one at a time (a
video is decoded while it is consumed, never held fully in memory), and knows
its ``fps`` and a ``frame_name`` per index (the clip's ``frame_paths`` meta).
All frames of a source must share one size.

A live source (:class:`CaptureFrames`, ``cv2.VideoCapture``) is read once, in
arrival order; it ends cleanly (no exception) when the capture stops delivering
frames (end of a file, a closed stream, a camera unplugged), when reading
raises (the reason is kept in ``stop_reason`` and warned), or when
:meth:`CaptureFrames.stop` is called (e.g. from a Ctrl-C handler). Only a
source that delivers no frame at all raises.
"""
import mimetypes
import os
import os.path as osp
import re
import signal
import threading
import time
import warnings
from typing import Callable, Iterator, List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
from mmengine.utils import scandir

from mgpose_mm.errors import InputDataError, InputFileError
from mgpose_mm.utils import frame_number

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
DEFAULT_FPS = 25.0


def _natural_key(name: str):
    """Sort key putting ``frame_2.jpg`` before ``frame_10.jpg``."""
    return [
        int(part) if part.isdigit() else part
        for part in re.split(r'(\d+)', name)
    ]


class FrameSource:
    """Base class: iterate to get the frames (H, W, 3) BGR uint8 in time order.

    Attributes:
        name (str): the input (path or description), used in messages and
            outputs.
        fps (float): frames per second for an output video.
        num_frames (int | None): frame count when known before reading (a
            video's container count is only an estimate; the frames actually
            decoded are authoritative).
    """

    name: str = ''
    fps: float = DEFAULT_FPS
    num_frames: Optional[int] = None

    def __iter__(self) -> Iterator[np.ndarray]:
        raise TypeError(f'{type(self).__name__} does not implement __iter__')

    def frame_name(self, index: int) -> str:
        """An identifier of frame ``index`` (a file path where there is
        one)."""
        return f'{self.name}#{index:06d}'

    def frame_numbers(self) -> Optional[List[Optional[int]]]:
        """Per frame, the number at the end of its file name (None for a name
        without one); None when the frames have no file names (video, arrays):

        they are known by position.
        """
        return None

    def _checked(self, frame, index: int, first_shape) -> np.ndarray:
        if not isinstance(
                frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
            shape = getattr(frame, 'shape', type(frame).__name__)
            raise ValueError(
                f'frame {index} of {self.name} is not an HxWx3 BGR image '
                f'(got {shape})')
        if first_shape is not None and frame.shape != first_shape:
            raise InputDataError(
                f'frame {index} of {self.name} ({self.frame_name(index)}) has '
                'shape '
                f'{frame.shape}, the first frame has {first_shape}; all '
                'frames of a video must '
                'share one size')
        return frame if frame.dtype == np.uint8 else np.clip(
            frame, 0, 255).astype(np.uint8)


class VideoFileFrames(FrameSource):
    """Frames decoded one by one from a video file with
    :class:`mmcv.VideoReader` (OpenCV).

    Raises ``FileNotFoundError`` for a missing file and ``IOError`` naming the
    file when it cannot be opened or decodes to no frame (empty or corrupt
    video).
    """

    def __init__(self, path: str):
        if not osp.isfile(path):
            raise FileNotFoundError(f'input video not found: {path}')
        self.name = path
        with self._open() as video:
            if video.read() is None:
                raise InputFileError(
                    f'video file {path} has no decodable frame (empty or '
                    'corrupt)')
            fps, count = video.fps, video.frame_cnt
        self.fps = float(
            fps) if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.num_frames = count if count > 0 else None

    def _open(self) -> mmcv.VideoReader:
        # cache_capacity=1: frames are read once, in order
        video = mmcv.VideoReader(self.name, cache_capacity=1)
        if not video.opened:
            raise InputFileError(
                f'cannot open video file {self.name} (unreadable or not a '
                'video)')
        return video

    def __iter__(self) -> Iterator[np.ndarray]:
        first_shape = None
        index = -1
        with self._open() as video:
            for index, frame in enumerate(video):
                frame = self._checked(frame, index, first_shape)
                first_shape = first_shape or frame.shape
                yield frame
        if index < 0:
            raise InputFileError(
                f'video file {self.name} has no decodable frame (empty or '
                'corrupt)')


class ImageFileFrames(FrameSource):
    """Frames read lazily from a list of image files (a folder of frames or one
    image)."""

    def __init__(self,
                 paths: Sequence[str],
                 name: str,
                 fps: float = DEFAULT_FPS):
        if not paths:
            raise ValueError(f'no image files for {name}')
        self.paths: List[str] = list(paths)
        self.name = name
        self.fps = float(fps)
        self.num_frames = len(self.paths)

    def frame_name(self, index: int) -> str:
        return self.paths[index]

    def frame_numbers(self) -> List[Optional[int]]:
        return [frame_number(path) for path in self.paths]

    def __iter__(self) -> Iterator[np.ndarray]:
        first_shape = None
        for index, path in enumerate(self.paths):
            frame = cv2.imread(path, cv2.IMREAD_COLOR)
            if frame is None:
                raise InputFileError(f'cannot read image file {path}')
            frame = self._checked(frame, index, first_shape)
            first_shape = first_shape or frame.shape
            yield frame


class ArrayFrames(FrameSource):
    """Frames given as a sequence (or iterable) of HxWx3 BGR arrays."""

    def __init__(self, frames, fps: float = DEFAULT_FPS, name: str = 'frames'):
        self.frames = frames
        self.name = name
        self.fps = float(fps)
        self.num_frames = len(frames) if hasattr(frames, '__len__') else None
        if self.num_frames == 0:
            raise ValueError(f'{name}: the list of frames is empty')

    def __iter__(self) -> Iterator[np.ndarray]:
        first_shape = None
        count = 0
        for index, frame in enumerate(self.frames):
            frame = self._checked(frame, index, first_shape)
            first_shape = first_shape or frame.shape
            count += 1
            yield frame
        if count == 0:
            raise ValueError(f'{self.name}: no frames')


def image_files_in(folder: str) -> List[str]:
    """Image files of ``folder`` (by extension, any case; hidden ``.name``
    files skipped), in natural sort order of their names."""
    names = scandir(folder, suffix=IMAGE_EXTENSIONS, case_sensitive=False)
    return [osp.join(folder, name) for name in sorted(names, key=_natural_key)]


def open_frame_source(source, fps: Optional[float] = None) -> FrameSource:
    """A :class:`FrameSource` for a video file, a folder of frames, an image
    file, a list of arrays or an existing source.

    Args:
        source: path (video file, folder with image files, image file), a list
            of image file paths (frames in the given order), a sequence of
            HxWx3 BGR arrays, or a :class:`FrameSource`.
        fps (float, optional): frame rate for folders, images and arrays
            (default 25); for a video it overrides the container's rate.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the folder holds no image file.
        IOError: the video cannot be opened or decodes to no frame.
    """
    if isinstance(source, FrameSource):
        frames = source
    elif isinstance(source, (str, os.PathLike)):
        path = str(source)
        if osp.isdir(path):
            files = image_files_in(path)
            if not files:
                raise InputDataError(
                    f'input folder {path} holds no image file '
                    f'({", ".join(IMAGE_EXTENSIONS)})')
            frames = ImageFileFrames(files, name=path)
        elif not osp.exists(path):
            raise FileNotFoundError(f'input not found: {path}')
        elif path.lower().endswith(IMAGE_EXTENSIONS) or \
                (mimetypes.guess_type(path)[0] or '').startswith('image'):
            frames = ImageFileFrames([path], name=path)
        else:
            frames = VideoFileFrames(path)
    elif isinstance(source, (list, tuple)) and source and \
            all(isinstance(item, (str, os.PathLike)) for item in source):
        paths = [str(item) for item in source]
        missing = [path for path in paths if not osp.isfile(path)]
        if missing:
            raise FileNotFoundError(
                f'input image(s) not found: {", ".join(missing[:3])}')
        frames = ImageFileFrames(paths, name='image list')
    elif isinstance(source, np.ndarray) and source.ndim == 3:
        frames = ArrayFrames([source], name='image')
    elif isinstance(source, np.ndarray) and source.ndim == 4 or hasattr(
            source, '__iter__'):
        frames = ArrayFrames(source)
    else:
        raise TypeError(
            'input must be a video/folder/image path, a list of HxWx3 arrays '
            'or a '
            f'FrameSource, got {type(source).__name__}')
    if fps is not None:
        frames.fps = float(fps)
    return frames


STREAM_URL_SCHEMES = ('rtsp', 'rtsps', 'rtmp', 'http', 'https', 'udp', 'tcp',
                      'srt')
_WEBCAM = re.compile(r'^webcam(?::(\d+))?$')
_URL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*)://')

END_OF_STREAM = 'end of stream'
STOPPED = 'stopped'


def parse_stream_spec(spec: Union[int, str]) -> Union[int, str]:
    """The ``cv2.VideoCapture`` argument of a stream input.

    ``'webcam'`` -> camera 0, ``'webcam:N'`` or ``'N'`` (digits) or an int ->
    camera N; a URL with a streaming scheme (``rtsp://``, ``http(s)://``, ...)
    or an existing file path -> itself.

    Raises:
        ValueError: a negative camera index or a URL scheme OpenCV does not
            stream.
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
                        f'stream URL {text}: scheme {url.group(1)!r} is not '
                        'one of '
                        f'{", ".join(STREAM_URL_SCHEMES)}')
                return text
            if not osp.isfile(text):
                raise FileNotFoundError(
                    f'stream input not found: {text} (give "webcam", a '
                    'camera index, a stream URL or a video file)')
            return text
    else:
        raise TypeError(
            'stream input must be a camera index, "webcam", a URL or a video '
            'path, '
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

    The capture is opened at construction (so a wrong camera index or URL fails
    at once) and released when the iteration ends; a live source can be
    iterated only once.

    Args:
        source: ``'webcam'``, ``'webcam:N'``, a camera index, a stream URL or a
            video file (see :func:`parse_stream_spec`).
        fps (float, optional): frame rate of outputs (and of ``realtime``
            pacing); default: the capture's own rate, or 25 when it reports
            none (many webcams and streams).
        realtime (bool): deliver the frames of a file no faster than ``fps``,
            as a camera would (frames are not dropped when the consumer is
            slower). Defaults to False.
        read_retries (int): consecutive failed reads tolerated before the
            stream is considered ended (network streams drop frames). Defaults
            to 0.
        max_frames (int, optional): stop after this many frames.
        capture_factory (callable, optional): builds the capture from the
            parsed source; defaults to ``cv2.VideoCapture``.

    Attributes:
        stop_reason (str | None): why the iteration ended: ``'end of stream'``,
            ``'stopped'`` (:meth:`stop` or ``max_frames``) or ``'source failed
            after N frames: ...'``.
        frames_read (int): frames delivered so far.
    """

    def __init__(self,
                 source,
                 fps: Optional[float] = None,
                 realtime: bool = False,
                 read_retries: int = 0,
                 max_frames: Optional[int] = None,
                 capture_factory: Optional[Callable] = None):
        if read_retries < 0:
            raise ValueError(f'read_retries must be >= 0, got {read_retries}')
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        self.target = parse_stream_spec(source)
        self.is_camera = isinstance(self.target, int)
        self.is_file = not self.is_camera and not _URL.match(self.target)
        self.name = f'camera {self.target}' if self.is_camera else self.target
        self.capture = (capture_factory or cv2.VideoCapture)(self.target)
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
        self.realtime, self.max_frames = realtime, max_frames
        self.read_retries = read_retries
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
                f'{self.name} is a live source and was already read; open a '
                'new '
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
                    due = start + self.frames_read / self.fps
                    wait = due - time.perf_counter()
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
        self.stop_reason = (f'source failed after {self.frames_read} '
                            f'frames: {message}')
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
            f'{sorted(capture_kwargs)} apply to cameras, URLs and video files '
            'only')
    return open_frame_source(source, fps=fps)


class StopOnInterrupt:
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
            # None: a handler installed outside Python; Ctrl-C then falls back
            # to Python's
            self.previous = signal.default_int_handler \
                if previous is None else previous
        return self

    def _handle(self, signum, frame):
        signal.signal(signal.SIGINT, self.previous)
        self.say(
            'stopping: finishing the frames already read (Ctrl-C again to '
            'stop at once)')
        self.frames.stop()

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False
