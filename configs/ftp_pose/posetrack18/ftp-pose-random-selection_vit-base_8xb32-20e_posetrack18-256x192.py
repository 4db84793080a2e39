# The default with random instead of DPC selection (supporting frames and key
# frame, same ratios): what the density-peaks scores add.
_base_ = ['./ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

model = dict(backbone=dict(pruner=dict(selector='random')))
