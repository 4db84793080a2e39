# Online (causal) FTP-Pose: the clip uses only past frames (t-2, t-1, t), key
# frame last, so a live stream gets each frame's poses as soon as that frame
# arrives (no look-ahead, 0 frames of delay; the centred paper clip t-1, t, t+1
# waits one frame). Same model, sizes and recipe as the default config.
_base_ = ['./ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

frame_offsets = (-2, -1, 0)
key_frame_index = 2
model = dict(backbone=dict(key_frame_index=key_frame_index))
train_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
val_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
test_dataloader = val_dataloader
