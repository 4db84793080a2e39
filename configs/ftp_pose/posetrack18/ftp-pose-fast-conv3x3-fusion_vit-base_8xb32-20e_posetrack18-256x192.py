# Speed-oriented FTP-Pose that keeps the paper config's 3x3 fine-grained
# fusion: prune right after the patch embedding (every ViT layer runs on the
# kept tokens), epsilon = 0.75. Chosen on the synthetic dev split over
# `ftp-pose-fast-conv1x1-fusion` (1x1 fusion), which lost accuracy once the
# fine-grained stem saw every frame (model zoo README, ablation study); its
# PoseTrack accuracy is not measured by this project.
_base_ = ['./ftp-pose-paper_vit-base_8xb32-20e_posetrack18-256x192.py']

model = dict(backbone=dict(prune_layer=0, pruner=dict(prune_ratio=0.75)))
