"""Code blocks and command lines of the Markdown docs (README.md, docs/*.md),
for the tests that run them (tests/test_docs_snippets.py,
tests/test_docs_commands.py)."""
import glob
import os.path as osp
import re
from typing import List, Tuple

from conftest import REPO_ROOT

FENCE = re.compile(r'^```(\w*)[^\n]*\n(.*?)^```', re.MULTILINE | re.DOTALL)


def doc_files() -> List[str]:
    """README.md and every docs/*.md, relative to the repository root."""
    files = ['README.md'] + sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))
    return [f for f in files if osp.isfile(osp.join(REPO_ROOT, f))]


def code_blocks(language: str) -> List[Tuple[str, int, str]]:
    """``(file, line number of the fence, code)`` of every fenced block in
    ``language``."""
    blocks = []
    for name in doc_files():
        with open(osp.join(REPO_ROOT, name)) as f:
            text = f.read()
        for match in FENCE.finditer(text):
            if match.group(1) == language:
                line = text.count('\n', 0, match.start()) + 1
                blocks.append((name, line, match.group(2)))
    return blocks


def command_lines(code: str) -> List[str]:
    """The commands of a bash block: continuation lines joined, comments and
    blank lines dropped, trailing comments removed (outside quotes), runs of
    spaces made one."""
    commands, current = [], ''
    for raw in code.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith('#')):
            continue
        if line.endswith('\\') and not line.endswith('\\\\'):
            current += line[:-1].strip() + ' '
            continue
        current += line
        commands.append(_strip_comment(current).strip())
        current = ''
    if current:
        commands.append(_strip_comment(current).strip())
    return [re.sub(r' {2,}', ' ', c) for c in commands if c]


def _strip_comment(line: str) -> str:
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in '\'"':
            quote = char
        elif char == '#' and (index == 0 or line[index - 1] == ' '):
            return line[:index]
    return line


def documented_commands() -> List[Tuple[str, str]]:
    """``(file, command)`` of every command line in the bash blocks of the
    docs, in order."""
    return [(name, command) for name, _, code in code_blocks('bash')
            for command in command_lines(code)]


# ---------------------------------------------------------------- running the
# documented commands
TINY = ('configs/ftp_pose/synthetic/'
        'ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py')
QUICKSTART_CKPT = 'work_dirs/quickstart/epoch_12.pth'
RTMDET_NAME = 'rtmdet_tiny_8xb32-300e_coco'
# what mim download writes
RTMDET_WEIGHTS = 'rtmdet_tiny_8xb32-300e_coco_20220902_112414-78e30dcc.pth'

#: (regex on the command, why it is not run here); the first match wins
SKIPS = [
    (r'^bash tools/run_tests\.sh', 'runs this test suite'),
    (r'^python3 -m venv', 'creates a virtual environment (set-up)'),
    (r'^bash tools/gpu/',
     'builds a wheelhouse for, or runs on, a GPU machine (rehearsed by '
     'hand on CPU, see the README)'),
    (r'^bash tools/dist_test\.sh configs/ftp_pose/posetrack18/.* 8$',
     'needs 8 GPUs and PoseTrack18; the same line runs with 2 CPU processes '
     'in '
     'test_readme_dist_test_line_with_space_in_checkpoint'),
    (r'--device cuda|--amp\b|--gpus 8|--nproc_per_node=8| 8$', 'needs GPUs'),
    (r'^GPUS=.*slurm_',
     'needs SLURM (the scripts are checked with a stand-in srun in '
     'test_slurm_scripts_pass_arguments_intact)'),
    (r'NNODES=2', 'needs two machines'),
    (r'inferencer_demo\.py webcam', 'needs a camera'),
    (r'^mim download',
     'downloads from OpenMMLab (the tests use random detector weights under '
     'the '
     'same file name)'),
    (r'posetrack1[78]/|posetrack21/|PoseTrack2017/|_posetrack18-256x192\.py',
     'needs the PoseTrack data (registration and download)'),
    (r'init_cfg\.checkpoint=', 'needs the ViTPose checkpoint (download)'),
]

#: placeholders of the docs -> files of the test workspace
PLACEHOLDERS = [
    (r'\bPOSE_CONFIG\b', TINY),
    (r'\bPOSE_CHECKPOINT\b', QUICKSTART_CKPT),
    (r'\bDET_CONFIG\b', RTMDET_NAME),
    (r'\bDET_CHECKPOINT\b', RTMDET_WEIGHTS),
    (r'\bCONFIG\b', TINY),
    (r'\bCHECKPOINT\b', QUICKSTART_CKPT),
]

WORKERS = ' '.join(f'{split}_dataloader.{key}'
                   for split in ('train', 'val', 'test')
                   for key in ('num_workers=0', 'persistent_workers=False'))
#: small settings appended to a tool's command line (options given twice: the
#: last one wins,
#: --cfg-options pairs are merged)
SHORT = ('train_cfg.max_epochs=2 param_scheduler.1.end=2 '
         'param_scheduler.1.T_max=2')
SMALL = [
    (r'tools/train\.py|dist_train\.sh', f' --cfg-options {WORKERS} {SHORT}'),
    (r'tools/test\.py|dist_test\.sh|^mim test', f' --cfg-options {WORKERS}'),
    (r'make_synthetic_posetrack\.py',
     ' --num-train-videos 2 --num-val-videos 1 --frames-per-video 8'),
    (r'benchmark\.py',
     ' --batch-sizes 1 2 --eps 0 0.5 --repeats 1 --warmup 0 --memory inline'),
]
QUICKSTART_ENV = dict(
    INSTALL='0',
    NUM_TRAIN_VIDEOS='2',
    EPOCHS='4',
    VIDEO_ARGS='--num-val-videos 1 --frames-per-video 8',
    TRAIN_ARGS=WORKERS,
    TEST_ARGS=' '.join(WORKERS.split()[4:]),
    BENCHMARK_ARGS=('--batch-sizes 1 2 --eps 0 0.5 --repeats 1 --warmup 0 '
                    '--memory inline'))


def skip_reason(command: str):
    """Why a documented command is not run by the tests (None: it is run)."""
    for pattern, reason in SKIPS:
        if re.search(pattern, command):
            return reason
    return None


def runnable_command(command: str) -> str:
    """The documented command with placeholders filled in and small settings
    appended."""
    for pattern, value in PLACEHOLDERS:
        command = re.sub(pattern, value, command)
    if re.search(r'make_synthetic_posetrack\.py',
                 command) and '--overwrite' not in command:
        # the docs' second generator line writes next to the workspace's data
        command = command.replace('data/synthetic_posetrack',
                                  'data/synthetic_posetrack_2')
    for pattern, extra in SMALL:
        if re.search(pattern, command):
            command += extra
            break
    return command
