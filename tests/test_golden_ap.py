"""The AP CLI against numbers the unmodified official tools gave on committed
folders (``tests/data/posetrack_golden``; commands and tool versions in its
README)."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / 'data' / 'posetrack_golden'
GROUPS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle',
          'Total')
# poseval's joint names -> this package's PoseTrack18 names
POSEVAL_NAMES = dict(neck='head_bottom')


def expected(protocol):
    with open(GOLDEN / 'expected_ap.json', encoding='utf-8') as f:
        return json.load(f)[protocol]


def run_cli(repo_root, protocol, out):
    proc = subprocess.run([
        sys.executable,
        str(repo_root / 'tools' / 'analysis_tools' / 'eval_posetrack.py'),
        str(GOLDEN / 'gt'),
        str(GOLDEN / 'pred'), '--protocol', protocol, '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          cwd=str(repo_root),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    with open(out, encoding='utf-8') as f:
        return proc.stdout, json.load(f)


def same(value, reference):
    if reference is None:
        return value is None or math.isnan(value)
    return value == pytest.approx(reference, rel=1e-12, abs=1e-12)


def printed_row(stdout):
    """The values row of the CLI's table (``n/a`` -> None)."""
    lines = stdout.strip().split('\n')
    header = next(i for i, line in enumerate(lines) if line.startswith('Head'))
    assert [c.strip() for c in lines[header].split('|')] == list(GROUPS)
    return [
        None if c.strip() == 'n/a' else float(c)
        for c in lines[header + 1].split('|')
    ]


def official_printed_row(protocol):
    """The rounded values row the official tool printed (``nan`` -> None)."""
    row = expected(protocol)['printed_table'][1]
    cells = row.replace('\\\\', '').replace('&', ' ').split()
    return [None if c == 'nan' else float(c) for c in cells]


@pytest.mark.parametrize('protocol', ['poseval', 'posetrack21'])
def test_cli_gives_the_official_tools_numbers(protocol, repo_root, tmp_path):
    golden = expected(protocol)
    stdout, result = run_cli(
        Path(repo_root), protocol, tmp_path / f'{protocol}.json')
    assert result['num_frames'] == golden['evaluated_frames']
    assert f'{golden["evaluated_frames"]} evaluated frames' in stdout
    for group in GROUPS:
        assert same(result[f'{group} AP'], golden['group_ap'][group]), group
    # the printed table equals the official tool's, rounded the same way
    assert printed_row(stdout) == official_printed_row(protocol)


def test_cli_per_joint_ap_equals_poseval(repo_root, tmp_path):
    _, result = run_cli(Path(repo_root), 'poseval', tmp_path / 'pv.json')
    golden = expected('poseval')['per_joint_ap']
    assert len(golden) == 15
    for name, value in golden.items():
        ours = result['per_joint_ap'][POSEVAL_NAMES.get(name, name)]
        assert same(ours, value), name


def test_golden_folders_exercise_the_protocol_differences():
    # The rules the tools differ in must show in the numbers, else the
    # folders could not catch a regression in them.
    poseval, pt21 = expected('poseval'), expected('posetrack21')
    assert poseval['evaluated_frames'] > pt21['evaluated_frames']
    assert poseval['group_ap']['Ankle'] is None
    assert pt21['group_ap']['Ankle'] > 0
    for group in GROUPS[:-2]:
        assert poseval['group_ap'][group] != pt21['group_ap'][group]
