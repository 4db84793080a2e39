# The fast variant at tiny scale (as ftp-pose-fast-conv1x1-fusion_vit-base):
# prune right after the patch embedding (every ViT layer runs on the kept
# tokens), epsilon 0.75, 1x1 fine-grained fusion.
_base_ = ['./ftp-pose-paper_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(
    backbone=dict(prune_layer=0, pruner=dict(prune_ratio=0.75)),
    head=dict(fusion_kernel_size=1))
