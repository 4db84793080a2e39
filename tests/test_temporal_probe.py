"""The temporal probe: supporting frames really replaced by the key frame, and
the per-seed runs tabulated with paired differences (AP and jitter)."""
import torch
from conftest import TINY_CONFIG, load_tool
from mmengine.config import Config
from mmpose.registry import MODELS

probe = load_tool('temporal_probe')


def test_static_clips_feed_the_key_frame_as_every_frame():
    seen = []

    class Backbone(torch.nn.Module):
        key_frame_index = 2

        def forward(self, clips, pruner=None):
            seen.append(clips)
            return clips.sum()

    clips = torch.randn(2, 3, 3, 8, 6)
    probe.static_clips(Backbone())(clips)
    assert seen[0].shape == clips.shape
    for t in range(3):
        assert torch.equal(seen[0][:, t], clips[:, 2])


def test_probe_tabulates_every_seed_against_the_real_clips(
        small_data, tmp_path):
    import mgpose_mm  # noqa: F401
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    root = small_data['root']
    options = [
        f'test_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.bbox_file={root}annotations/'
        'posetrack18_val_human_detections.json',
        f'test_evaluator.ann_file={root}annotations/posetrack18_val.json',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    work_dir = tmp_path / 'probe'
    probe.main([
        TINY_CONFIG, checkpoint, checkpoint, '--work-dir',
        str(work_dir), '--cfg-options', *options
    ])
    for seed in (0, 1):
        for mode in ('clips', 'static'):
            test_dir = work_dir / f'seed{seed}' / mode / 'test_probe'
            assert (test_dir / 'records.npz').is_file()
            assert (test_dir / 'metrics.json').is_file()
    table = (work_dir / 'probe.md').read_text()
    assert '| clips | 2 |' in table and '| static | 2 |' in table
    assert '**Jitter' in table and 'Diff. to clips' in table
