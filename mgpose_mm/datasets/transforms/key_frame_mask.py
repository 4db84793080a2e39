"""Training augmentation that hides a joint in the key frame only (a reason to
use the neighbours)."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from mgpose_mm.errors import ConfigValueError


@TRANSFORMS.register_module()
class RandomKeyFrameMask(BaseTransform):
    """With probability ``prob``, cover a square around one random visible
    joint of the key frame.

    The supporting frames and the targets are unchanged, so the hidden joint
    can only be recovered from the neighbouring frames (or from the body around
    it). Use it after ``TopdownAffine`` (coordinates in input pixels) and
    before ``GenerateTarget``.

    Required keys: ``img`` (list of T frames (H, W, C)), ``key_frame_index``,
    ``transformed_keypoints`` (1, K, 2), ``keypoints_visible`` (1, K). Modified
    key: ``img``.

    Args:
        prob (float): probability to mask a sample. Defaults to 0.5.
        size (float): side of the square as a fraction of the input height.
            Defaults to 0.3.
    """

    def __init__(self, prob: float = 0.5, size: float = 0.3) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ConfigValueError(
                f'RandomKeyFrameMask: prob must be in [0, 1], got {prob}')
        if not 0.0 < size <= 1.0:
            raise ConfigValueError(
                f'RandomKeyFrameMask: size must be in (0, 1], got {size}')
        self.prob = prob
        self.size = size

    def transform(self, results: dict) -> dict:
        for key in ('img', 'key_frame_index', 'transformed_keypoints',
                    'keypoints_visible'):
            if key not in results:
                raise ConfigValueError(
                    f'RandomKeyFrameMask needs results[{key!r}]; put it after '
                    'LoadVideoFrames and TopdownAffine')
        if not isinstance(results['img'], (list, tuple)):
            raise ConfigValueError(
                'RandomKeyFrameMask expects results["img"] to be the list of '
                'frames')
        if np.random.rand() >= self.prob:
            return results
        visible = np.asarray(results['keypoints_visible']).reshape(-1) > 0
        points = np.asarray(results['transformed_keypoints']).reshape(-1, 2)
        frames = list(results['img'])
        key = int(results['key_frame_index'])
        height, width = frames[key].shape[:2]
        inside = visible & (points[:, 0] >= 0) & (points[:, 0] < width) & \
            (points[:, 1] >= 0) & (points[:, 1] < height)
        if not inside.any():
            return results
        x, y = points[np.random.choice(np.flatnonzero(inside))]
        half = 0.5 * self.size * height
        x0, x1 = int(max(0, round(x - half))), int(min(width, round(x + half)))
        y0, y1 = int(max(0,
                         round(y - half))), int(min(height, round(y + half)))
        frame = frames[key].copy()
        frame[y0:y1, x0:x1] = np.random.uniform(
            0, 255, size=frame.shape[2:]).astype(frame.dtype)
        frames[key] = frame
        results['img'] = frames
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, size={self.size})'
