# Random-selection control of the tiny config: prunes as many supporting-frame
# tokens (epsilon 0.9) as DPC, chosen uniformly at random.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(selector='random')))
