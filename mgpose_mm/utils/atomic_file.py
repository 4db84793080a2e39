"""Write a file so that readers see either the previous file or the complete
new one."""
import os
import os.path as osp
import uuid


class AtomicFile:
    """A temporary path next to ``path`` that :meth:`commit` renames to
    ``path`` (atomic on POSIX).

    The temporary name is ``.<name>.<random>.partial<ext>``: hidden, unique,
    starting with the target's name and keeping its extension (writers such as
    ``cv2.VideoWriter`` choose the format by it). The caller creates the file
    at ``tmp_path`` (so it gets the usual umask permissions). As a context
    manager it commits on success and discards the temporary file on any
    exception.
    """

    def __init__(self, path: str):
        self.path = str(path)
        directory = osp.dirname(osp.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        name = osp.basename(self.path)
        self.tmp_path = osp.join(
            directory,
            f'.{name}.{uuid.uuid4().hex[:12]}.partial{osp.splitext(name)[1]}')

    def commit(self) -> None:
        os.replace(self.tmp_path, self.path)

    def discard(self) -> None:
        if osp.exists(self.tmp_path):
            os.remove(self.tmp_path)

    def __enter__(self) -> 'AtomicFile':
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
