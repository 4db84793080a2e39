"""Tracked poses drawn on video frames."""
from typing import Dict, List

import numpy as np
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample

from .compat_visualizer import CompatPoseLocalVisualizer


@VISUALIZERS.register_module()
class VideoPoseVisualizer(CompatPoseLocalVisualizer):
    """MMPose's pose visualizer that also labels each box with its track id."""

    def draw_tracked_poses(self, frame: np.ndarray, instances: List[Dict],
                           kpt_thr: float, draw_bbox: bool) -> np.ndarray:
        """The (H, W, 3) BGR frame with the people of ``instances`` (dicts of
        ``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``bbox`` (4,) xyxy,
        ``track_id``) drawn; boxes and track ids when ``draw_bbox``."""
        if not instances:
            return frame.copy()
        pred = InstanceData(
            keypoints=np.stack([i['keypoints'] for i in instances]),
            keypoint_scores=np.stack([i['keypoint_scores']
                                      for i in instances]),
            bboxes=np.stack([i['bbox'] for i in instances]).astype(np.float32))
        self.add_datasample(
            'frame',
            np.ascontiguousarray(frame[..., ::-1]),
            data_sample=PoseDataSample(pred_instances=pred),
            draw_gt=False,
            draw_heatmap=False,
            draw_bbox=draw_bbox,
            skeleton_style='mmpose',
            show=False,
            kpt_thr=kpt_thr)
        for inst in instances if draw_bbox else []:
            self.draw_texts(
                f'id {inst["track_id"]}',
                np.maximum(inst['bbox'][:2], 0),
                font_sizes=15,
                colors=(255, 255, 255),
                vertical_alignments='top',
                bboxes=[dict(facecolor='black', alpha=0.8, edgecolor='none')])
        return np.ascontiguousarray(self.get_image()[..., ::-1])
