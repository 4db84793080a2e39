# Unpruned baseline of FTP-Pose (epsilon = 0): the reference for accuracy and
# speed-up.
_base_ = [
    './ftp-pose-full-key-frame_vit-base_8xb32-20e_posetrack18-256x192.py'
]

model = dict(backbone=dict(pruner=dict(prune_ratio=0.0)))
