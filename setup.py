import os.path as osp

from setuptools import find_packages, setup

here = osp.dirname(osp.abspath(__file__))
version = {}
with open(osp.join(here, 'mgpose_mm', 'version.py')) as f:
    exec(f.read(), version)

setup(
    name='mgpose_mm',
    version=version['__version__'],
    description='FTP-Pose (multi-grained feature pruning for video-based human pose '
    'estimation) as an MMPose plugin',
    long_description=open(osp.join(here, 'README.md'), encoding='utf-8').read()
    if osp.exists(osp.join(here, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mgpose_mm', 'mgpose_mm.*']),
    include_package_data=True,
    python_requires='>=3.8',
    install_requires=[
        'mmengine>=0.10.0,<1.0',
        'mmcv>=2.0.1,<2.2.0',
        'mmpose>=1.3.0,<1.4',
        'mmpretrain>=1.0.0',
        'mmdet>=3.1.0,<3.4',
        'opencv-python',
        'numpy',
        'scipy',
    ],
    extras_require={
        'tests': ['pytest', 'onnx', 'onnxruntime', 'openmim'],
    },
    zip_safe=False,
)
