# Ablation of the fine-grained path's input: the unpruned tiny model with the
# high-resolution stem on the key frame only (the design before the ablation
# study; the supporting frames then reach the heatmaps only through the 1/16
# tokens).
_base_ = ['./ftp-pose-eps0_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(fine_frames='key'))
