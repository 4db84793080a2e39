# FTP-Pose without key-frame reduction: every key-frame token runs through
# every ViT layer; one transformer layer in the head and a full 3x3
# fine-grained fusion. The eps0, paper, fast, random-selection and
# single-frame configs inherit it.
_base_ = ['./ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

model = dict(
    backbone=dict(key_prune_layer=None, pruner=dict(key_prune_ratio=0.0)),
    head=dict(num_temporal_layers=1, separable_fusion=False))
