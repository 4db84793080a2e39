"""Tensor / array conversion."""
from typing import Optional

import numpy as np


def to_numpy(value, dtype: Optional[np.dtype] = None) -> np.ndarray:
    """A Tensor (any device, detached), array, list or scalar as a NumPy array
    of ``dtype``.

    ``mmpose.utils.tensor_utils.to_numpy`` would do for tensors, but it rejects
    the plain lists and scalars that data samples also carry (e.g.
    ``track_ids``).
    """
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)
