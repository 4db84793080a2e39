# The default with half of the key frame's own tokens removed before ViT
# layer 1 and a depthwise-separable 3x3 fine-grained fusion.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(
    backbone=dict(key_prune_layer=1, pruner=dict(key_prune_ratio=0.5)),
    head=dict(separable_fusion=True))
