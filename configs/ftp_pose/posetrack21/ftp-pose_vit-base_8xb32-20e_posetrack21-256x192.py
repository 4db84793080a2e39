# FTP-Pose on PoseTrack21 (its own per-video JSON files; see
# docs/data_preparation.md).
_base_ = ['../posetrack18/ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

data_root = 'data/posetrack21/'
train_dataloader = dict(
    dataset=dict(
        type='PoseTrack21VideoDataset',
        data_root=data_root,
        ann_file='posetrack_data/train'))
val_dataloader = dict(
    dataset=dict(
        type='PoseTrack21VideoDataset',
        data_root=data_root,
        ann_file='posetrack_data/val',
        bbox_file=data_root +
        'annotations/posetrack21_val_human_detections.json'))
test_dataloader = val_dataloader
# the PoseTrack21 kit's rules (labelled frames, joints with x > 0 and y > 0, AP
# 0 without GT)
val_evaluator = dict(
    protocol='posetrack21', ann_file=data_root + 'posetrack_data/val')
test_evaluator = val_evaluator
