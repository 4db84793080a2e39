"""mgpose_mm.utils: frame numbers, clamped clips, atomic files, array
conversion."""
import os

import numpy as np
import pytest
import torch

from mgpose_mm.utils import (AtomicFile, clip_frame_numbers, frame_number,
                             split_frame_file, to_numpy)


@pytest.mark.parametrize(
    'name, parts',
    [
        ('images/val/000342_mpii/000017.jpg', ('', '000017', '.jpg')),
        ('img_0017.png', ('img_', '0017', '.png')),
        ('v1/12a3.jpeg',
         ('12a', '3', '.jpeg')),  # the digits right before the extension
        ('frames/frame.jpg', None),
        ('frames/0017', None),
    ])
def test_split_frame_file_and_frame_number(name, parts):
    assert split_frame_file(name) == parts
    assert frame_number(name) == (None if parts is None else int(parts[1]))


def test_clip_frame_numbers_are_clamped_to_the_video():
    assert clip_frame_numbers(
        1, (-2, -1, 0, 1, 2), first=0, last=2) == [0, 0, 1, 2, 2]
    assert clip_frame_numbers(5, (-1, 0, 3), first=1, last=6) == [4, 5, 6]


def test_atomic_file_commits_on_success_and_keeps_the_old_file_on_error(
        tmp_path):
    target = tmp_path / 'out' / 'pred.json'
    with AtomicFile(str(target)) as atomic:
        assert os.path.basename(atomic.tmp_path).startswith('.pred.json.')
        assert atomic.tmp_path.endswith('.partial.json')
        with open(atomic.tmp_path, 'w') as f:
            f.write('old')
    assert target.read_text() == 'old'
    with pytest.raises(RuntimeError, match='interrupted'):
        with AtomicFile(str(target)) as atomic:
            with open(atomic.tmp_path, 'w') as f:
                f.write('half')
            raise RuntimeError('interrupted')
    assert target.read_text() == 'old'
    assert os.listdir(target.parent) == ['pred.json']


def test_to_numpy_takes_tensors_arrays_lists_and_scalars():
    out = to_numpy(
        torch.tensor([[1.5, 2.0]], requires_grad=True), dtype=np.float32)
    assert out.dtype == np.float32 and out.tolist() == [[1.5, 2.0]]
    assert to_numpy([3, 4]).tolist() == [3, 4]
    assert to_numpy(np.float64(2.5)).shape == ()
