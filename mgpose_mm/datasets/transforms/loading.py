"""Loading the T frames of a clip."""
import warnings
from typing import Dict, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmpose.registry import TRANSFORMS

from mgpose_mm.errors import ConfigValueError

MISSING_SUPPORT_FRAME_MODES = ('error', 'repeat_key')


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Read the frames of a clip (MMPose's ``LoadImage`` takes one path).

    Required Keys:

        - frame_paths (list[str]): the T frame paths, ordered by time
        - key_frame_index (int): index of the key frame in ``frame_paths``
        - img (optional): a list of T already-decoded frames (inference);
          then nothing is read

    Added / Modified Keys:

        - img (list[np.ndarray]): T arrays (H, W, 3), BGR, uint8 (float32
          with ``to_float32``)
        - img_shape, ori_shape (tuple): (H, W) of the key frame
        - img_path (str): the key frame path

    All frames must have the key frame's size: the stock MMPose transforms
    then crop, flip and rotate every frame of the list identically.

    Args:
        to_float32 (bool): convert frames to float32. Defaults to False.
        color_type (str): ``flag`` of :func:`mmcv.imfrombytes`.
            Defaults to ``'color'``.
        imdecode_backend (str): decoding backend of :func:`mmcv.imfrombytes`.
            Defaults to ``'cv2'``.
        backend_args (dict, optional): file backend arguments of
            :func:`mmengine.fileio.get`. Defaults to None.
        missing_support_frame (str): what to do when a supporting (non-key)
            frame file does not exist: ``'error'`` raises
            ``FileNotFoundError``; ``'repeat_key'`` uses the key frame in its
            place and warns (for data shipping only annotated frames). A
            missing key frame and an undecodable file always raise.
            Defaults to ``'error'``.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None,
                 missing_support_frame: str = 'error') -> None:
        if missing_support_frame not in MISSING_SUPPORT_FRAME_MODES:
            raise ConfigValueError('missing_support_frame must be one of '
                                   f'{MISSING_SUPPORT_FRAME_MODES}, '
                                   f'got {missing_support_frame!r}')
        self.to_float32 = to_float32
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self.missing_support_frame = missing_support_frame

    def _read(self, path: str) -> np.ndarray:
        """Decode one frame; errors name the file."""
        try:
            content = get(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'frame file not found: {path}') from err
        try:
            img = mmcv.imfrombytes(
                content, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as err:
            raise IOError(f'cannot decode frame file: {path} ({err})') from err
        if img is None:
            raise IOError(f'cannot decode frame file: {path}')
        return img

    def _read_clip(self, frame_paths, key_frame_index: int) -> list:
        key_path = frame_paths[key_frame_index]
        decoded: Dict[str, np.ndarray] = {key_path: self._read(key_path)}
        frames = []
        for path in frame_paths:
            if path not in decoded:
                try:
                    decoded[path] = self._read(path)
                except FileNotFoundError:
                    if self.missing_support_frame == 'error':
                        raise
                    warnings.warn(f'supporting frame {path} not found: '
                                  f'using the key frame {key_path}')
                    decoded[path] = decoded[key_path]
            frames.append(decoded[path].copy())
        return frames

    def transform(self, results: dict) -> dict:
        """Read ``results['frame_paths']`` into ``results['img']``."""
        for key in ('frame_paths', 'key_frame_index'):
            if key not in results:
                raise ConfigValueError(
                    f'LoadVideoFrames needs results[{key!r}]; use a video '
                    'dataset such as PoseTrackVideoDataset')
        frame_paths = list(results['frame_paths'])
        key_frame_index = int(results['key_frame_index'])
        if not 0 <= key_frame_index < len(frame_paths):
            raise IndexError(f'key_frame_index {key_frame_index} is outside '
                             f'the {len(frame_paths)} frame_paths')

        if isinstance(results.get('img'), (list, tuple)):
            frames = list(results['img'])
        else:
            frames = self._read_clip(frame_paths, key_frame_index)
        if len(frames) != len(frame_paths):
            raise ValueError(f'{len(frames)} frames for {len(frame_paths)} '
                             'frame_paths')
        key_shape = frames[key_frame_index].shape
        for path, frame in zip(frame_paths, frames):
            if frame.shape != key_shape:
                raise ValueError(
                    f'frame {path} has shape {frame.shape}, the key frame '
                    f'{frame_paths[key_frame_index]} has {key_shape}')
        if self.to_float32:
            frames = [frame.astype(np.float32) for frame in frames]

        results['img'] = frames
        results['img_path'] = frame_paths[key_frame_index]
        results['img_shape'] = key_shape[:2]
        results['ori_shape'] = key_shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"color_type='{self.color_type}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args}, '
                f"missing_support_frame='{self.missing_support_frame}')")
