"""The benchmark in one process: build every variant, count FLOPs, time
interleaved, measure memory."""
import json
import os
import os.path as osp
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from benchmark_plot import plot_benchmark
from benchmark_report import build_rows, stage_rows, write_reports
from mmcv.cnn import fuse_conv_bn

from mgpose_mm.benchmark.flops import model_cost
from mgpose_mm.benchmark.memory import measure_memory
from mgpose_mm.benchmark.specs import (BASELINE_KEY, build_model, ftp_defaults,
                                       ftp_key, input_hw, make_clips,
                                       model_inputs, variant_specs)
from mgpose_mm.benchmark.timing import (autocast_context, forward_runner,
                                        synchronizer, time_round_robin)

MEMORY_METHOD = {
    'cpu': ('peak-RSS increase over the RSS before the call '
            '(VmHWM reset via /proc/self/clear_refs)'),
    'cuda':
    'torch.cuda.max_memory_allocated (weights + activations [+ grads])',
}
ISOLATION = {
    'subprocess': 'one child process per model',
    'inline': 'measured in the benchmark process'
}


@dataclass
class BenchmarkSettings:
    """What to measure.

    See ``tools/analysis_tools/benchmark.py --help`` for each field.
    """
    config: str
    device: str = 'cpu'
    amp: bool = False
    # None: float16 on CUDA, bfloat16 on CPU (when amp)
    amp_dtype: Optional[str] = None
    batch_sizes: Sequence[int] = (1, 32)
    eps: Sequence[float] = (0.0, 0.25, 0.5, 0.75)
    repeats: int = 10
    warmup: int = 3
    # True: every MMPose peer; or a list of PEER_CONFIGS keys
    peers: Union[bool, Sequence[str]] = False
    # more FTP-Pose configs, one row each at their own settings
    compare: Sequence[str] = ()
    onnx: bool = False
    work_dir: Optional[str] = None
    memory: str = 'subprocess'  # 'subprocess' | 'inline' | 'none'
    # 'default' (eps=0 and default eps) | 'all' | 'none'
    train_memory: str = 'default'
    ap_json: Sequence[str] = ()
    seed: int = 0
    # torch (and onnxruntime) CPU threads; None keeps torch's default
    threads: Optional[int] = None


def _check_settings(s: BenchmarkSettings) -> None:
    if torch.device(s.device).type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(
            f'--device {s.device} asked for, but CUDA is not available')
    if not s.batch_sizes or min(s.batch_sizes) < 1:
        raise ValueError(
            f'batch sizes must be >= 1, got {list(s.batch_sizes)}')
    if s.memory not in ('subprocess', 'inline', 'none'):
        raise ValueError("memory must be 'subprocess', 'inline' or 'none', "
                         f'got {s.memory!r}')
    if s.train_memory not in ('default', 'all', 'none'):
        raise ValueError("train_memory must be 'default', 'all' or 'none', "
                         f'got {s.train_memory!r}')
    if s.threads is not None and s.threads < 1:
        raise ValueError(f'threads must be >= 1, got {s.threads}')
    if s.amp:
        s.amp_dtype = s.amp_dtype or ('float16' if torch.device(s.device).type
                                      == 'cuda' else 'bfloat16')
    else:
        s.amp_dtype = None


def load_ap(files: Sequence[str]) -> Dict[str, float]:
    """Merge ``--ap-json`` files, JSON objects of variant key -> AP."""
    ap: Dict[str, float] = {}
    for path in files:
        if not osp.isfile(path):
            raise FileNotFoundError(f'--ap-json file not found: {path}')
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict) or not all(
                isinstance(v, (int, float)) for v in data.values()):
            raise ValueError(
                f'{path}: expected a JSON object mapping variant key -> '
                'AP number, '
                f"e.g. {{\"{BASELINE_KEY}\": 80.1, \"ftp_dpc_eps0.5\": 80.0}}")
        ap.update({k: float(v) for k, v in data.items()})
    return ap


def _fit_batch(models: Dict[str,
                            torch.nn.Module], batch: int, clip_args: tuple,
               device: str, amp_dtype: Optional[str], log: Callable) -> int:
    """Largest batch <= ``batch`` whose inference fits on the GPU.

    It must fit for every model; the batch is halved until it does.
    """
    if torch.device(device).type != 'cuda':
        return batch
    num_frames, hw, key_frame_index = clip_args
    while batch >= 1:
        try:
            clips = make_clips(batch, num_frames, hw, device)
            for model in models.values():
                forward_runner(
                    lambda m=model: m._forward(
                        model_inputs(m, clips, key_frame_index)),
                    device,
                    amp_dtype)()
            return batch
        except torch.cuda.OutOfMemoryError:
            log(f'batch {batch} does not fit on {device}; trying {batch // 2}')
            torch.cuda.empty_cache()
            batch //= 2
    raise RuntimeError('not even batch 1 fits on the GPU')


def _runners(specs, models, sessions, clips, key_frame_index, device,
             amp_dtype) -> Dict[str, Callable]:
    """Runner name -> callable: every model forward, every token pruner alone,
    every ONNX session."""
    backend = 'pytorch-amp' if amp_dtype else 'pytorch'
    runners = {}
    for spec in specs:
        model = models[spec.key]
        inputs = model_inputs(model, clips, key_frame_index)
        runners[f'{spec.key}|{backend}'] = forward_runner(
            lambda m=model, x=inputs: m._forward(x), device, amp_dtype)
        if spec.family == 'ftp-pose' and spec.prune_ratio:
            with torch.inference_mode(), autocast_context(device, amp_dtype):
                tokens = model.backbone.forward_frames(inputs)
            runners[f'{spec.key}|pruner'] = forward_runner(
                lambda m=model, t=tokens: m.backbone.pruner(t),
                device,
                amp_dtype)
        if spec.key in sessions:
            feed = {'clips': clips.float().cpu().numpy()}
            runners[f'{spec.key}|onnxruntime'] = lambda s=sessions[
                spec.key], f=feed: s.run(None, f)
    return runners


def runner_counts(runners: Dict[str, Callable]) -> str:
    """'7 variants + 6 token pruners alone + ...': what the timed runners are
    (names end with ``|pytorch``, ``|pytorch-amp``, ``|pruner`` or
    ``|onnxruntime``, see :func:`_runners`)."""
    kinds = [name.rpartition('|')[2] for name in runners]
    models = sum(kind.startswith('pytorch') for kind in kinds)
    parts = [f'{models} variant{"s" * (models != 1)}']
    for kind, label in (('pruner', 'token pruner(s) alone'),
                        ('onnxruntime', 'ONNX session(s)')):
        if kinds.count(kind):
            parts.append(f'{kinds.count(kind)} {label}')
    return ' + '.join(parts)


def _export_sessions(specs, models, s: BenchmarkSettings,
                     log) -> Tuple[Dict[str, object], Dict[str, str]]:
    from mgpose_mm.deployment import create_session, export_onnx
    work_dir = s.work_dir or tempfile.mkdtemp(prefix='mgpose_onnx_')
    sessions, files = {}, {}
    for spec in specs:
        if spec.family != 'ftp-pose' or spec.selector == 'random':
            continue
        path = osp.join(work_dir, 'onnx', f'{spec.key}.onnx')
        log(f'exporting {spec.key} to ONNX: {path}')
        export_onnx(models[spec.key].float(), path, batch_size=1)
        sessions[spec.key] = create_session(
            path, s.device, num_threads=torch.get_num_threads())
        files[spec.key] = path
    return sessions, files


def _build_models(s: BenchmarkSettings, specs, say: Callable):
    """Every variant's model and its FLOPs at batch 1; the clip layout
    ``(num_frames, (H, W), key_frame_index)`` of the baseline."""
    models = {}
    for spec in specs:
        say(f'building {spec.key}: {spec.label}')
        models[spec.key] = build_model(spec, s.device, s.seed)
    baseline = models[BASELINE_KEY]
    num_frames = baseline.backbone.num_frames
    key_frame_index = baseline.backbone.key_frame_index
    hw = input_hw(specs[0])
    for spec in specs:
        if spec.family == 'peer' and input_hw(spec) != hw:
            say(f'note: {spec.key} is configured for {input_hw(spec)}; '
                f'it is run at {hw} like FTP-Pose')
    costs = {}
    for spec in specs:
        say(f'counting FLOPs of {spec.key} (batch 1)')
        model = models[spec.key]
        costs[spec.key] = model_cost(
            model,
            model_inputs(model, make_clips(1, num_frames, hw, s.device),
                         key_frame_index))
    return models, costs, (num_frames, hw, key_frame_index)


def _time_batches(s: BenchmarkSettings, specs, models, sessions,
                  clip_args: tuple, say: Callable) -> Dict[int, dict]:
    """Batch -> runner name -> times (round robin over every runner)."""
    num_frames, hw, key_frame_index = clip_args
    times = {}
    sync = synchronizer(s.device)
    for requested in sorted(set(s.batch_sizes)):
        batch = _fit_batch(models, requested, clip_args, s.device, s.amp_dtype,
                           say)
        clips = make_clips(batch, num_frames, hw, s.device, seed=s.seed)
        runners = _runners(specs, models, sessions, clips, key_frame_index,
                           s.device, s.amp_dtype)
        say(f'batch {batch}: timing {runner_counts(runners)} '
            f'(warm-up {s.warmup}, repeats {s.repeats})')
        times[batch] = time_round_robin(
            runners,
            s.warmup,
            s.repeats,
            sync,
            log=lambda msg, b=batch: say(f'batch {b}:{msg}'))
    return times


def _measure_memories(s: BenchmarkSettings, specs, default_key: str,
                      batch_sizes, clip_args: tuple,
                      say: Callable) -> Dict[str, dict]:
    """Variant key -> peak memory of inference (every batch) and, for the
    ``--train-memory`` variants, of training at the largest batch."""
    if s.memory == 'none':
        return {}
    num_frames, hw, key_frame_index = clip_args
    max_batch = batch_sizes[-1]
    train_keys = {
        'none': set(),
        'all': {sp.key
                for sp in specs},
        'default': {BASELINE_KEY, default_key}
    }[s.train_memory]
    memory = {}
    for spec in specs:
        train_batches = [max_batch] if spec.key in train_keys else []
        say(f'memory of {spec.key}: inference at batch {batch_sizes}' +
            (f', training at batch {max_batch}' if train_batches else '') +
            f' ({s.memory})')
        memory[spec.key] = measure_memory(
            spec,
            batch_sizes,
            train_batches,
            s.device,
            s.amp_dtype, (num_frames, *hw),
            key_frame_index,
            isolation=s.memory)
    return memory


def run_benchmark(settings: BenchmarkSettings,
                  log: Callable[[str], None] = print) -> dict:
    """Measure every variant; return (and, with ``work_dir``, write) results.

    Returns:
        dict: ``settings``, ``environment``, ``input_shape``, ``default_eps``,
        ``rows`` (the main table, columns
        :data:`benchmark_report.COLUMNS`), ``stages`` (per-stage cost table),
        ``memory_method``, ``onnx`` (exported files) and, with a work_dir,
        ``files``.
    """
    s = settings
    _check_settings(s)
    if s.threads:
        torch.set_num_threads(s.threads)
    start = time.perf_counter()
    say = (lambda msg: log(
        f'[benchmark {time.perf_counter() - start:6.1f}s] {msg}'))
    default_eps, default_selector = ftp_defaults(s.config)
    specs = variant_specs(s.config, s.eps, s.peers, s.compare)
    default_key = ftp_key(default_eps, default_selector)
    ap = load_ap(s.ap_json)

    models, costs, clip_args = _build_models(s, specs, say)
    num_frames, hw, _ = clip_args

    sessions, onnx_files = _export_sessions(specs, models, s,
                                            say) if s.onnx else ({}, {})

    # timed as the inference API runs them (init_video_pose_model), every
    # model alike: BatchNorm folded into the preceding convolution
    models = {key: fuse_conv_bn(model) for key, model in models.items()}
    times = _time_batches(s, specs, models, sessions, clip_args, say)
    batch_sizes = sorted(times)
    max_batch = batch_sizes[-1]

    memory = _measure_memories(s, specs, default_key, batch_sizes, clip_args,
                               say)

    cuda = torch.device(s.device).type == 'cuda'
    rows = build_rows(specs, costs, times, memory, ap, cuda, num_frames)
    results = dict(
        settings=asdict(s),
        environment=_environment(s.device),
        input_shape=[max_batch, num_frames, 3, *hw],
        default_eps=default_eps,
        default_variant=default_key,
        variants=[spec.to_dict() for spec in specs],
        rows=rows,
        stages=stage_rows(specs, costs),
        costs={key: cost.to_dict()
               for key, cost in costs.items()},
        memory_method=_memory_method(s.memory, cuda),
        onnx=onnx_files)
    if s.work_dir:
        os.makedirs(s.work_dir, exist_ok=True)
        files = write_reports(results, s.work_dir)
        files['png'] = plot_benchmark(
            rows, max_batch, osp.join(s.work_dir, 'benchmark.png'),
            'pytorch-amp' if s.amp_dtype else 'pytorch')
        results['files'] = files
        say('wrote ' + ', '.join(files.values()))
    return results


def _memory_method(isolation: str, cuda: bool) -> str:
    if isolation == 'none':
        return 'not measured'
    method = MEMORY_METHOD['cuda' if cuda else 'cpu']
    return f'{method}, {ISOLATION[isolation]}'


def _environment(device: str) -> dict:
    """torch and Python versions, the device's name and the thread count."""
    cuda = torch.device(device).type == 'cuda'
    return dict(
        torch=torch.__version__,
        python=platform.python_version(),
        device_name=torch.cuda.get_device_name(device)
        if cuda else platform.processor() or platform.machine(),
        threads=torch.get_num_threads())
