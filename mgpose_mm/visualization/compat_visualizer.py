"""MMPose's pose visualizer made to work under NumPy >= 2.4."""
import numpy as np
from mmpose.registry import VISUALIZERS
from mmpose.visualization import PoseLocalVisualizer


@VISUALIZERS.register_module()
class CompatPoseLocalVisualizer(PoseLocalVisualizer):
    """:class:`PoseLocalVisualizer` whose OpenCV backend accepts MMPose's
    keypoint radius.

    MMPose 1.3.2 draws every keypoint with
    ``draw_circles(radius=np.array([r]))`` and its OpenCV backend calls
    ``int(radius)``, which NumPy 2.4 rejects for a 1-element 1-D array ("only
    0-dimensional arrays can be converted to Python scalars"). This subclass
    passes the radius on as a scalar; the drawing is otherwise MMPose's.
    """

    def draw_circles(self,
                     center,
                     radius,
                     face_colors='none',
                     alpha: float = 1.0,
                     **kwargs):
        if self.backend == 'opencv':
            radius = float(np.asarray(radius).reshape(-1)[0])
        return super().draw_circles(
            center, radius, face_colors=face_colors, alpha=alpha, **kwargs)
