"""Frame sources for video inference: a video file, a folder of frames, one
image or arrays.

Every source yields HxWx3 BGR uint8 frames in time order, one at a time (a
video is decoded while it is consumed, never held fully in memory), and knows
its ``fps`` and a ``frame_name`` per index (the clip's ``frame_paths`` meta).
All frames of a source must share one size.
"""
import mimetypes
import os
import os.path as osp
import re
from typing import Iterator, List, Optional, Sequence

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
        name (str): the input (path or description), used in messages and outputs.
        fps (float): frames per second for an output video.
        num_frames (int | None): frame count when known before reading (a video's container
            count is only an estimate; the frames actually decoded are authoritative).
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
                f'frame {index} of {self.name} ({self.frame_name(index)}) has shape '
                f'{frame.shape}, the first frame has {first_shape}; all frames of a video must '
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
                    f'video file {path} has no decodable frame (empty or corrupt)'
                )
            fps, count = video.fps, video.frame_cnt
        self.fps = float(
            fps) if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.num_frames = count if count > 0 else None

    def _open(self) -> mmcv.VideoReader:
        # cache_capacity=1: frames are read once, in order
        video = mmcv.VideoReader(self.name, cache_capacity=1)
        if not video.opened:
            raise InputFileError(
                f'cannot open video file {self.name} (unreadable or not a video)'
            )
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
                f'video file {self.name} has no decodable frame (empty or corrupt)'
            )


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
        source: path (video file, folder with image files, image file), a list of image file
            paths (frames in the given order), a sequence of HxWx3 BGR arrays, or a
            :class:`FrameSource`.
        fps (float, optional): frame rate for folders, images and arrays (default 25); for a video
            it overrides the container's rate.

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
            'input must be a video/folder/image path, a list of HxWx3 arrays or a '
            f'FrameSource, got {type(source).__name__}')
    if fps is not None:
        frames.fps = float(fps)
    return frames
