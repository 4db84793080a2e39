# The default with random instead of DPC selection (supporting frames and key
# frame, same ratios): what the density-peaks scores add.
_base_ = ['./ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(selector='random')))
