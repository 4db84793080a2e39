# Paper-faithful tiny FTP-Pose (the earlier default): DPC pruning after the
# first of the 4 ViT layers, epsilon 0.5, removed tokens dropped; the
# fine-grained stem on every frame, stacked along channels (the head's fusion
# weights then depend on the clip length).
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(
    backbone=dict(
        prune_layer=1,
        fine_frames='all',
        pruner=dict(prune_ratio=0.5, merge=False)))
