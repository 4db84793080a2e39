# The fast variant with the 3x3 fine-grained fusion of the paper config: prune
# right after the patch embedding (every ViT layer runs on the kept tokens),
# epsilon 0.75. With the fine-grained stem on every frame, the 3x3 fusion can
# follow a joint that moved between frames; the 1x1 fusion of
# `ftp-pose-fast-conv1x1-fusion` cannot.
_base_ = ['./ftp-pose-paper_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(prune_layer=0, pruner=dict(prune_ratio=0.75)))
