# Ablation of the multi-grained (fine) branch: the tiny config without the
# high-resolution stem; the head's fusion conv then only refines the upsampled
# key-frame tokens.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(fine_channels=0))
