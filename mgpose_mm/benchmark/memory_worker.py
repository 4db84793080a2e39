"""Child-process entry of the memory benchmark.

``python -m mgpose_mm.benchmark.memory_worker '<json arguments>'`` builds one
model, measures it with :func:`mgpose_mm.benchmark.memory.measure_in_process`
and prints one result line.
"""
import json
import sys
from typing import Optional, Sequence

from mgpose_mm.benchmark.memory import RESULT_MARKER, measure_in_process
from mgpose_mm.benchmark.specs import ModelSpec


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = json.loads((argv or sys.argv[1:])[0])
    result = measure_in_process(
        ModelSpec.from_dict(args['spec']), args['batch_sizes'],
        args['train_batch_sizes'], args['device'], args['amp_dtype'],
        tuple(args['clip_shape']), args['key_frame_index'])
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
