# FTP-Pose without key-frame reduction: every key-frame token runs through
# every ViT layer; one transformer layer in the head and a full 3x3
# fine-grained fusion. The reference design of the DPC studies (the eps and
# random-selection configs inherit it).
_base_ = ['./ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(
    backbone=dict(key_prune_layer=None, pruner=dict(key_prune_ratio=0.0)),
    head=dict(num_temporal_layers=1, separable_fusion=False))
