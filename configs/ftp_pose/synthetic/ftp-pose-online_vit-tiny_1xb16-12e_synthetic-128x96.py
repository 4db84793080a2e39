# Online (causal) variant of the tiny config: clip (t-2, t-1, t), key frame
# last, for live streams with no look-ahead (0 frames of delay; the centred
# clip t-1, t, t+1 waits one frame).
_base_ = ['./ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py']

frame_offsets = (-2, -1, 0)
key_frame_index = 2
model = dict(backbone=dict(key_frame_index=key_frame_index))
train_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
val_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
test_dataloader = val_dataloader
