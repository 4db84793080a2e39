"""The flip test path (every frame flipped, flip_indices applied) and the
head's input contract."""
import pytest
import torch
from model_utils import FLIP_INDICES, build_tiny_model, make_batch

from mgpose_mm.models.utils import VideoTokens


def _expected_flip_heatmaps(model, clips, flipped_clips, flip_indices):
    """0.5 * (heatmaps(clips) + mirror(heatmaps(flipped_clips)) with channels
    swapped)."""
    plain = model.head(model.extract_feat(clips))
    mirrored = model.head(
        model.extract_feat(flipped_clips)).flip(-1)[:, flip_indices]
    return 0.5 * (plain + mirrored)


class FrameProbeBackbone(torch.nn.Module):
    """A backbone whose key-frame tokens carry, at each grid position, every
    frame's pixels there (and whose fine features are zero).

    The tiny ViT at random init attends almost uniformly, which makes its
    output nearly invariant to mirroring the supporting frames; this probe
    makes the heatmaps depend on each frame position by position, so a flip
    test that skipped a frame would give other heatmaps.
    """

    def __init__(self,
                 num_frames=3,
                 key_frame_index=1,
                 grid=(8, 6),
                 channels=96,
                 fine_channels=32):
        super().__init__()
        self.num_frames = num_frames
        self.key_frame_index = key_frame_index
        self.grid = grid
        self.embed = torch.nn.Linear(3 * num_frames, channels)
        self.fine_channels = fine_channels

    def forward_frames(
            self, clips):  # the estimator checks that a video backbone has it
        raise NotImplementedError

    def forward(self, clips, pruner=None):
        batch, num_frames = clips.shape[:2]
        pooled = torch.nn.functional.adaptive_avg_pool2d(
            clips.flatten(1, 2), self.grid)  # (B, 3T, h, w)
        key_tokens = self.embed(pooled.flatten(2).transpose(1,
                                                            2))  # (B, h*w, C)
        tokens = key_tokens.repeat(
            1, num_frames, 1)  # every frame's slot; the head reads the key's
        index = torch.arange(tokens.shape[1]).expand(batch, -1)
        video_tokens = VideoTokens(tokens, index, num_frames,
                                   self.key_frame_index, self.grid)
        height, width = clips.shape[
            -2:]  # zero fine features: only the tokens reach the heatmaps
        return video_tokens, clips.new_zeros(batch, self.fine_channels,
                                             height // 4, width // 4)


def test_flip_test_flips_every_frame_and_applies_flip_indices():
    model = build_tiny_model().eval()
    torch.manual_seed(0)
    model.backbone = FrameProbeBackbone(fine_channels=model.head.fine_channels)
    # init std 0.001 would let the fine features dominate
    for deconv in model.head.deconv_layers:
        if isinstance(deconv, torch.nn.ConvTranspose2d):
            torch.nn.init.normal_(deconv.weight, std=0.05)
    model.test_cfg = dict(
        flip_test=True,
        flip_mode='heatmap',
        shift_heatmap=False,
        output_heatmaps=True)
    clips, samples = make_batch(batch_size=2)
    backbone_inputs, head_inputs = [], []
    model.backbone.register_forward_pre_hook(
        lambda m, args: backbone_inputs.append(args[0].clone()))
    head_forward = model.head.forward

    def recording_forward(feats):
        head_inputs.append(feats)
        return head_forward(feats)

    model.head.forward = recording_forward
    with torch.no_grad():
        results = model(clips, samples, mode='predict')
        heatmaps = torch.stack([r.pred_fields.heatmaps for r in results])

        # the backbone saw the clips, then the clips with every frame mirrored
        # along W
        assert len(backbone_inputs) == 2
        assert torch.equal(backbone_inputs[0], clips)
        for t in range(clips.shape[1]):
            assert torch.equal(backbone_inputs[1][:, t],
                               clips[:, t].flip(-1)), f'frame {t}'
        # the head got one (VideoTokens, Tensor) pair per pass, never the
        # [feats, feats_flip] list
        assert len(head_inputs) == 2
        for feats in head_inputs:
            assert isinstance(feats[0], VideoTokens) and isinstance(
                feats[1], torch.Tensor)

        all_flipped = clips.flip(-1)
        expected = _expected_flip_heatmaps(model, clips, all_flipped,
                                           FLIP_INDICES)
        torch.testing.assert_close(heatmaps, expected, rtol=1e-4, atol=1e-6)

        # the check is sensitive to both faults: mirroring only the key frame,
        # and no channel swap
        for t in (0, 2):
            one_frame_kept = all_flipped.clone()
            one_frame_kept[:, t] = clips[:, t]
            wrong = _expected_flip_heatmaps(model, clips, one_frame_kept,
                                            FLIP_INDICES)
            assert (wrong - expected
                    ).abs().max() > 0.05 * expected.abs().max(), f'frame {t}'
        wrong = _expected_flip_heatmaps(model, clips, all_flipped,
                                        list(range(17)))
        assert (wrong - expected).abs().max() > 0.05 * expected.abs().max()


def _pair(batch=2):
    model = build_tiny_model().eval()
    clips, _ = make_batch(batch_size=batch)
    with torch.no_grad():
        return model, model.extract_feat(clips)


def test_head_accepts_the_extract_feat_pair_as_tuple_or_list():
    model, (tokens, fine) = _pair()
    with torch.no_grad():
        as_tuple = model.head((tokens, fine))
        as_list = model.head([tokens, fine])
    assert as_tuple.shape == (2, 17, 32, 24)
    torch.testing.assert_close(as_tuple, as_list)


@pytest.mark.parametrize('make_feats, match', [
    (lambda tokens, fine:
     (torch.zeros(2, 96, 8, 6), fine), r'got tuple\[Tensor\(2, 96, 8, 6\)'),
    (lambda tokens, fine: [(tokens, fine), (tokens, fine)], 'flip-test list'),
    (lambda tokens, fine: tokens, 'got VideoTokens'),
    (lambda tokens, fine:
     (tokens, fine, fine), r'expects feats = \(VideoTokens, Tensor\)'),
])
def test_head_rejects_other_inputs_with_a_clear_type_error(make_feats, match):
    model, (tokens, fine) = _pair()
    with pytest.raises(TypeError, match=match):
        model.head(make_feats(tokens, fine))


def test_head_rejects_fine_feats_of_another_batch():
    model, (tokens, fine) = _pair()
    with pytest.raises(
            ValueError, match=r'B=2 clips .* got \(1, 97, 32, 24\)'):
        model.head((tokens, fine[:1]))


def test_flip_test_mirrors_every_frame_of_the_real_fine_path():
    """The tiny config's own backbone (fine stem on the key frame and on the
    supporting frames, pooled): the flip test feeds the stem every frame
    mirrored, and each supporting frame's fine features reach the heatmaps, so
    a flip test that mirrored only the key frame's fine features would give
    other heatmaps."""
    model = build_tiny_model().eval()
    backbone = model.backbone
    assert backbone.fine_frames == 'pooled' and backbone.fine_stem is not None
    num_frames = backbone.num_frames
    # Random init lets the fusion read every frame's fine channels (the
    # deconvolutions' init std 0.001 would leave the fine features alone).
    torch.manual_seed(1)
    for module in model.head.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(module.weight, std=0.05)
    model.test_cfg = dict(
        flip_test=True,
        flip_mode='heatmap',
        shift_heatmap=False,
        output_heatmaps=True)
    clips, samples = make_batch(batch_size=2)
    stem_inputs = []
    backbone.fine_stem.register_forward_pre_hook(
        lambda m, args: stem_inputs.append(args[0].clone()))
    with torch.no_grad():
        results = model(clips, samples, mode='predict')
        heatmaps = torch.stack([r.pred_fields.heatmaps for r in results])

        # the stem saw the key frame and the supporting frames, then the same
        # frames mirrored along W
        key = backbone.key_frame_index
        support = [t for t in range(num_frames) if t != key]
        assert len(stem_inputs) == 4
        assert torch.equal(stem_inputs[0], clips[:, key])
        assert torch.equal(stem_inputs[1], clips[:, support].flatten(0, 1))
        assert torch.equal(stem_inputs[2], clips.flip(-1)[:, key])
        assert torch.equal(stem_inputs[3],
                           clips.flip(-1)[:, support].flatten(0, 1))

        all_flipped = clips.flip(-1)
        expected = _expected_flip_heatmaps(model, clips, all_flipped,
                                           FLIP_INDICES)
        torch.testing.assert_close(heatmaps, expected, rtol=1e-4, atol=1e-6)

        # sensitivity: the fine features of each supporting frame matter
        plain = model.head(model.extract_feat(clips))
        tokens, fine = model.extract_feat(all_flipped)
        channels = backbone.fine_channels
        for t in range(num_frames):
            if t == backbone.key_frame_index:
                continue
            one_frame_kept = all_flipped.clone()
            one_frame_kept[:, t] = clips[:, t]
            wrong_fine = backbone.forward_fine(one_frame_kept)
            # the key frame's block is unchanged, the pooled blocks are not
            assert torch.equal(wrong_fine[:, :channels], fine[:, :channels])
            assert not torch.equal(wrong_fine[:, channels:], fine[:,
                                                                  channels:])
            mirrored = model.head((tokens, wrong_fine)).flip(-1)[:,
                                                                 FLIP_INDICES]
            wrong = 0.5 * (plain + mirrored)
            assert (wrong - expected).abs().max() > \
                0.05 * expected.abs().max(), f'frame {t}'
