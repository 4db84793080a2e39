# Speed-oriented FTP-Pose: prune right after the patch embedding (every ViT
# layer runs on the kept tokens), epsilon = 0.75, and a 1x1 fine-grained
# fusion. Chosen from the benchmark sweep to reach the paper's ~1.94x over the
# unpruned model of the same architecture (see the model zoo README). In the
# synthetic ablation study it loses accuracy against the unpruned model (the
# 1x1 fusion cannot follow a joint that moved between the frames of the
# fine-grained stem); `ftp-pose-fast-conv3x3-fusion` keeps the 3x3 fusion. Its
# PoseTrack accuracy is not measured by this project.
_base_ = ['./ftp-pose-paper_vit-base_8xb32-20e_posetrack18-256x192.py']

model = dict(
    backbone=dict(prune_layer=0, pruner=dict(prune_ratio=0.75)),
    head=dict(fusion_kernel_size=1))
