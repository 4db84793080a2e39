# Random-selection control of the eps 0.5 sweep point: the same number of
# supporting-frame tokens removed, chosen at random.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(prune_ratio=0.5, selector='random')))
