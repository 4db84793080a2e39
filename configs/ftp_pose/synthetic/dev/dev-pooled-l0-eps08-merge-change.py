_base_ = ['../ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py']
model = dict(
    backbone=dict(fine_frames='pooled', prune_layer=0),
    neck=dict(prune_ratio=0.8, merge=True, score_features='change'))
