"""Errors caused by the user's input (files, configs, checkpoints), not by a
bug.

Every class derives from :class:`UserInputError` and from the built-in
exception a caller would expect (``ValueError``, ``IOError``, ...), so ``except
ValueError`` keeps working. The command-line tools print these as one line
without a traceback (:func:`run_cli`); any other exception is a programming
error and keeps its traceback.
"""
import os.path as osp
import pickle
import sys
from typing import Callable, Optional


class UserInputError(Exception):
    """Base class of the errors a user fixes by changing a file, a config or an
    option."""


class ConfigValueError(UserInputError, ValueError):
    """A config value is invalid or disagrees with another one (e.g. the
    model's key frame and the data's frame offsets)."""


class InputDataError(UserInputError, ValueError):
    """Input data (frames, detection results) is missing pieces or cannot be
    matched."""


class InputFileError(UserInputError, IOError):
    """An input file exists but cannot be read (corrupt video, unreadable
    image, bad checkpoint file, failed download)."""


class CheckpointMismatchError(UserInputError, RuntimeError):
    """A checkpoint's weights do not fit the model built from the config."""


class UntrustedCheckpointError(UserInputError, pickle.UnpicklingError):
    """A checkpoint holds Python objects outside the allow-list; unpickling
    them could run code from the file.

    Pass ``--trust-checkpoint`` (API: ``trust_checkpoint=True``) to load it.
    """


def run_cli(main: Callable[[], object], prog: Optional[str] = None):
    """Run a command-line ``main()``: a user error (:class:`UserInputError`, or
    a missing file) prints one line ``<prog>: error: <message>`` to stderr and
    exits with status 2 (as argparse does for a bad option), without a
    traceback.

    Any other exception is a programming error and propagates with its
    traceback.
    """
    try:
        return main()
    except (UserInputError, FileNotFoundError) as error:
        prog = prog or osp.basename(sys.argv[0] or 'mgpose_mm')
        message = str(error)
        if 'Original Traceback' in message:
            # raised in a DataLoader worker: torch puts the worker's
            # traceback into the message; its last line is the error
            last = [line for line in message.splitlines() if line.strip()][-1]
            message = last.split(': ', 1)[-1]
        message = ' '.join(message.split())
        sys.stderr.write(f'{prog}: error: {message}\n')
        sys.stderr.flush()
        sys.exit(2)
