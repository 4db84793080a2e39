"""Batch person clips (T, 3, H, W) into a normalised (B, T, 3, H, W) tensor."""
from typing import List, Union

import torch
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class VideoPoseDataPreprocessor(PoseDataPreprocessor):
    """:class:`PoseDataPreprocessor` for multi-frame samples.

    MMPose's preprocessor treats a (T, 3, H, W) sample as one image and
    rejects it when mean/std are set. This one stacks clips, converts BGR to
    RGB on the channel axis of every frame and normalises each frame. A single
    image (3, H, W) is treated as a clip of one frame. No padding is applied:
    top-down crops of one batch already share their size.

    Args: as :class:`PoseDataPreprocessor` (``mean``, ``std``,
    ``bgr_to_rgb``, ...).
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise and stack the clips of a batch.

        Returns:
            dict: ``inputs``, a float tensor (B, T, 3, H, W), and
            ``data_samples``.
        """
        data = self.cast_data(data)
        clips = self._stack_clips(data['inputs'])
        if self._channel_conversion:
            clips = clips.flip(2)
        clips = clips.float()
        if self._enable_normalize:
            clips = (clips - self.mean.view(1, 1, -1, 1, 1)) / self.std.view(
                1, 1, -1, 1, 1)
        data_samples = data.get('data_samples')
        if data_samples is not None:
            shape = tuple(clips.shape[-2:])
            for data_sample in data_samples:
                data_sample.set_metainfo({
                    'batch_input_shape': shape,
                    'pad_shape': shape
                })
        if training and self.batch_augments is not None:
            for batch_aug in self.batch_augments:
                clips, data_samples = batch_aug(clips, data_samples)
        return {'inputs': clips, 'data_samples': data_samples}

    @staticmethod
    def _stack_clips(inputs: Union[Tensor, List[Tensor]]) -> Tensor:
        if isinstance(inputs, Tensor):
            clips = list(inputs) if inputs.dim() == 5 else [inputs]
        else:
            clips = list(inputs)
        clips = [
            clip.unsqueeze(0) if clip.dim() == 3 else clip for clip in clips
        ]
        for i, clip in enumerate(clips):
            if clip.dim() != 4 or clip.shape[1] != 3:
                raise ValueError(
                    f'VideoPoseDataPreprocessor: sample {i} has shape '
                    f'{tuple(clip.shape)}, '
                    'expected a clip (T, 3, H, W) or an image (3, H, W)')
        shapes = {tuple(clip.shape) for clip in clips}
        if len(shapes) > 1:
            raise ValueError(
                'VideoPoseDataPreprocessor: clips of one batch differ in '
                f'shape: {sorted(shapes)}; '
                'all samples need the same number of frames and input size')
        return torch.stack(clips)
