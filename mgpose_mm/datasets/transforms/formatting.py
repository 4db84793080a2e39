"""Packing a clip sample (inputs (T, 3, H, W) + PoseDataSample)."""
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS

from mgpose_mm.errors import ConfigValueError

# MMPose's default top-down meta keys plus the clip keys of the contract.
# Configs pass it as ``PackPoseInputs(meta_keys=VIDEO_META_KEYS)`` or use
# ``PackVideoPoseInputs``, whose default it is.
VIDEO_META_KEYS = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index',
                   'ori_shape', 'img_shape', 'input_size', 'input_center',
                   'input_scale', 'flip', 'flip_direction', 'flip_indices',
                   'raw_ann_info', 'dataset_name', 'frame_paths',
                   'key_frame_index', 'frame_offsets', 'bbox', 'bbox_score')


@TRANSFORMS.register_module()
class PackVideoPoseInputs(PackPoseInputs):
    """``PackPoseInputs`` with :data:`VIDEO_META_KEYS` as default meta keys.

    MMPose's ``PackPoseInputs`` already stacks a list of T frames into a
    (T, 3, H, W) tensor; this subclass only changes the default meta keys
    and rejects a single image, which would mean the clip was not loaded
    by ``LoadVideoFrames``.

    Args:
        meta_keys (Sequence[str]): Defaults to :data:`VIDEO_META_KEYS`.
        pack_transformed (bool): pack ``transformed_keypoints``.
            Defaults to False.
    """

    def __init__(self, meta_keys=VIDEO_META_KEYS, pack_transformed=False):
        super().__init__(
            meta_keys=meta_keys, pack_transformed=pack_transformed)

    def transform(self, results: dict) -> dict:
        if not isinstance(results.get('img'), (list, tuple)):
            raise ConfigValueError(
                'PackVideoPoseInputs expects results["img"] to be the list of '
                f'clip frames, got {type(results.get("img")).__name__}; load '
                'clips with LoadVideoFrames')
        return super().transform(results)
