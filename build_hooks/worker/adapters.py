"""One adapter per framework, used inside that framework's worker only.

An adapter imports its framework once, pins the fair settings (equal intra-op threads, float32
matmul precision without TF32, no persistent compilation cache), detects the device, knows how to
wait for a result, converts results to NumPy, and puts back any global state a topic changed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# XLA sizes its CPU thread pool by the cores this process may run on; torch gets the same count.
from build_hooks.core.host import schedulable_cores
from build_hooks.core.protocol import PERSISTENT_CACHE_ENV

JAX_CACHE_HIT = "/jax/compilation_cache/cache_hits"
JAX_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
JAX_COMPILE_EVENTS = {"/jax/core/compile/jaxpr_trace_duration",
                      "/jax/core/compile/jaxpr_to_mlir_module_duration", JAX_BACKEND_COMPILE}


class JaxAdapter:
    name = "jax"

    def __init__(self) -> None:
        started = time.perf_counter()
        import jax

        self.import_s = time.perf_counter() - started
        self.jax = jax
        # Cold compiles: no persistent cache, whatever the user's environment says; except in a
        # fresh process whose cache state is the measurement (a topic's fresh_process variant):
        # then every program is cached, however quick its compile (JAX's default skips those
        # under 1 s).
        persistent = os.environ.get(PERSISTENT_CACHE_ENV)
        jax.config.update("jax_enable_compilation_cache", bool(persistent))
        if persistent:
            jax.config.update("jax_compilation_cache_dir", persistent)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        # JAX's default lets GPU/TPU matmuls run in TF32/bfloat16 passes; pin full float32.
        jax.config.update("jax_default_matmul_precision", "highest")
        devices = jax.devices()
        self.device = devices[0]
        self.platform = self.device.platform  # "cpu", "gpu" or "tpu"
        self.device_count = len(devices)
        self.uses_cuda = self.platform == "gpu"
        self._baseline = dict(jax.config.values)
        # Called after every timed call: the function itself, no wrapper frame around it.
        self.block: Callable[[Any], Any] = jax.block_until_ready
        # JAX's own compile events: one backend compile per compiled program, with durations.
        self._compilations, self._compile_s, self._cache_hits = 0, 0.0, 0
        jax.monitoring.register_event_duration_secs_listener(self._on_event)
        jax.monitoring.register_event_listener(self._on_count)

    def _on_count(self, event: str, **_: str | int) -> None:
        if event == JAX_CACHE_HIT:
            self._cache_hits += 1

    def _on_event(self, event: str, duration_secs: float, **_: str | int) -> None:
        if event in JAX_COMPILE_EVENTS:
            self._compile_s += duration_secs
            if event == JAX_BACKEND_COMPILE:
                self._compilations += 1

    def compile_stats(self) -> dict[str, Any]:
        """Compilations so far (XLA backend compiles), their seconds (tracing, lowering and
        compiling) and persistent-cache hits, from jax.monitoring; JAX has no graph breaks."""
        # A program loaded from the persistent cache passes the same backend-compile step (and
        # its event) without compiling: those are counted as cache hits, not compilations.
        return {"compilations": self._compilations - self._cache_hits,
                "compile_s": self._compile_s, "graph_breaks": 0,
                "cache_hits": self._cache_hits}

    def to_numpy(self, leaf: Any) -> np.ndarray | None:
        if isinstance(leaf, self.jax.Array):
            array = np.asarray(leaf)
            if array.dtype.kind == "V":  # bfloat16, float8 (ml_dtypes): compare as float32
                array = np.asarray(leaf.astype(self.jax.numpy.float32))
            return array
        return None

    def has_device_arrays(self, result: Any) -> bool:
        leaves = self.jax.tree_util.tree_leaves(result)
        return any(isinstance(leaf, self.jax.Array) for leaf in leaves)

    def restore_state(self) -> list[str]:
        """Put back every jax.config value a topic changed; return the names restored."""
        changed = [k for k, v in self.jax.config.values.items() if self._baseline.get(k) != v]
        restored = []
        for key in changed:
            try:
                self.jax.config.update(key, self._baseline[key])
                restored.append(key)
            except Exception:  # some options refuse changes after start-up
                restored.append(f"{key} (could not be restored)")
        return restored

    def reset_compiler(self) -> None:
        """Forget compiled functions, so the next size compiles from scratch (in memory only)."""
        self.jax.clear_caches()

    def isolate_variant(self) -> None:
        """Nothing to do: JAX's compile caches here are in memory and per function."""

    def warm_up_compiler(self) -> None:
        """Start XLA's compiler once (a jitted gradient of a tiny function), then forget it."""
        jnp = self.jax.numpy
        step = self.jax.jit(self.jax.value_and_grad(lambda x: jnp.sum(x * x + 1.0)))
        self.jax.block_until_ready(step(jnp.arange(4.0)))
        self.reset_compiler()

    def describe(self) -> dict[str, Any]:
        import jaxlib

        return {
            "framework": "jax",
            "version": self.jax.__version__,
            "jaxlib": jaxlib.__version__,
            "numpy": np.__version__,
            "backend": self.jax.default_backend(),
            "device": str(self.device),
            "device_kind": getattr(self.device, "device_kind", self.platform),
            "device_count": self.device_count,
            "accelerator": None if self.platform == "cpu" else self.device.device_kind,
            "intra_op_threads": schedulable_cores() if self.platform == "cpu" else None,
            "threads_note": "XLA's CPU thread pool uses every schedulable core; it has no "
                            "public setting for another count",
            # jax.config sets each option as an attribute at run time; its class declares none.
            "matmul_precision":
                self.jax.config.jax_default_matmul_precision,  # type: ignore[attr-defined]
            "x64": bool(self.jax.config.jax_enable_x64),  # type: ignore[attr-defined]
            "compile_cache": "persistent compilation cache off (jax_enable_compilation_cache="
                             "False); in-memory caches cleared before each size",
            "preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "unset"),
            "import_s": round(self.import_s, 3),
        }


class TorchAdapter:
    name = "pytorch"

    def __init__(self) -> None:
        started = time.perf_counter()
        import torch

        self.import_s = time.perf_counter() - started
        self.torch = torch
        # Equal threads: the same count XLA's CPU pool uses.
        torch.set_num_threads(schedulable_cores())
        # Full float32 everywhere: "highest" makes CUDA and oneDNN matmuls IEEE (no TF32, no
        # bfloat16 passes); cuDNN convolutions and RNNs default to TF32, so they are pinned
        # too, both at once through cuDNN's own flag: PyTorch code that reads that flag
        # (torch.export does) raises if conv and RNN were set apart with fp32_precision.
        # oneDNN's convolutions and RNNs take the per-operator setting.
        torch.set_float32_matmul_precision("highest")
        torch.backends.cudnn.allow_tf32 = False
        for backend in self._precision_backends()[2:]:  # mkldnn.conv, mkldnn.rnn
            backend.fp32_precision = "ieee"
        if torch.cuda.is_available():
            self.device = torch.device("cuda")
        elif torch.backends.mps.is_available() and \
                os.environ.get("COMPARISON_DEVICE", "").lower() != "cpu":
            self.device = torch.device("mps")
        else:
            self.device = torch.device("cpu")
        self.uses_cuda = self.device.type == "cuda"
        self._baseline = self._state()
        # Where the build put Inductor's and Triton's caches; each reset uses a new subfolder.
        self._cache_bases = {name: os.environ[name] for name in
                             ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR") if name in os.environ}
        self._resets = 0
        # Called after every timed call, so the device is looked at once, here: CPU kernels run
        # synchronously; accelerator kernels are queued and need a sync.
        self.block: Callable[[Any], Any] = {
            "cuda": lambda result: torch.cuda.synchronize(),
            "mps": lambda result: torch.mps.synchronize(),
        }.get(self.device.type, _nothing_to_wait_for)

    def _precision_backends(self) -> list[Any]:
        backends = self.torch.backends
        return [backends.cudnn.conv, backends.cudnn.rnn, backends.mkldnn.conv,
                backends.mkldnn.rnn]

    def to_numpy(self, leaf: Any) -> np.ndarray | None:
        if isinstance(leaf, self.torch.Tensor):
            tensor = leaf.detach().cpu()
            if tensor.dtype == self.torch.bfloat16:
                tensor = tensor.float()
            return tensor.numpy()
        return None

    def has_device_arrays(self, result: Any) -> bool:
        def walk(value: Any) -> bool:
            if isinstance(value, dict):
                return any(walk(v) for v in value.values())
            if isinstance(value, list | tuple):
                return any(walk(v) for v in value)
            return isinstance(value, self.torch.Tensor)

        return walk(result)

    def _state(self) -> dict[str, Any]:
        torch = self.torch
        return {
            "default_dtype": torch.get_default_dtype(),
            "default_device": str(torch.get_default_device()),
            "num_threads": torch.get_num_threads(),
            "grad_enabled": torch.is_grad_enabled(),
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "matmul_fp32_precision": (torch.backends.cuda.matmul.fp32_precision,
                                      torch.backends.mkldnn.matmul.fp32_precision),
            "conv_rnn_fp32_precision": tuple(b.fp32_precision
                                             for b in self._precision_backends()),
            "cudnn_allow_tf32": _cudnn_allow_tf32(torch),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "anomaly": torch.is_anomaly_enabled(),
        }

    def restore_state(self) -> list[str]:
        """Put back the global settings a topic may change; return the names restored."""
        torch, base = self.torch, self._baseline
        now = self._state()
        changed = [key for key in base if now[key] != base[key]]
        setters = {
            "default_dtype": lambda v: torch.set_default_dtype(v),
            "default_device": lambda v: torch.set_default_device(v),
            "num_threads": lambda v: torch.set_num_threads(v),
            "grad_enabled": lambda v: torch.set_grad_enabled(v),
            "float32_matmul_precision": torch.set_float32_matmul_precision,
            "matmul_fp32_precision": self._set_matmul_precision,
            "conv_rnn_fp32_precision": self._set_conv_rnn_precision,
            "cudnn_allow_tf32": lambda v: setattr(torch.backends.cudnn, "allow_tf32", v),
            "deterministic": lambda v: torch.use_deterministic_algorithms(v),
            "cudnn_benchmark": lambda v: setattr(torch.backends.cudnn, "benchmark", v),
            "anomaly": lambda v: torch.autograd.set_detect_anomaly(v),
        }
        for key in setters:  # in order: the legacy global first, then the per-backend values
            if key in changed:
                setters[key](base[key])
        return changed

    def _set_matmul_precision(self, values: tuple[str, str]) -> None:
        self.torch.backends.cuda.matmul.fp32_precision = values[0]
        # torch.backends.mkldnn replaces itself in sys.modules with a MkldnnModule instance at
        # import; the module's stub has no `matmul`.
        self.torch.backends.mkldnn.matmul.fp32_precision = values[1]  # type: ignore[attr-defined]

    def _set_conv_rnn_precision(self, values: tuple[str, ...]) -> None:
        for backend, value in zip(self._precision_backends(), values, strict=True):
            backend.fp32_precision = value

    def compile_stats(self) -> dict[str, Any]:
        """Graphs compiled so far and their seconds, and graph breaks, from Dynamo's own
        counters (`torch._dynamo.utils.counters`, `compilation_time_metrics`)."""
        if "torch._dynamo" not in sys.modules:
            return {"compilations": 0, "compile_s": 0.0, "graph_breaks": 0, "cache_hits": 0}
        from torch._dynamo.utils import compilation_time_metrics, counters

        seconds = sum(sum(values) for name, values in compilation_time_metrics.items()
                      if name == "_compile.compile_inner" or name.endswith("bw_compiler"))
        return {"compilations": counters["stats"]["unique_graphs"], "compile_s": seconds,
                "graph_breaks": sum(counters["graph_break"].values()),
                # Inductor's FX graph cache and AOTAutograd's cache, on disk across processes.
                "cache_hits": counters["inductor"]["fxgraph_cache_hit"] +
                counters["aot_autograd"]["autograd_cache_hit"]}

    def reset_compiler(self) -> None:
        """Forget compiled code "as if you started a fresh process" (torch._dynamo.reset docs),
        so the next size compiles from scratch; only when torch.compile was used at all.
        Inductor also keeps compiled graphs and kernels on disk (FX graph and AOTAutograd
        caches, built C++ and Triton code) and in memory: those are cleared too, and the disk
        caches move to a new folder, so no first call loads what an earlier size or topic
        compiled (JAX's caches here are in memory only). A fresh-process variant's worker
        keeps its folder: that cache's state is what it measures."""
        if "torch._dynamo" not in sys.modules:
            return
        self.torch._dynamo.reset()
        self.isolate_variant()

    def isolate_variant(self) -> None:
        """Before each variant's first call: empty Inductor's code caches (memory and a new
        disk folder), so it compiles what an earlier variant of the same size compiled too,
        instead of loading it. Already compiled functions keep running without recompiling."""
        if "torch._inductor" not in sys.modules:
            return
        from torch._inductor.utils import clear_inductor_caches

        clear_inductor_caches()
        if os.environ.get(PERSISTENT_CACHE_ENV):
            return
        self._resets += 1
        for variable, base in self._cache_bases.items():
            os.environ[variable] = os.path.join(base, f"reset-{self._resets}")

    def warm_up_compiler(self) -> None:
        """Start torch.compile's stack once (Dynamo, AOTAutograd with a backward graph,
        Inductor and its C++ or Triton toolchain) on a tiny function, then forget it."""
        torch = self.torch
        import torch._functorch.config as functorch_config
        import torch._inductor.config as inductor_config

        x = torch.arange(4.0, device=self.device, requires_grad=True)
        # With the graph caches off, the warm-up always traces, lowers and generates code, even
        # from a cache folder holding what an earlier warm-up compiled (run/compiler_start.py):
        # only the built kernels and probes are loaded, so the start-up it leaves is the same.
        with inductor_config.patch(fx_graph_cache=False), \
                functorch_config.patch(enable_autograd_cache=False):
            loss = torch.compile(lambda v: (v * v + 1.0).sum())(x)
            loss.backward()
        self.block(loss)
        self.reset_compiler()

    def describe(self) -> dict[str, Any]:
        torch = self.torch
        info: dict[str, Any] = {
            "framework": "pytorch",
            "version": torch.__version__,
            "numpy": np.__version__,
            "backend": self.device.type,
            "device": str(self.device),
            "device_kind": self.device.type,
            "device_count": torch.cuda.device_count() if self.uses_cuda else 1,
            "accelerator": None,
            "intra_op_threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "matmul_precision": torch.get_float32_matmul_precision(),
            "fp32_precision": {
                "cuda.matmul": torch.backends.cuda.matmul.fp32_precision,
                "mkldnn.matmul": torch.backends.mkldnn.matmul.fp32_precision,
                "cudnn.conv": torch.backends.cudnn.conv.fp32_precision,
                "cudnn.rnn": torch.backends.cudnn.rnn.fp32_precision,
                "mkldnn.conv": torch.backends.mkldnn.conv.fp32_precision,
                "mkldnn.rnn": torch.backends.mkldnn.rnn.fp32_precision,
            },
            "cudnn_allow_tf32": _cudnn_allow_tf32(torch),
            "default_dtype": str(torch.get_default_dtype()),
            "compile_cache": "fresh inductor cache directory per build "
                             "(TORCHINDUCTOR_CACHE_DIR="
                             f"{os.environ.get('TORCHINDUCTOR_CACHE_DIR')}); "
                             "torch._dynamo.reset() before each size",
            "parallel_backend": _parallel_backend(torch),
            "import_s": round(self.import_s, 3),
        }
        if self.uses_cuda:
            props = torch.cuda.get_device_properties(0)
            info.update(accelerator=props.name, device_kind=props.name,
                        cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                        memory_bytes=props.total_memory)
        elif self.device.type == "mps":
            info.update(accelerator=f"Apple MPS ({platform.machine()})")
        return info


def _cudnn_allow_tf32(torch: Any) -> bool | None:
    """cuDNN's TF32 flag; None when a topic set its convolutions and RNNs apart (reading the
    flag then raises), which restoring the per-operator values undoes."""
    try:
        return bool(torch.backends.cudnn.allow_tf32)
    except RuntimeError:
        return None


def _nothing_to_wait_for(result: Any) -> None:
    """PyTorch on the CPU: the kernels have run by the time the call returns."""


def _parallel_backend(torch: Any) -> str:
    for line in torch.__config__.parallel_info().splitlines():
        if line.startswith("ATen parallel backend"):
            return line.split(":", 1)[1].strip()
    return "unknown"


ADAPTERS: dict[str, type[JaxAdapter] | type[TorchAdapter]] = {
    "jax": JaxAdapter, "pytorch": TorchAdapter}


def load_adapter(framework: str) -> JaxAdapter | TorchAdapter:
    return ADAPTERS[framework]()
