"""Print PoseTrack AP metrics (the JSON written by ``tools/test.py --out``) as
a Markdown table."""
import argparse
import json

JOINTS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle',
          'Total')


def posetrack_table(metrics: dict, prefix: str = 'posetrack') -> str:
    """Rows 'all' (and 'hard' when present) x columns Head..Ankle, Total (AP,

    %).
    """
    rows = [('all', f'{prefix}/')]
    if f'{prefix}/hard/Total AP' in metrics:
        rows.append(
            ('hard (occluded / blurred key frames)', f'{prefix}/hard/'))
    lines = [
        '| frames | ' + ' | '.join(JOINTS) + ' |',
        '|---' * (len(JOINTS) + 1) + '|'
    ]
    for name, key in rows:
        values = [metrics.get(f'{key}{joint} AP') for joint in JOINTS]
        cells = ['n/a' if v is None or v != v else f'{v:.1f}'
                 for v in values]  # None/NaN: not evaluated
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('metrics_json')
    args = parser.parse_args()
    with open(args.metrics_json) as f:
        print(posetrack_table(json.load(f)))


if __name__ == '__main__':
    main()
