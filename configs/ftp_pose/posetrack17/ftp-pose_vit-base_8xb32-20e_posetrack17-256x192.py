# FTP-Pose on PoseTrack2017, converted to the COCO-style layout of PoseTrack18
# (docs/data_preparation.md).
_base_ = ['../posetrack18/ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

data_root = 'data/posetrack17/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='annotations/posetrack17_train.json'))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack17_val.json',
        bbox_file=data_root +
        'annotations/posetrack17_val_human_detections.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/posetrack17_val.json')
test_evaluator = val_evaluator
