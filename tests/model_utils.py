"""Helpers shared by the model tests: the tiny config's model and a synthetic
batch for it."""
import copy

import numpy as np
import torch
from conftest import FULL_KEY_FRAME_CONFIG, TINY_CONFIG
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

NUM_KEYPOINTS = 17
FLIP_INDICES = [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def tiny_model_cfg(full_key_frame=False, **pruner):
    """The tiny synthetic config's model dict (or, with ``full_key_frame``,
    that of the design without key-frame reduction and with a head transformer
    layer), with pruner overrides."""
    import mgpose_mm  # noqa: F401
    config = FULL_KEY_FRAME_CONFIG if full_key_frame else TINY_CONFIG
    cfg = copy.deepcopy(Config.fromfile(config).model)
    cfg.backbone.pruner.update(pruner)
    return cfg


def build_tiny_model(seed=0, full_key_frame=False, **pruner):
    torch.manual_seed(seed)
    model = MODELS.build(tiny_model_cfg(full_key_frame, **pruner))
    model.init_weights()
    return model


@torch.no_grad()
def unit_scale_head(model):
    """Kaiming-initialise the head's convolutions, so that heatmaps are O(1)
    (the config's init gives ~1e-5, which would make a ~1e-4 tolerance
    meaningless)."""
    for module in model.head.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.kaiming_normal_(module.weight)
    return model


def make_batch(batch_size=4, num_frames=3, input_hw=(128, 96), seed=0):
    """Normalised clips (B, T, 3, H, W) and key-frame data samples with
    Gaussian targets."""
    gen = torch.Generator().manual_seed(seed)
    height, width = input_hw
    clips = torch.randn(
        batch_size, num_frames, 3, height, width, generator=gen)
    samples = []
    hm_h, hm_w = height // 4, width // 4
    ys, xs = torch.meshgrid(
        torch.arange(hm_h), torch.arange(hm_w), indexing='ij')
    for _ in range(batch_size):
        centers = torch.rand(
            NUM_KEYPOINTS, 2, generator=gen) * torch.tensor(
                [hm_w - 1, hm_h - 1])
        heatmaps = torch.exp(-((xs[None] - centers[:, 0, None, None])**2 +
                               (ys[None] - centers[:, 1, None, None])**2) /
                             8.0)
        sample = PoseDataSample(
            metainfo=dict(
                input_size=np.array([width, height]),
                input_center=np.array([width / 2, height / 2]),
                input_scale=np.array([width, height], dtype=np.float64),
                flip_indices=FLIP_INDICES))
        sample.gt_fields = PixelData(heatmaps=heatmaps.float())
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, NUM_KEYPOINTS))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[0., 0., width, height]]),
            bbox_scores=torch.ones(1))
        samples.append(sample)
    return clips, samples
