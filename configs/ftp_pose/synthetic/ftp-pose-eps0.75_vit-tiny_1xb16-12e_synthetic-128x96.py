# Tiny config at epsilon 0.75: DPC keeps a quarter of the supporting-frame
# tokens.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(prune_ratio=0.75)))
