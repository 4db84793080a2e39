"""Frame numbers in frame file names (``.../000017.jpg`` -> 17) and clips of
frame numbers."""
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple

# the run of digits right before the extension of a file name
_FRAME_FILE = re.compile(r'(?P<number>\d+)(?P<ext>\.[^./\\]+)$')


def split_frame_file(name: str) -> Optional[Tuple[str, str, str]]:
    """``(stem, digits, extension)`` of a frame file name, e.g. ``('img_',
    '0017', '.jpg')``.

    Only the base name of ``name`` is read. Returns None when no digits precede
    the extension.
    """
    name = osp.basename(name)
    match = _FRAME_FILE.search(name)
    if match is None:
        return None
    return name[:match.start()], match['number'], match['ext']


def frame_number(name: str) -> Optional[int]:
    """The frame number of a frame file name (``.../000017.jpg`` -> 17), or
    None."""
    parts = split_frame_file(name)
    return None if parts is None else int(parts[1])


def clip_frame_numbers(key_number: int, frame_offsets: Sequence[int],
                       first: int, last: int) -> List[int]:
    """``key_number + offset`` for every offset, clamped to the video's
    ``[first, last]``."""
    return [
        min(max(key_number + offset, first), last) for offset in frame_offsets
    ]
