"""Recount the FLOPs and parameters of every model in
configs/ftp_pose/ftp_pose.yml.

Builds each config's model (randomly initialised: no checkpoint is loaded),
counts its cost on one person clip with
:func:`mgpose_mm.benchmark.flops.model_cost` (MMPose's convention, one
multiply-add = one FLOP, attention and DPC scoring included) and rewrites the
``FLOPs:`` and ``Parameters:`` lines of the metafile in place; everything else
in the file is kept as written. ``tests/test_model_zoo.py`` checks the result.
Prints one Markdown row per model for the table in configs/ftp_pose/README.md.

    python tools/misc/update_metafile_costs.py [--check]
"""
import argparse
import os.path as osp
import re
import sys

import torch
import yaml

from mgpose_mm.benchmark.flops import model_cost
from mgpose_mm.benchmark.specs import (ModelSpec, build_model, input_hw,
                                       make_clips)

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
METAFILE = osp.join(REPO_ROOT, 'configs', 'ftp_pose', 'ftp_pose.yml')


def count(config_file: str):
    """(FLOPs, parameters) of the randomly initialised model of ``config_file``
    on one clip."""
    spec = ModelSpec(
        key='metafile',
        label=config_file,
        config=osp.join(REPO_ROOT, config_file),
        family='ftp-pose')
    model = build_model(spec)
    clips = make_clips(1, model.backbone.num_frames, input_hw(spec), 'cpu')
    with torch.no_grad():
        cost = model_cost(model, clips)
    return int(cost.total_macs), sum(p.numel() for p in model.parameters())


def rewrite(text: str, name: str, flops: int, params: int) -> str:
    """``text`` with the FLOPs / Parameters lines of model ``name``
    replaced."""
    start = text.index(f'- Name: {name}\n')
    end = text.find('\n- Name: ', start + 1)
    end = len(text) if end < 0 else end
    block = re.sub(r'FLOPs: \d+', f'FLOPs: {flops}', text[start:end], count=1)
    block = re.sub(r'Parameters: \d+', f'Parameters: {params}', block, count=1)
    return text[:start] + block + text[end:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='change nothing; exit 1 when a count differs from the metafile')
    args = parser.parse_args()
    with open(METAFILE, encoding='utf-8') as f:
        text = f.read()
    models = yaml.safe_load(text)['Models']
    new_text, stale = text, []
    for model in models:
        flops, params = count(model['Config'])
        meta = model['Metadata']
        if (meta.get('FLOPs'), meta.get('Parameters')) != (flops, params):
            stale.append(model['Name'])
        new_text = rewrite(new_text, model['Name'], flops, params)
        print(f"| {model['Name']} | {meta['Frames']} | "
              f"{meta['Pruning Ratio']} | {meta['Token Selector']} | "
              f'{flops / 1e9:.2f} | {params / 1e6:.2f} |')
    if args.check:
        print(f'{len(stale)} stale: {stale}'
              if stale else 'metafile costs are up to date')
        sys.exit(1 if stale else 0)
    if new_text != text:
        with open(METAFILE, 'w', encoding='utf-8') as f:
            f.write(new_text)
    print(f'updated {len(stale)} of {len(models)} models in {METAFILE}')


if __name__ == '__main__':
    main()
