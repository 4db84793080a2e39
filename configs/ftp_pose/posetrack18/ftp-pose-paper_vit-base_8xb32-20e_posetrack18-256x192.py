# FTP-Pose as the paper describes it: DPC pruning of the supporting-frame
# tokens after the second ViT layer, epsilon 0.5, removed tokens dropped. The
# fine-grained stem sees every frame, stacked along channels (our choice; the
# head's fusion weights then depend on the clip length).
_base_ = [
    './ftp-pose-full-key-frame_vit-base_8xb32-20e_posetrack18-256x192.py'
]

model = dict(
    backbone=dict(
        prune_layer=2,
        fine_frames='all',
        pruner=dict(prune_ratio=0.5, merge=False)))
