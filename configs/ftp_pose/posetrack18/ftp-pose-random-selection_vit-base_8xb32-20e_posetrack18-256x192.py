# Ablation: prune the same fraction of supporting-frame tokens at random
# instead of by DPC score.
_base_ = ['./ftp-pose-full-key-frame_vit-base_8xb32-20e_posetrack18-256x192.py']

model = dict(neck=dict(selector='random'))
