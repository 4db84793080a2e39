"""Temporal transformer head of FTP-Pose: fuse kept multi-frame tokens, predict
key-frame heatmaps."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer
from torch import Tensor

from mgpose_mm.errors import ConfigValueError
from ..utils import VideoTokens


def _describe(obj) -> str:
    if isinstance(obj, Tensor):
        return f'Tensor{tuple(obj.shape)}'
    if isinstance(obj, (tuple, list)) and not isinstance(obj, VideoTokens):
        items = ', '.join(_describe(item) for item in obj)
        return f'{type(obj).__name__}[{items}]'
    return type(obj).__name__


def unpack_head_inputs(feats) -> Tuple[VideoTokens, Tensor]:
    """Check and unpack the head input ``(video_tokens, fine_feats)``.

    Args:
        feats: ``(VideoTokens with tokens (B, M, C),
            Tensor (B, C_f, H/s, W/s))``.

    Returns:
        tuple: ``(video_tokens, fine_feats)``.

    Raises:
        TypeError: ``feats`` is not such a pair, e.g. MMPose's tuple of
            feature maps or the flip-test list ``[feats, feats_flip]`` (which
            ``HeatmapHead.predict`` splits first).
        ValueError: The two parts disagree on the batch size, or
            ``fine_feats`` is not 4-D.
    """
    if (not isinstance(feats, (tuple, list)) or isinstance(feats, VideoTokens)
            or len(feats) != 2 or not isinstance(feats[0], VideoTokens)
            or not isinstance(feats[1], Tensor)):
        raise TypeError(
            'TemporalTransformerHead.forward expects feats = (VideoTokens, '
            'Tensor), the (video_tokens, fine_feats) pair of '
            'VideoTopdownPoseEstimator.extract_feat; '
            f'got {_describe(feats)}. A flip-test list [feats, feats_flip] '
            'goes to predict(), which calls forward() on each pair')
    video_tokens, fine_feats = feats
    batch = video_tokens.tokens.shape[0]
    if fine_feats.dim() != 4 or fine_feats.shape[0] != batch:
        raise ValueError(
            'TemporalTransformerHead.forward: fine_feats must be '
            f'(B, C_f, H/s, W/s) with the B={batch} clips of video_tokens, '
            f'got {tuple(fine_feats.shape)}')
    return video_tokens, fine_feats


@MODELS.register_module()
class TemporalTransformerHead(HeatmapHead):
    """Heatmap head over the kept spatio-temporal tokens of a clip.

    1. ``num_temporal_layers`` transformer layers attend over all kept tokens
       of a clip (spatio-temporal self-attention with
       ``scaled_dot_product_attention``), so the key frame's tokens gather
       evidence from the surviving supporting-frame tokens.
    2. The key frame's tokens are put back on their grid (B, C, h, w) and
       upsampled by the deconvolution layers of :class:`HeatmapHead` to 1/4
       of the input.
    3. Fine-grained compensation: the backbone's high-resolution features are
       concatenated and fused by a 3x3 convolution.
    4. Optional conv layers and the final 1x1 layer give K heatmaps
       (B, K, H/4, W/4).

    Loss, accuracy, decoding and flip test are :class:`HeatmapHead`'s.

    Input contract: unlike MMPose heads, which take a tuple of per-level
    feature maps, ``forward`` takes the pair ``(video_tokens, fine_feats)`` of
    :class:`VideoTokens` and a Tensor that
    ``VideoTopdownPoseEstimator.extract_feat`` returns. With ``flip_test``,
    MMPose's ``TopdownPoseEstimator.predict`` hands ``HeatmapHead.predict`` the
    list ``[feats, feats_flip]`` of two such pairs (the second from the clips
    flipped along W, every frame); ``predict`` splits it and calls ``forward``
    on each pair. ``forward`` rejects anything else with a ``TypeError``.

    Args:
        in_channels (int): Token channels C (the ViT width).
        out_channels (int): Number of keypoints K.
        fine_channels (int, optional): Channels of the backbone's
            fine-grained features, its ``fine_out_channels`` (0 without the
            fine branch: the fusion conv then only refines the upsampled
            key-frame tokens). ``VideoTopdownPoseEstimator`` derives it from
            the backbone, so configs leave it out; set it only when building
            the head alone.
        num_temporal_layers (int): Transformer layers over the kept tokens.
            Defaults to 1.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): FFN width / C. Defaults to 4.
        fusion_kernel_size (int): Kernel of the fusion conv, 3 or 1. A 1x1
            fusion cuts the cost of this full-resolution layer by 9x.
            Defaults to 3.
        separable_fusion (bool): A 3x3 fusion as MMCV's depthwise-separable
            conv (3x3 per channel, then 1x1): the 3x3 context at about the
            cost of a 1x1 fusion. Defaults to False.
        **kwargs: :class:`HeatmapHead` arguments (``deconv_out_channels``,
            ``deconv_kernel_sizes``, ``conv_out_channels``,
            ``conv_kernel_sizes``, ``final_layer``, ``loss``, ``decoder``,
            ``init_cfg``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 fine_channels: Optional[int] = None,
                 num_temporal_layers: int = 1,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.0,
                 deconv_out_channels: Sequence[int] = (256, 256),
                 deconv_kernel_sizes: Sequence[int] = (4, 4),
                 fusion_kernel_size: int = 3,
                 separable_fusion: bool = False,
                 **kwargs):
        if not deconv_out_channels:
            raise ConfigValueError(
                'TemporalTransformerHead needs deconv_out_channels to '
                'upsample the key-frame tokens to the fine-grained '
                'resolution')
        if in_channels % num_heads:
            raise ConfigValueError(
                f'TemporalTransformerHead: in_channels={in_channels} is not '
                f'divisible by num_heads={num_heads}')
        if fusion_kernel_size not in (1, 3):
            raise ConfigValueError(
                'TemporalTransformerHead: fusion_kernel_size must be 1 or 3, '
                f'got {fusion_kernel_size}')
        if separable_fusion and fusion_kernel_size != 3:
            raise ConfigValueError(
                'TemporalTransformerHead: separable_fusion needs '
                f'fusion_kernel_size=3, got {fusion_kernel_size}')
        # HeatmapHead builds conv/final layers after its deconvs; they
        # receive the fused features.
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            **kwargs)
        self.temporal_layers = nn.ModuleList(
            TransformerEncoderLayer(
                embed_dims=in_channels,
                num_heads=num_heads,
                feedforward_channels=int(in_channels * mlp_ratio),
                qkv_bias=True,
                norm_cfg=dict(type='LN', eps=1e-6))
            for _ in range(num_temporal_layers))
        self.fusion_kernel_size = fusion_kernel_size
        self.separable_fusion = separable_fusion
        self.fusion_width = deconv_out_channels[-1]
        self.fine_channels = None
        self.fusion = None
        if fine_channels is not None:
            self.set_fine_channels(fine_channels)

    def set_fine_channels(self, fine_channels: int) -> None:
        """Build the fusion conv for fine-grained features of ``fine_channels``
        channels (``VideoTopdownPoseEstimator`` calls this with the backbone's
        ``fine_out_channels``).

        Raises:
            ConfigValueError: The head was configured with another width.
        """
        if self.fine_channels is not None:
            if fine_channels != self.fine_channels:
                raise ConfigValueError(
                    f'model.head.fine_channels={self.fine_channels} but the '
                    f'backbone gives {fine_channels} fine-grained channels '
                    '(backbone.fine_out_channels); leave head.fine_channels '
                    'out of the config: it is derived from the backbone')
            return
        if fine_channels < 0:
            raise ConfigValueError('TemporalTransformerHead: fine_channels '
                                   f'must be >= 0, got {fine_channels}')
        width = self.fusion_width
        self.fine_channels = fine_channels
        conv = (
            DepthwiseSeparableConvModule
            if self.separable_fusion else ConvModule)
        self.fusion = conv(
            width + fine_channels,
            width,
            self.fusion_kernel_size,
            padding=self.fusion_kernel_size // 2,
            norm_cfg=dict(type='BN'))

    def forward(self, feats: Tuple[VideoTokens, Tensor]) -> Tensor:
        """Predict key-frame heatmaps.

        Args:
            feats (tuple): ``(video_tokens, fine_feats)`` from the backbone:
                kept tokens (B, M, C) with positions, and fine-grained
                features (B, C_f, H/s, W/s) (see the input contract in the
                class docstring).

        Returns:
            Tensor: Heatmaps, shape (B, K, H/4, W/4).
        """
        video_tokens, fine_feats = unpack_head_inputs(feats)
        if self.fusion is None:
            raise ConfigValueError(
                'TemporalTransformerHead: fine_channels is not set; '
                'VideoTopdownPoseEstimator derives it from the backbone, '
                'pass it when building the head alone')
        if fine_feats.shape[1] != self.fine_channels:
            raise ValueError(
                f'TemporalTransformerHead: head.fine_channels='
                f'{self.fine_channels} but the backbone gives '
                f'{fine_feats.shape[1]} fine-grained channels; leave '
                'head.fine_channels out of the config (it is derived from '
                "the backbone's fine_out_channels)")
        x = video_tokens.tokens
        for layer in self.temporal_layers:
            x = layer(x)
        # The convolutions run in channels-last memory format (the key map is
        # a view of the tokens in it): on CPU the depthwise fusion is ~4x and
        # the decoder ~1.3x faster than in NCHW, with the same values.
        key_map = video_tokens._replace(
            tokens=x).key_frame_map()  # (B, C, h, w)
        x = self.deconv_layers(key_map)
        if fine_feats.shape[-2:] != x.shape[-2:]:
            fine_feats = F.interpolate(
                fine_feats,
                size=x.shape[-2:],
                mode='bilinear',
                align_corners=False)
        fine_feats = fine_feats.contiguous(memory_format=torch.channels_last)
        x = self.fusion(torch.cat([x, fine_feats], dim=1))
        x = self.conv_layers(x)
        return self.final_layer(x).contiguous()
