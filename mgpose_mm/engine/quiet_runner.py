"""MMEngine's ``Runner`` with a short console start: the environment dump, the
full config and the hook table go to the run's log file only.

MMEngine 0.10 prints ~450 lines (system environment, the whole config, the hook
order) before the first training step. :class:`QuietRunner` logs the same text
to the log file (``<work_dir>/<timestamp>/<timestamp>.log``) and shows one line
on the console naming the config, the work dir and that log file; progress,
checkpoints and metrics are printed as before. The runtime environment names
the processes instead of MMEngine's ``GPU number`` (which it prints as 1 on
CPU-only machines too).
"""
import logging
from collections import OrderedDict

import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.utils.dl_utils import collect_env

#: messages of MMEngine that go to the log file only: the hook table, and notes
#: a user cannot act on (MMEngine's own deprecation notes, the SyncBN note of
#: single-process runs)
FILE_ONLY_PREFIXES = ('Hooks will be executed in the following order',
                      '"FileClient" will be deprecated',
                      '"HardDiskBackend" is the alias',
                      'Distributed training is not used, all SyncBatchNorm')


class ConsoleFilter(logging.Filter):
    """Drops, on the console handler, records marked ``file_only`` or starting
    with one of :data:`FILE_ONLY_PREFIXES`; file handlers keep them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, 'file_only', False):
            return False
        message = record.msg if isinstance(record.msg, str) else ''
        return not message.startswith(FILE_ONLY_PREFIXES)


def quiet_console(logger: logging.Logger) -> None:
    """Add :class:`ConsoleFilter` to the console (non-file) stream handlers of
    ``logger``, once."""
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler):
            if not any(isinstance(f, ConsoleFilter) for f in handler.filters):
                handler.addFilter(ConsoleFilter())


def runtime_environment(runner: Runner, env_cfg: dict) -> OrderedDict:
    """What MMEngine's ``_log_env`` reports as the runtime environment, with
    the number of processes named for the device (``GPU number`` only when CUDA
    is available)."""
    runtime_env = OrderedDict(env_cfg)
    runtime_env.update(runner._randomness_cfg)
    runtime_env['seed'] = runner._seed
    runtime_env['Distributed launcher'] = runner._launcher
    runtime_env['Distributed training'] = runner._distributed
    key = 'GPU number' if torch.cuda.is_available() else 'CPU processes'
    runtime_env[key] = runner._world_size
    return runtime_env


@RUNNERS.register_module()
class QuietRunner(Runner):
    """``mmengine.runner.Runner`` whose environment dump, config and hook order
    go to the log file only (see the module docstring).

    Build it like the runner: ``QuietRunner.from_cfg(cfg)``.
    """

    def _log_env(self, env_cfg: dict) -> None:
        quiet_console(self.logger)
        file_only = dict(extra=dict(file_only=True))
        lines = ['System environment:']
        lines += [f'    {k}: {v}' for k, v in collect_env().items()]
        lines += ['', 'Runtime environment:']
        lines += [
            f'    {k}: {v}'
            for k, v in runtime_environment(self, env_cfg).items()
        ]
        dash_line = '-' * 60
        self.logger.info(
            '\n' + dash_line + '\n' + '\n'.join(lines) + '\n' + dash_line +
            '\n', **file_only)
        if self.cfg._cfg_dict:
            self.logger.info(f'Config:\n{self.cfg.pretty_text}', **file_only)
        config = self.cfg.filename or '(config object)'
        self.logger.info(
            f'config: {config}; work dir: {self.work_dir}; environment, full '
            'config and '
            f'hooks: {self.logger.log_file}')
