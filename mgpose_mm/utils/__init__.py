"""Small helpers shared across mgpose_mm (one place per concept)."""
from .arrays import to_numpy
from .atomic_file import AtomicFile
from .files import check_file, load_json
from .frame_numbers import clip_frame_numbers, frame_number, split_frame_file

__all__ = [
    'AtomicFile', 'check_file', 'clip_frame_numbers', 'frame_number',
    'load_json', 'split_frame_file', 'to_numpy'
]
