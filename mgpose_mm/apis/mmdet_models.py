"""Detector configs by name: MMDetection's packaged configs and model-zoo
names, as MMPose's demos and inferencers accept them.

``--det-config`` / ``MMDetBoxes(det_config)`` may be

- a config file path;
- ``mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py`` (MMEngine's package syntax);
- a config file name from MMDetection's package, with or without ``.py``
  (``rtmdet_tiny_8xb32-300e_coco``), or a model-zoo alias (``rtmdet-t``).

For a model-zoo name without a checkpoint, the checkpoint is the metafile's weights URL (MMEngine
downloads and caches it on first use). Offline, get both files first with
``mim download mmdet --config rtmdet_tiny_8xb32-300e_coco --dest .``.
"""
import difflib
import os
import os.path as osp
from functools import lru_cache
from typing import Dict, Optional, Tuple

DOWNLOAD_HINT = 'mim download mmdet --config {name} --dest .'


def mmdet_mim_dir() -> str:
    """Folder holding MMDetection's ``configs`` and ``model-index.yml``
    (``mmdet/.mim`` in a wheel, the clone's root in an editable install)."""
    import mmdet
    package = osp.dirname(osp.abspath(mmdet.__file__))
    for root in (osp.join(package, '.mim'), osp.dirname(package)):
        if osp.isdir(osp.join(root, 'configs')):
            return root
    raise FileNotFoundError(
        f'MMDetection configs not found next to {package} (neither .mim/configs '
        'nor a clone): reinstall mmdet')


@lru_cache(maxsize=None)
def _config_files(mim_dir: str) -> Dict[str, Tuple[str, ...]]:
    """Config file name without ``.py`` -> its paths under ``configs/``."""
    found: Dict[str, list] = {}
    for folder, _, files in os.walk(osp.join(mim_dir, 'configs')):
        for name in files:
            if name.endswith('.py'):
                found.setdefault(name[:-3], []).append(osp.join(folder, name))
    return {name: tuple(sorted(paths)) for name, paths in found.items()}


@lru_cache(maxsize=None)
def _model_zoo(mim_dir: str) -> Dict[str, dict]:
    """Model name and every alias -> ``{'name', 'config' (path), 'weights' (URL
    or None)}``."""
    from mmengine.fileio import load
    index = osp.join(mim_dir, 'model-index.yml')
    if not osp.isfile(index):
        return {}
    models: Dict[str, dict] = {}
    for metafile in load(index).get('Import', []):
        meta = load(osp.join(mim_dir, metafile)) or {}
        for model in meta.get('Models', []):
            if 'Config' not in model:
                continue
            entry = dict(
                name=model['Name'],
                config=osp.join(mim_dir, model['Config']),
                weights=model.get('Weights'))
            for key in [model['Name'], *(model.get('Alias') or [])]:
                models.setdefault(key, entry)
    return models


def resolve_mmdet_config(det_config: str,
                         det_checkpoint: Optional[str] = None
                         ) -> Tuple[str, Optional[str]]:
    """Config path and checkpoint of a detector given by path or by MMDetection
    name.

    Args:
        det_config (str): a file, ``mmdet::<folder>/<file>.py``, a packaged config name (with or
            without ``.py``) or a model-zoo name/alias (see the module docstring).
        det_checkpoint (str, optional): a file or URL. None: the model zoo's weights URL when
            ``det_config`` names a model-zoo model, else None (random weights).

    Returns:
        tuple: ``(config_path, checkpoint)``.

    Raises:
        FileNotFoundError: the config is neither a file nor an MMDetection name (close names are
            suggested), or the checkpoint is not a file or URL.
    """
    config_path = _resolve_config(det_config)
    name = osp.splitext(osp.basename(config_path))[0]
    if det_checkpoint is None and not osp.isfile(det_config):
        entry = _model_zoo(mmdet_mim_dir()).get(_bare_name(det_config)) or \
            _model_zoo(mmdet_mim_dir()).get(name)
        det_checkpoint = entry['weights'] if entry else None
    if det_checkpoint is not None and not osp.isfile(det_checkpoint) and \
            not det_checkpoint.startswith(('http://', 'https://')):
        raise FileNotFoundError(
            f'detector checkpoint not found: {det_checkpoint} (to get the weights of '
            f'an MMDetection model: {DOWNLOAD_HINT.format(name=name)})')
    return config_path, det_checkpoint


def _bare_name(det_config: str) -> str:
    name = det_config.split('::', 1)[-1]
    name = osp.basename(name)
    return name[:-3] if name.endswith('.py') else name


def _resolve_config(det_config: str) -> str:
    if osp.isfile(det_config):
        return det_config
    mim_dir = mmdet_mim_dir()
    if det_config.startswith('mmdet::'):
        path = osp.join(mim_dir, 'configs', det_config[len('mmdet::'):])
        if osp.isfile(path):
            return path
    name = _bare_name(det_config)
    zoo = _model_zoo(mim_dir)
    if name in zoo and osp.isfile(zoo[name]['config']):
        return zoo[name]['config']
    files = _config_files(mim_dir)
    paths = files.get(name, ())
    if len(paths) == 1:
        return paths[0]
    if len(paths) > 1:
        options = ', '.join('mmdet::' +
                            osp.relpath(p, osp.join(mim_dir, 'configs'))
                            for p in paths)
        raise FileNotFoundError(
            f'detector config {det_config!r} is ambiguous in MMDetection: {options}'
        )
    close = difflib.get_close_matches(
        name, list(files) + list(zoo), n=3, cutoff=0.6)
    hint = f'; close MMDetection names: {", ".join(close)}' if close else ''
    raise FileNotFoundError(
        f'detector config not found: {det_config!r} is not a file, an MMDetection config name (e.g. '
        f'rtmdet_tiny_8xb32-300e_coco) or a model-zoo alias (e.g. rtmdet-t){hint}'
    )
