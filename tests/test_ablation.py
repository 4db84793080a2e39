"""Ablation study: bootstrap on a known distribution, paired statistics,
resumable runner."""
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO_ROOT, load_tool

from mgpose_mm.evaluation.functional.subsets import (FrameRecord,
                                                     JointDetections)

report = load_tool('ablation_report')
runner = load_tool('ablation_runner')
stats_mod = load_tool('ablation_stats')
K = 17


def test_bootstrap_interval_of_a_normal_mean():
    """Mean of n = 100 draws of N(3, 2^2): the 95 % interval has half-width
    ~1.96 * 2 / 10 and covers the true mean in about 95 % of repeated
    experiments."""
    rng = np.random.default_rng(0)
    covered, widths = 0, []
    for rep in range(200):
        values = rng.normal(3.0, 2.0, 100)
        low, high = stats_mod.bootstrap_mean_interval(
            values, num_boot=1000, seed=rep)
        covered += low <= 3.0 <= high
        widths.append((high - low) / 2)
    assert np.mean(widths) == pytest.approx(1.96 * 2.0 / 10, rel=0.1)
    assert 0.88 <= covered / 200 <= 0.99


def test_bootstrap_weights_intervals_and_sample_size():
    w = stats_mod.bootstrap_weights(5, 300, np.random.default_rng(0))
    assert w.shape == (300, 5) and (w.sum(1) == 5).all() and (w >= 0).all()
    with pytest.raises(ValueError):
        stats_mod.bootstrap_weights(0, 10, np.random.default_rng(0))
    assert stats_mod.percentile_interval(np.arange(101.0),
                                         0.9) == pytest.approx((5.0, 95.0))
    assert all(np.isnan(stats_mod.percentile_interval(np.array([np.nan]))))
    assert stats_mod.videos_for_half_width(2.0, 16, 1.0) == 64
    assert stats_mod.videos_for_half_width(1.0, 50, 1.0) == 50


def _records(rng, num_videos, quality):
    """One person per frame, 3 frames per video; a joint is a TP with
    probability quality."""
    recs = []
    for v in range(num_videos):
        for _ in range(3):
            labels = (rng.random((1, K)) < quality)
            recs.append(
                FrameRecord(f'v{v:02d}', rng.random((1, K)), labels,
                            np.ones((1, K), bool), np.ones(K, np.int64)))
    return recs


def test_summarize_study_pairs_seeds_and_videos():
    rng = np.random.default_rng(0)
    study = {
        'ref': {s: JointDetections(_records(rng, 30, 0.5))
                for s in (0, 1)},
        'better':
        {s: JointDetections(_records(rng, 30, 0.8))
         for s in (0, 1, 2)}
    }
    stats = stats_mod.summarize_study(study, 'ref', num_boot=300)
    ref, better = stats['ref'], stats['better']
    assert ref['diff_per_seed'] == {
        0: 0.0,
        1: 0.0
    } and ref['diff_ci'] == (0.0, 0.0)
    assert better['paired_seeds'] == [0, 1]
    assert better['per_seed'] == {
        s: study['better'][s].total_ap()
        for s in (0, 1, 2)
    }
    assert better['diff_per_seed'] == {
        s: better['per_seed'][s] - ref['per_seed'][s]
        for s in (0, 1)
    }
    assert better['mean'] == pytest.approx(
        np.mean(list(better['per_seed'].values())))
    assert better['ci'][0] < better['mean'] < better['ci'][1]
    assert better['diff_mean'] > 15 and better['diff_ci'][0] > 0
    low, high = better['diff_ci_seeds']
    assert low <= better['diff_mean'] <= high
    study['other'] = {0: JointDetections(_records(rng, 12, 0.5))}
    with pytest.raises(ValueError, match='same validation videos'):
        stats_mod.summarize_study(study, 'ref', num_boot=10)


FAKE_TRAIN = textwrap.dedent('''
    import os, sys
    args = sys.argv[1:]
    work_dir = args[args.index('--work-dir') + 1]
    os.makedirs(work_dir, exist_ok=True)
    with open(os.environ['FAKE_CALLS'], 'a') as f:
        f.write('train ' + work_dir + '\\n')
    ckpt = os.path.join(work_dir, 'epoch_1.pth')
    open(ckpt, 'w').write('weights')
    open(os.path.join(work_dir, 'last_checkpoint'), 'w').write(ckpt)
''')

FAKE_TEST = textwrap.dedent('''
    # writes the records with the metric's own writer
    import json, os, sys
    import numpy as np
    from mgpose_mm.evaluation.functional.subsets import FrameRecord
    from mgpose_mm.evaluation.metrics.posetrack_subsets import dump_records
    args = sys.argv[1:]
    with open(os.environ['FAKE_CALLS'], 'a') as f:
        f.write('test ' + args[args.index('--work-dir') + 1] + '\\n')
    options = dict(
        o.split('=', 1) for o in args[args.index('--cfg-options') + 1:])
    rng = np.random.default_rng(sum(map(ord, os.path.basename(args[0]))))
    recs = [
        FrameRecord(video='v%d' % (i // 2), scores=rng.random((1, 17)),
                    labels=rng.random((1, 17)) < 0.6,
                    has_pred=np.ones((1, 17), bool),
                    num_gt=np.ones(17, np.int64)) for i in range(20)]
    subsets = dict(total=recs, hard=recs[:6], occluded=recs[:4], blurred=[])
    dump_records(subsets, options['test_evaluator.record_file'])
    json.dump({'posetrack/Total AP': 50.0},
              open(args[args.index('--out') + 1], 'w'))
''')


@pytest.fixture
def fake_study(tmp_path, monkeypatch):
    scripts = tmp_path / 'scripts'
    scripts.mkdir()
    (scripts / 'train.py').write_text(FAKE_TRAIN)
    (scripts / 'test.py').write_text(FAKE_TEST)
    configs = []
    for name in ('a_cfg', 'b_cfg'):
        path = tmp_path / f'{name}.py'
        path.write_text('x = 1\n')
        configs.append(str(path))
    calls = tmp_path / 'calls.txt'
    calls.write_text('')
    options = runner.StudyOptions(
        device='cpu',
        python=sys.executable,
        train_script=str(scripts / 'train.py'),
        test_script=str(scripts / 'test.py'),
        env=dict(FAKE_CALLS=str(calls)))
    return configs, options, calls, str(tmp_path / 'work')


def test_runner_skips_finished_runs(fake_study):
    configs, options, calls, work = fake_study
    runs = runner.plan_runs(configs, [0, 1], work)
    assert [(r.name, r.seed) for r in runs] == [('a_cfg', 0), ('b_cfg', 0),
                                                ('a_cfg', 1), ('b_cfg', 1)]
    with pytest.raises(ValueError, match='unique'):
        runner.plan_runs([configs[0], configs[0]], [0], work)
    with pytest.raises(FileNotFoundError, match='config not found'):
        runner.plan_runs([configs[0] + '.missing'], [0], work)
    ticks = []
    counts = runner.execute(
        runs, options, log=lambda m: None, progress=lambda: ticks.append(1))
    assert counts == dict(skipped=0, trained=4, tested=4) and len(ticks) == 4
    lines = calls.read_text().splitlines()
    assert sum(line.startswith('train') for line in lines) == 4
    assert all(runner.is_finished(r) for r in runs)
    result = json.load(open(runs[0].result_file))
    assert result['seed'] == 0 and result['metrics'] == {
        'posetrack/Total AP': 50.0
    }

    # a second call does nothing
    assert runner.execute(
        runs, options, log=lambda m: None) == dict(
            skipped=4, trained=0, tested=0)
    assert calls.read_text().splitlines() == lines
    # a run whose test was lost is tested again, without training again
    os.remove(runs[3].result_file)
    os.remove(runs[3].records_file)
    assert runner.execute(
        runs, options, log=lambda m: None) == dict(
            skipped=3, trained=0, tested=1)
    new = calls.read_text().splitlines()[len(lines):]
    assert new == [f'test {runs[3].test_dir}']
    # the time estimate counts only what is left: nothing here, one test after
    # a lost result
    finished = [r for r in runs if runner.is_finished(r)]
    assert runner.estimate_seconds([], finished, 100, 10) == 0
    os.remove(runs[1].result_file)
    estimate = runner.estimate_seconds([runs[1]], finished[:1], 100, 10)
    assert estimate == pytest.approx(
        json.load(open(runs[0].result_file))['test_s'])


def test_committed_runs_count_as_finished_without_checkpoint(fake_study):
    """The committed per-run results (metrics, records, training summary; no
    checkpoint, no result.json) are finished runs: nothing is retrained or
    retested, the report loads them, a new seed runs alone."""
    configs, options, calls, work = fake_study
    runs = runner.plan_runs(configs, [0], work)
    runner.execute(runs, options, log=lambda m: None)
    for run in runs:  # what a fresh clone of the repository has
        os.remove(run.result_file)
        os.remove(json.load(open(run.train_marker))['checkpoint'])
    before = calls.read_text().splitlines()
    more = runner.plan_runs(configs, [0, 1], work)
    assert runner.execute(
        more, options, log=lambda m: None) == dict(
            skipped=2, trained=2, tested=2)
    new = calls.read_text().splitlines()[len(before):]
    assert sorted(new) == sorted([f'train {r.work_dir}' for r in more[2:]] +
                                 [f'test {r.test_dir}' for r in more[2:]])
    study = report.load_study(more)
    assert sorted(study['total']['a_cfg']) == [0, 1]
    assert runner.estimate_seconds([], more[:2], 100, 10) == 0


def test_runner_runs_two_at_a_time_and_still_skips_finished_runs(fake_study):
    configs, options, calls, work = fake_study
    runs = runner.plan_runs(configs, [0, 1, 2], work)
    runner.execute(runs[:2], options, log=lambda m: None)
    ticks = []
    counts = runner.execute(
        runs,
        options,
        log=lambda m: None,
        progress=lambda: ticks.append(1),
        jobs=2)
    assert counts == dict(skipped=2, trained=4, tested=4) and len(ticks) == 6
    trained = [
        line for line in calls.read_text().splitlines()
        if line.startswith('train')
    ]
    assert sorted(trained) == sorted(f'train {r.work_dir}'
                                     for r in runs)  # each run once
    assert all(runner.is_finished(r) for r in runs)
    with pytest.raises(ValueError, match='jobs'):
        runner.execute(runs, options, jobs=0)


@pytest.mark.parametrize('jobs', [1, 2])
def test_runner_starts_no_run_after_a_failure(fake_study, jobs):
    configs, options, calls, work = fake_study
    runs = runner.plan_runs(configs, [0, 1, 2], work)

    def launcher(cmd, **kwargs):  # the first training fails
        if 'train.py' in cmd[1] and cmd[cmd.index('--work-dir') +
                                        1] == runs[0].work_dir:
            return subprocess.CompletedProcess(cmd, 1)
        return subprocess.run(cmd, **kwargs)

    with pytest.raises(RuntimeError, match='command failed'):
        runner.execute(
            runs, options, launcher=launcher, log=lambda m: None, jobs=jobs)
    started = {
        line.split(' ', 1)[1]
        for line in calls.read_text().splitlines()
    }
    # with two at a time the second run may already be in flight (it then
    # finishes); no later run starts
    in_flight = {runs[1].work_dir, runs[1].test_dir} if jobs == 2 else set()
    assert started <= in_flight and (not started or started == in_flight)
    assert not any(runner.is_trained(r) for r in [runs[0], *runs[2:]])


def test_report_only_cli_tabulates_finished_runs(fake_study):
    """``ablation.py --report-only`` run as a script (from another folder)
    writes the tables of the finished runs: the statistics of their records,
    short names, the paired differences to the reference."""
    configs, options, calls, work = fake_study
    runs = runner.plan_runs(configs, [0, 1], work)
    runner.execute(runs, options, log=lambda m: None)
    tool = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'ablation.py')
    proc = subprocess.run([
        sys.executable, tool, *configs, '--seeds', '0', '1', '--work-dir',
        work, '--report-only', '--num-boot', '50'
    ],
                          capture_output=True,
                          text=True,
                          cwd=osp.dirname(work),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = report.summarize(report.load_study(runs), 'a_cfg', num_boot=50)
    assert set(stats) == {'total', 'hard', 'occluded', 'blurred'}
    total = stats['total']['b_cfg']
    assert total['paired_seeds'] == [0, 1]
    assert total['diff_mean'] == pytest.approx(
        total['mean'] - stats['total']['a_cfg']['mean']) != 0
    short = report.short_names(['a_cfg', 'b_cfg'])
    assert short == dict(a_cfg='a', b_cfg='b')
    assert report.short_names(['a_x', 'b_y']) == {'a_x': 'a_x', 'b_y': 'b_y'}
    names = [
        'ftp-pose-eps0_vit-tiny_1xb16-12e_synthetic-128x96',
        'ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96'
    ]
    assert report.short_names(names) == dict(
        zip(names, ['ftp-pose-eps0', 'ftp-pose']))
    stats = report.rename(stats, short)
    table = report.markdown_table(stats, ['a', 'b'], 'a')
    assert f"| b | 2 | {total['per_seed'][0]:.1f} / " in table
    assert f"| {total['diff_mean']:+.1f} |" in table
    with open(osp.join(work, 'ablation_val.md')) as f:
        assert f.read() == table
    assert table in proc.stdout
    with open(osp.join(work, 'ablation_val.csv')) as f:
        rows = f.read().splitlines()
    assert rows[0].startswith('subset,config,num_seeds') and len(rows) == 9
    assert osp.getsize(osp.join(work, 'ablation_val.png')) > 1000


# ------------------------------------------------------ record files
class _Payload:
    """Unpickling this creates ``marker`` (stands for any code a pickle can
    run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def _random_records(rng):
    recs = []
    for i in range(7):
        persons = i % 3  # frames with 0, 1 and 2 predicted persons
        recs.append(
            FrameRecord(
                video=f'vid_{i // 3}',
                scores=rng.random((persons, K)),
                labels=rng.random((persons, K)) < 0.5,
                has_pred=rng.random((persons, K)) < 0.9,
                num_gt=rng.integers(0, 3, K)))
    return dict(total=recs, hard=recs[2:5], occluded=recs[:1], blurred=[])


def test_record_files_round_trip_through_npz(tmp_path):
    from mgpose_mm.evaluation.functional.subsets import records_ap
    from mgpose_mm.evaluation.metrics.posetrack_subsets import (dump_records,
                                                                load_records)
    records = _random_records(np.random.default_rng(0))
    path = str(tmp_path / 'test_val' / 'records.npz')
    dump_records(records, path)
    assert sorted(os.listdir(tmp_path / 'test_val')) == ['records.npz']
    loaded = load_records(path)
    assert sorted(loaded) == sorted(records)
    for name, recs in records.items():
        assert len(loaded[name]) == len(recs)
        for ours, theirs in zip(loaded[name], recs):
            assert ours.video == theirs.video
            for field in ('scores', 'labels', 'has_pred', 'num_gt'):
                np.testing.assert_array_equal(
                    getattr(ours, field), getattr(theirs, field))
                assert getattr(ours, field).dtype.kind == \
                    np.asarray(getattr(theirs, field)).dtype.kind
    for name in ('total', 'hard'):
        assert records_ap(loaded[name]) == pytest.approx(
            records_ap(records[name]), nan_ok=True)
    from mgpose_mm.errors import ConfigValueError
    with pytest.raises(ConfigValueError, match='must end with .npz'):
        dump_records(records, str(tmp_path / 'records.pkl'))


def test_crafted_record_file_runs_no_code(tmp_path, repo_root):
    import pickle

    from mgpose_mm.errors import InputFileError
    from mgpose_mm.evaluation.metrics.posetrack_subsets import load_records
    marker = tmp_path / 'code_ran'
    # a pickle under the records name (the format of earlier versions) ...
    crafted = tmp_path / 'records.npz'
    crafted.write_bytes(
        pickle.dumps(dict(version=1, subsets=_Payload(marker))))
    # ... and an archive whose array holds a pickled object
    object_npz = tmp_path / 'objects.npz'
    np.savez(
        object_npz,
        version=np.array(1),
        **{'total.video': np.array([_Payload(marker)], dtype=object)})
    for path in (crafted, object_npz):
        with pytest.raises(InputFileError, match='not a version-1 subset'):
            load_records(str(path))
        assert not marker.exists()
    proc = subprocess.run([
        sys.executable,
        osp.join(repo_root, 'tools', 'analysis_tools',
                 'ablation_split_size.py'),
        str(crafted)
    ],
                          capture_output=True,
                          text=True,
                          cwd=str(tmp_path),
                          env=dict(os.environ, PYTHONPATH=repo_root),
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'ablation_split_size.py: error: ')
    assert not marker.exists()


def test_video_jitter_is_the_mean_error_and_resamples_by_video():
    """The jitter table's value is the metric's mean acceleration error over
    the counted joints; a bootstrap draw weights each video's errors by how
    often the video was drawn."""
    errors = {
        'a': np.array([[1.0, np.nan], [3.0, 5.0]]),  # 3 counted, sum 9
        'b': np.array([[10.0, 20.0]]),  # 2 counted, sum 30
    }
    jitter = report.VideoJitter(errors, ['a', 'b', 'c'])  # 'c': no triple
    assert jitter.total_ap() == pytest.approx(39 / 5)
    draws = np.array([[1., 1., 1.], [2., 0., 0.], [0., 1., 5.], [0., 0., 1.]])
    means = jitter.total_ap(draws)
    assert means[:3] == pytest.approx([39 / 5, 3.0, 15.0])
    assert np.isnan(means[3])  # a draw without any counted joint
