import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

here = osp.dirname(osp.abspath(__file__))
version = {}
with open(osp.join(here, 'mgpose_mm', 'version.py')) as f:
    exec(f.read(), version)


def add_mim_extension():
    """Ship tools/, configs/, demo/ and model-index.yml as ``mgpose_mm/.mim``
    for OpenMMLab's MIM.

    ``mim train/test/search mgpose_mm`` look for ``<installed
    package>/.mim/{tools,configs,...}``, as for every OpenMMLab codebase.
    Editable installs (``setup.py develop`` and PEP 660's ``editable_wheel``)
    get symlinks to the checkout; wheels and sdists get copies. Other commands
    (egg_info, dist_info, ...) leave ``.mim`` as it is.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_path = osp.join(here, 'mgpose_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('tools', 'configs', 'demo', 'model-index.yml'):
        src_path = osp.join(here, name)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, name)
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(src_path, tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        else:
            shutil.copytree(
                src_path,
                tar_path,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


def readme() -> str:
    path = osp.join(here, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


add_mim_extension()
setup(
    name='mgpose_mm',
    version=version['__version__'],
    description=('FTP-Pose (multi-grained feature pruning for video-based '
                 'human pose estimation) as an MMPose plugin'),
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mgpose_mm', 'mgpose_mm.*']),
    include_package_data=True,
    python_requires='>=3.8',
    # tested with torch 2.1.2 (OpenMMLab's prebuilt mmcv 2.1.0 environments)
    # and 2.14.1 (tools/install.sh's default)
    install_requires=[
        'torch>=2.1,<2.15',
        'mmengine>=0.10.0,<1.0',
        'mmcv>=2.0.1,<2.2.0',
        'mmpose>=1.3.0,<1.4',
        'mmpretrain>=1.0.0',
        'mmdet>=3.1.0,<3.4',
        'opencv-python',
        'numpy',
        'scipy',
        'shapely>=2.0',
    ],
    extras_require={
        'tests': ['pytest', 'pytest-xdist', 'onnx', 'onnxruntime', 'openmim'],
    },
    zip_safe=False,
)
