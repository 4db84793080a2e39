"""Input files checked before use: errors that name the file and what it is
for."""
import os.path as osp

from mmengine.fileio import load

from mgpose_mm.errors import InputDataError


def check_file(path: str, what: str) -> None:
    """Raise ``FileNotFoundError`` naming ``what`` unless ``path`` is a file
    (URLs pass)."""
    if '://' not in str(path) and not osp.isfile(path):
        kind = 'a folder, not a file' if osp.isdir(path) else 'no such file'
        raise FileNotFoundError(f'{what} not found: {path} ({kind})')


def load_json(path: str, what: str):
    """The content of a JSON file; a missing file or invalid JSON raises,
    naming ``what`` and the file."""
    check_file(path, what)
    try:
        return load(path, file_format='json')
    except ValueError as error:  # json.JSONDecodeError
        raise InputDataError(f'{path} is not valid JSON: {error}') from None
