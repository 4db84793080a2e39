"""What differs between the supported torch releases (2.1 to 2.14), in one
place.

- **Restricted checkpoint loading.** torch >= 2.5 has
  :func:`torch.serialization.safe_globals` and
  ``get_unsafe_globals_in_checkpoint``; on older torch (whose ``weights_only``
  allow-list cannot be extended) :func:`weights_only_load` passes
  :func:`torch.load` a restricted unpickler that resolves only the same
  allow-list and refuses to ``BUILD`` into a class or a function, and
  :func:`scan_unsafe_globals` lists a file's globals. No path falls back to
  plain :mod:`pickle`.
- **Seeded random numbers in a JIT trace.** The tracer of torch 2.1 cannot
  record an op with a ``torch.Generator`` argument ("unsupported argument type
  in the JIT tracer: at::Generator"), which the ONNX exporter and the FLOP
  counter use: :func:`seeded_rand` draws such numbers outside the trace.
- **ONNX export.** Newer torch defaults to the dynamo-based exporter (the
  ``dynamo`` switch exists from 2.5): :func:`onnx_export_kwargs` selects the
  TorchScript-based one on every release.
"""
import importlib
import inspect
import pickle
import pickletools
import types
import zipfile
from typing import IO, Any, Dict, Iterable, List, Sequence, Union

import _compat_pickle
import torch

FileLike = Union[str, IO[bytes]]

#: torch has ``safe_globals`` and ``get_unsafe_globals_in_checkpoint`` (>= 2.5)
HAS_SAFE_GLOBALS = all(
    hasattr(torch.serialization, name)
    for name in ('safe_globals', 'get_unsafe_globals_in_checkpoint'))

# Allowed by the weights-only unpickler of torch >= 2.5 by default and missing
# from the default list of older releases; kept so that a checkpoint needs the
# same allow-list on every supported torch.
_LATER_TORCH_DEFAULTS = (
    '_codecs.encode', 'builtins.bytearray', 'builtins.complex', 'builtins.set',
    'collections.Counter', 'collections.OrderedDict', 'torch.Size',
    'torch.Tensor', 'torch.device', 'torch.nn.parameter.Parameter',
    'torch.storage.TypedStorage', 'torch.storage.UntypedStorage',
    'torch._utils._rebuild_device_tensor_from_numpy',
    'torch._utils._rebuild_meta_tensor_no_storage',
    'torch._utils._rebuild_nested_tensor', 'torch._utils._rebuild_parameter',
    'torch._utils._rebuild_parameter_with_state',
    'torch._utils._rebuild_qtensor', 'torch._utils._rebuild_sparse_tensor',
    'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2',
    'torch._utils._rebuild_tensor_v3',
    'torch._utils._rebuild_wrapper_subclass',
    'torch._tensor._rebuild_from_type_v2')
# a BUILD into one of these would rewrite a class or a function of the process
_NOT_BUILDABLE = (type, types.FunctionType, types.BuiltinFunctionType,
                  types.MethodType, types.ModuleType)


def global_name(item: Any) -> str:
    """The pickle name of an allow-list entry: ``obj`` or ``(obj, name)``."""
    if isinstance(item, tuple):
        return item[1]
    return f'{item.__module__}.{item.__name__}'


def python3_name(module: str, name: str) -> str:
    """``module.name`` of a pickle global, with the Python 2 names that
    protocols < 3 write mapped as :mod:`pickle` maps them (``__builtin__`` ->
    ``builtins``)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    return f'{module}.{name}'


def _resolve(qualified: str) -> Any:
    module, _, name = qualified.rpartition('.')
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def torch_default_globals() -> Dict[str, Any]:
    """The globals the weights-only unpickler of this torch allows by default,
    plus those newer releases allow (name -> object)."""
    from torch import _weights_only_unpickler
    allowed = dict(_weights_only_unpickler._get_allowed_globals())
    for name in _LATER_TORCH_DEFAULTS:
        obj = _resolve(name)
        if obj is not None:
            allowed.setdefault(name, obj)
    for obj in vars(torch).values():
        if isinstance(obj, (torch.dtype, torch.qscheme)):
            allowed.setdefault(str(obj), obj)
    return allowed


def _restricted_pickle_module(allowed: Dict[str, Any]) -> types.ModuleType:
    """A ``pickle_module`` for :func:`torch.load` that unpickles only the
    ``allowed`` globals (the pure-Python unpickler, so that ``BUILD`` can be
    checked as well)."""

    class RestrictedUnpickler(pickle._Unpickler):
        dispatch = dict(pickle._Unpickler.dispatch)

        def find_class(self, module: str, name: str) -> Any:
            qualified = python3_name(module, name)
            if qualified in allowed:
                return allowed[qualified]
            raise pickle.UnpicklingError(
                f'Unsupported global: GLOBAL {qualified} is not among the '
                'allowed globals')

        def load(self) -> Any:
            try:
                return pickle._Unpickler.load(self)
            except KeyError as error:  # an opcode pickle does not know
                raise pickle.UnpicklingError(
                    f'invalid load key, {error}') from None

        def load_build(self) -> None:
            target = self.stack[-2]  # [..., target, state]
            if isinstance(target, _NOT_BUILDABLE):
                raise pickle.UnpicklingError(
                    f'Unsupported operand {pickle.BUILD[0]}: BUILD into '
                    f'{type(target).__name__} {target!r}')
            pickle._Unpickler.load_build(self)

        dispatch[pickle.BUILD[0]] = load_build

    def load(file: IO[bytes], **kwargs) -> Any:
        return RestrictedUnpickler(file, **kwargs).load()

    module = types.ModuleType('mgpose_mm_restricted_pickle')
    module.Unpickler = RestrictedUnpickler
    module.UnpicklingError = pickle.UnpicklingError
    module.load = load
    return module


def weights_only_load(f: FileLike, map_location=None, allowed_globals=()):
    """``torch.load`` that unpickles only torch's weights-only types and
    ``allowed_globals`` (objects or ``(object, name)`` pairs, as for
    :func:`torch.serialization.safe_globals`); without ``safe_globals`` (torch
    < 2.5) through the restricted unpickler.

    Raises:
        pickle.UnpicklingError: the file holds another global (or, on the
            restricted path, builds into a class or a function).
    """
    if HAS_SAFE_GLOBALS:
        with torch.serialization.safe_globals(list(allowed_globals)):
            return torch.load(f, map_location=map_location, weights_only=True)
    allowed = torch_default_globals()
    allowed.update(
        (global_name(item), item[0] if isinstance(item, tuple) else item)
        for item in allowed_globals)
    return torch.load(
        f,
        map_location=map_location,
        pickle_module=_restricted_pickle_module(allowed),
        weights_only=False)


def _pickle_globals(data: bytes) -> List[str]:
    """Names of the globals a pickle references with ``GLOBAL`` / ``INST``
    (what ``torch.save``'s protocol 2 writes), in order of first use."""
    names: Dict[str, None] = {}
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name in ('GLOBAL', 'INST'):
            names[python3_name(*arg.split(' ', 1))] = None
    return list(names)


def scan_unsafe_globals(f: FileLike) -> List[str]:
    """The globals of a ``torch.save`` zip checkpoint outside
    :func:`torch_default_globals` (without unpickling it; usable on any
    torch).

    Raises:
        ValueError: ``f`` is not a zip checkpoint.
    """
    start = None if isinstance(f, str) else f.tell()
    try:
        if not zipfile.is_zipfile(f):
            raise ValueError('not a zip checkpoint')
        with zipfile.ZipFile(f) as archive:
            records = [
                name for name in archive.namelist()
                if name.split('/')[-1] == 'data.pkl'
            ]
            if not records:
                raise ValueError('the zip archive has no data.pkl')
            data = archive.read(records[0])
    finally:
        if start is not None:
            f.seek(start)
    allowed = torch_default_globals()
    return [name for name in _pickle_globals(data) if name not in allowed]


def unsafe_globals_in_checkpoint(f: FileLike) -> List[str]:
    """The globals of a zip checkpoint that torch's weights-only unpickler does
    not allow by default:
    :func:`torch.serialization.get_unsafe_globals_in_checkpoint` where torch
    has it, else :func:`scan_unsafe_globals`.

    Raises:
        ValueError: ``f`` is not a zip checkpoint (or another error of torch's
            reader).
    """
    if HAS_SAFE_GLOBALS:
        return torch.serialization.get_unsafe_globals_in_checkpoint(f)
    return scan_unsafe_globals(f)


def allowed_global_names(allowed_globals: Iterable) -> List[str]:
    """Pickle names of allow-list entries (objects or ``(object, name)``)."""
    return [global_name(item) for item in allowed_globals]


def onnx_export_kwargs() -> Dict[str, Any]:
    """Keyword arguments of ``torch.onnx.export`` that select the TorchScript-
    based exporter (``dynamo=False`` where the switch exists)."""
    parameters = inspect.signature(torch.onnx.export).parameters
    return {'dynamo': False} if 'dynamo' in parameters else {}


def seeded_rand(shape: Sequence[int], device: torch.device,
                seed: int) -> torch.Tensor:
    """``torch.rand(shape)`` from a new generator seeded with ``seed``.

    In a JIT trace the numbers are drawn with tracing suspended: they depend on
    no input, so they become a constant of the traced graph (the same numbers),
    and torch 2.1's tracer, which cannot record a ``torch.Generator`` argument,
    never sees one.
    """
    generator = torch.Generator(device=device).manual_seed(seed)
    tracing_state = torch._C._get_tracing_state()
    if tracing_state is None:
        return torch.rand(shape, device=device, generator=generator)
    torch._C._set_tracing_state(None)
    try:
        return torch.rand(shape, device=device, generator=generator)
    finally:
        torch._C._set_tracing_state(tracing_state)
