"""tools/analysis_tools/pareto.py pairs study AP with benchmark speed."""
import json
import os.path as osp
import subprocess
import sys

from conftest import REPO_ROOT, load_tool

report = load_tool('ablation_report')

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'pareto.py')


def _stats(mean, low, high):
    return dict(
        seeds=[0, 1],
        per_seed={
            0: mean - 1,
            1: mean + 1
        },
        mean=mean,
        std=1.4,
        ci=(low, high))


def _inputs(tmp_path):
    stats = {
        'total': {
            'a_vit-tiny': _stats(45.0, 43.0, 47.0),
            'b_vit-tiny': _stats(44.0, 42.0, 46.0)
        },
        'occluded': {
            'a_vit-tiny': _stats(30.0, 25.0, 35.0),
            'b_vit-tiny': _stats(28.0, 23.0, 33.0)
        }
    }
    csv_path = str(tmp_path / 'ablation_val.csv')
    report.write_csv(csv_path,
                     report.csv_rows(stats, ['a_vit-tiny', 'b_vit-tiny']))
    rows = [
        dict(
            variant=key,
            batch=8,
            backend='pytorch',
            clips_per_s=cps,
            gflops=g,
            speedup=s,
            vs_vitpose_b=v) for key, cps, g, s, v in [(
                'ftp_eps0', 1.0, 65.0, 1.0,
                0.25), ('ftp_dpc_eps0.8', 2.0, 32.0, 2.0, 0.5)]
    ]
    json_path = tmp_path / 'benchmark.json'
    json_path.write_text(json.dumps(dict(rows=rows)))
    return csv_path, str(json_path)


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_pareto_table_pairs_study_ap_with_benchmark_speed(tmp_path):
    csv_path, json_path = _inputs(tmp_path)
    proc = _run('--ablation-csv', csv_path, '--benchmark-json', json_path,
                '--batch', '8', '--pair', 'a=ftp_eps0', 'b=ftp_dpc_eps0.8',
                '--out', str(tmp_path / 'out'))
    assert proc.returncode == 0, proc.stderr
    table = (tmp_path / 'out' / 'pareto.md').read_text()
    assert ('| a_vit-tiny = ftp_eps0 | 2 | 45.0 [43.0, 47.0] | 30.0 '
            '[25.0, 35.0] | 65.0 | 1.00 | 1.00x | 0.25x |') in table
    assert '| b_vit-tiny = ftp_dpc_eps0.8 | 2 | 44.0' in table
    assert '| 2.00 | 2.00x | 0.50x |' in table
    assert (tmp_path / 'out' / 'pareto.png').stat().st_size > 0


def test_pareto_names_a_missing_benchmark_row(tmp_path):
    csv_path, json_path = _inputs(tmp_path)
    proc = _run('--ablation-csv', csv_path, '--benchmark-json', json_path,
                '--batch', '1', '--pair', 'a=ftp_eps0', '--out',
                str(tmp_path / 'out'))
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert "no benchmark row 'ftp_eps0' at batch 1" in proc.stderr
