# The default with half of the key frame's own tokens removed before ViT
# layer 1 (DPC among the key frame's tokens; they come back before the
# head), no transformer layer in the head and a 1x1 fine-grained fusion:
# the cost of a single-frame model. On the dev split (2 seeds) it loses
# 1.5-2 AP Total against the default (configs/ftp_pose/README.md).
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(
    backbone=dict(key_prune_layer=1, pruner=dict(key_prune_ratio=0.5)),
    head=dict(num_temporal_layers=0, fusion_kernel_size=1))
