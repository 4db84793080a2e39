"""Deployment of FTP-Pose models (ONNX export and onnxruntime checks).

Import directly (``from mgpose_mm.deployment import export_onnx``); ``import
mgpose_mm`` does not load this subpackage, so onnx/onnxruntime stay optional
for training.
"""
from .onnx_export import (HeatmapExportWrapper, clip_shape, create_session,
                          export_onnx, load_pose_model, onnx_op_counts,
                          verify_onnx)

__all__ = [
    'HeatmapExportWrapper', 'clip_shape', 'create_session', 'export_onnx',
    'load_pose_model', 'onnx_op_counts', 'verify_onnx'
]
