"""The worker's request loop: one process per framework, started by the parent as
`python -m build_hooks.worker`.

It imports its framework once and then serves requests, one at a time, over two pipes that the
parent passes by file descriptor (stdin is /dev/null, so a snippet cannot read the protocol):

- `prepare`: load the topic's inputs and side file afresh, call `setup`, then for each variant
  time the first call on its own, call `show` if defined, save the outputs for the parity check,
  and calibrate the inner loop. Everything printed (file descriptors 1 and 2, so output from C
  libraries and framework warnings too) goes to capture files the parent named.
- `measure`: time more blocks of one prepared variant (output discarded), after `settle`
  blocks that are run and not kept.
- `warm_up`: start the compiler stack once (before the first topic with a compiled variant).
- `release`: drop the prepared topic and put back any global framework state it changed.

Each response is one JSON line. A snippet's exception is a result, not a worker failure.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import resource
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from build_hooks.core import stats
from build_hooks.core.protocol import (
    Exit,
    Measure,
    Prepare,
    Probe,
    ProtocolError,
    Release,
    Request,
    Validate,
    WarmUp,
    decode,
    error_record,
)
from build_hooks.worker import outputs, timing
from build_hooks.worker.adapters import load_adapter
from build_hooks.worker.memory import rss_peak_since, start_rss_peak


@contextmanager
def redirected_output(stdout_path: str, stderr_path: str) -> Iterator[None]:
    """Point file descriptors 1 and 2 at the given files, then back."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    targets = [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
               for p in (stdout_path, stderr_path)]
    try:
        os.dup2(targets[0], 1)
        os.dup2(targets[1], 2)
        yield
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # a snippet may have replaced or closed sys.stdout
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, *targets):
            os.close(fd)


# How the frameworks word an allocation failure: torch's CPU allocator raises RuntimeError,
# XLA raises RESOURCE_EXHAUSTED, NumPy and Python raise MemoryError.
OUT_OF_MEMORY_MARKERS = ("can't allocate memory", "out of memory", "resource_exhausted",
                         "cannot allocate memory", "failed to allocate")


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    return any(marker in str(error).lower() for marker in OUT_OF_MEMORY_MARKERS)


def failure(error: BaseException, own_files: set[str]) -> dict[str, Any]:
    """A status and its error for a snippet's exception: out_of_memory or error."""
    status = "out_of_memory" if is_out_of_memory(error) else "error"
    return {"status": status, "error": describe_exception(error, own_files)}


def describe_exception(error: BaseException, own_files: set[str]) -> dict[str, Any]:
    """Exception type, message, and the traceback trimmed to the snippet's own frames."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if frame.filename in own_files]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(own or frames[-1:])]
    lines += traceback.format_exception_only(type(error), error)
    last = own[-1] if own else None
    return error_record(type(error).__name__, str(error), "".join(lines).rstrip(),
                        last.filename if last else None, last.lineno if last else None)


class Worker:
    def __init__(self, framework: str, responses: TextIO):
        self.framework = framework
        self.responses = responses
        self.adapter: Any = None
        self.prepared: dict[str, Callable[[], Any]] = {}
        self.module: types.ModuleType | None = None
        self.loaded = 0

    def send(self, message: dict[str, Any]) -> None:
        self.responses.write(json.dumps(message) + "\n")
        self.responses.flush()

    def load_module(self, path: str, stem: str) -> types.ModuleType:
        """Execute a snippet file as a fresh module, so module-level state starts clean."""
        self.loaded += 1
        name = f"snippet_{stem}_{self.loaded}"
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        source = Path(path).read_text(encoding="utf-8")
        exec(compile(source, path, "exec"), module.__dict__)
        return module

    def prepare(self, request: Prepare) -> dict[str, Any]:
        # Warnings shown "once" must show for every topic, whatever ran before in this worker.
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return self._prepare(request)

    def _prepare(self, request: Prepare) -> dict[str, Any]:
        self.release()
        self.adapter.reset_compiler()
        inputs_path, side_path = request.inputs_path, request.side_path
        own_files = {inputs_path, side_path}
        prefix = request.capture_prefix
        block = self.adapter.block
        response: dict[str, Any] = {"ok": True, "variants": {}}
        started = time.perf_counter()
        with redirected_output(f"{prefix}.setup.stdout", f"{prefix}.setup.stderr"):
            try:
                inputs_module = self.load_module(inputs_path, f"{request.topic}_inputs")
                inputs = inputs_module.make_inputs(request.size)
                if not isinstance(inputs, dict):
                    raise TypeError(f"make_inputs() returned {type(inputs).__name__}, "
                                    "expected a dict of NumPy arrays")
                digest = outputs.inputs_digest(inputs)
                module = self.load_module(side_path, f"{request.topic}_{self.framework}")
                self.module = module
                arguments = module.setup(inputs, self.adapter.device)
                if not isinstance(arguments, tuple):
                    arguments = (arguments,)
                block(arguments)
            except (Exception, SystemExit) as error:
                response["setup"] = {**failure(error, own_files),
                                     "seconds": time.perf_counter() - started}
                return response
        response["setup"] = {"status": "ok", "inputs_digest": digest,
                             "seconds": time.perf_counter() - started}

        show = getattr(module, "show", None)
        for variant in request.variants:
            function = getattr(module, variant, None)
            if not callable(function):
                response["variants"][variant] = {"status": "error", "error": error_record(
                    "TypeError", f"{variant} in {side_path} is {type(function).__name__}, not "
                    "a function: define it as a function or assign a callable", file=side_path)}
                continue

            call = functools.partial(function, *arguments)  # no extra frame per timed call
            self.adapter.isolate_variant()  # its first call compiles cold, whatever ran before
            response["variants"][variant] = self._prepare_variant(
                call, show, f"{prefix}.{variant}", request, own_files,
                request.expect_error.get(variant))
            if response["variants"][variant]["status"] == "ok":
                self.prepared[variant] = call
                if request.peak_memory and request.calibrate:
                    response["variants"][variant]["peak_memory"] = self._peak_memory(
                        function, arguments, own_files)
        return response

    def _peak_memory(self, function: Callable[..., Any], arguments: tuple[Any, ...],
                     own_files: set[str]) -> dict[str, Any] | None:
        """The framework's own figure for one more call (after the timed variant is ready)."""
        from build_hooks.worker.memory import framework_peak

        with redirected_output(os.devnull, os.devnull):
            try:
                return framework_peak(self.framework, self.adapter, function, arguments)
            except (Exception, SystemExit) as error:
                return {"peak_bytes": None, "method": None,
                        "error": describe_exception(error, own_files)}

    def _prepare_variant(self, call: Callable[[], Any], show: Callable[[Any], Any] | None,
                         prefix: str, request: Prepare, own_files: set[str],
                         expected: str | None) -> dict[str, Any]:
        block = self.adapter.block
        before = self.adapter.compile_stats()
        # A fresh process's one call: the peak resident memory it adds (compilation included).
        rss_baseline = start_rss_peak() if request.peak_memory and not request.calibrate \
            else None
        with redirected_output(f"{prefix}.stdout", f"{prefix}.stderr"):
            try:
                result, first_call_s = timing.time_first_call(call, block)
                first_result_at = time.monotonic()  # the system's clock: the parent's too
                peak_rss = rss_peak_since(rss_baseline)
                compiled = _compile_delta(before, self.adapter.compile_stats())
                if show is not None:
                    show(result)
            except (Exception, SystemExit) as error:
                if expected and any(cls.__name__ == expected for cls in type(error).__mro__):
                    return {"status": "expected_error",
                            "error": describe_exception(error, own_files)}
                return failure(error, own_files)
        if expected:
            return {"status": "error", "error": error_record(
                "MissingExpectedError", f"expected the call to raise {expected} (topic.toml "
                "expect_error), but it returned normally", file=request.side_path)}
        try:
            described, arrays = outputs.to_leaves(result, self.adapter.to_numpy)
            outputs.save_arrays(Path(f"{prefix}.npz"), arrays)
            blockable = self.adapter.has_device_arrays(result)
        except Exception as error:  # an output the harness cannot convert: that row's error
            return {"status": "error", "error": describe_exception(error, own_files),
                    "first_call_s": first_call_s}
        del result
        if not request.calibrate:  # a fresh process's one call: nothing more is timed
            return {"status": "ok", "first_call_s": first_call_s, "number": 1,
                    "calibration_capped": False, "estimate_s": first_call_s,
                    "leaves": described, "blockable": blockable, "compilations": compiled,
                    "timed_compilations": 0, "first_result_at": first_result_at,
                    "peak_memory": peak_rss}
        before = self.adapter.compile_stats()
        with redirected_output(os.devnull, os.devnull):
            try:
                calibration = timing.calibrate(call, block, request.min_block_s,
                                               limit_s=request.max_time_s / 2)
            except (Exception, SystemExit) as error:
                return {**failure(error, own_files), "first_call_s": first_call_s,
                        "leaves": described}
        return {
            "status": "ok",
            "first_call_s": first_call_s,
            "number": calibration.number,
            "calibration_capped": calibration.capped,
            "estimate_s": calibration.last_block_s / calibration.number,
            "leaves": described,
            "blockable": blockable,
            "compilations": compiled,
            # Compiles after the first call (calibration here, timed blocks in `measure`):
            # a function that keeps recompiling is timed compiling.
            "timed_compilations": _compile_delta(before, self.adapter.compile_stats())[
                "compilations"],
        }

    def measure(self, request: Measure) -> dict[str, Any]:
        call = self.prepared[request.variant]
        started = time.perf_counter()
        before = self.adapter.compile_stats()
        with redirected_output(os.devnull, os.devnull):
            try:
                samples = timing.sample_blocks(call, self.adapter.block, request.number,
                                               request.blocks, request.settle)
            except (Exception, SystemExit) as error:
                files = {getattr(self.module, "__file__", "")}
                return {"ok": True, **failure(error, files)}
        seconds = time.perf_counter() - started
        return {"ok": True, "status": "ok", "samples": samples, "seconds": seconds,
                "compilations": _compile_delta(before, self.adapter.compile_stats())[
                    "compilations"]}

    def probe(self, request: Probe) -> dict[str, Any]:
        """The machine's compute and memory bounds, measured with this framework."""
        from build_hooks.worker.probe import run_probe

        try:
            with redirected_output(os.devnull, os.devnull):
                found = run_probe(self.framework, self.adapter, request.matmul_n,
                                  request.copy_mib, request.repeats)
        except Exception as error:  # e.g. out of memory: the probe is skipped, not the build
            return {"ok": False, "error": error_record(type(error).__name__, str(error))}
        finally:
            self.adapter.restore_state()
        return {"ok": True, "probe": found}

    def validate(self, request: Validate) -> dict[str, Any]:
        """Alternate harness blocks and an independent timer on one prepared variant."""
        from build_hooks.worker.independent import independent_median

        call = self.prepared[request.variant]
        harness, independent = [], []
        with redirected_output(os.devnull, os.devnull):
            try:
                for _ in range(request.rounds):
                    samples = timing.sample_blocks(call, self.adapter.block,
                                                   request.number, request.blocks)
                    harness.append(stats.median(samples))
                    independent.append(independent_median(self.framework, call,
                                                          request.min_run_time))
            except (Exception, SystemExit) as error:
                files = {getattr(self.module, "__file__", "")}
                return {"ok": False, **failure(error, files)}
        return {"ok": True, "harness": harness, "independent": independent}

    def warm_up(self, request: WarmUp) -> dict[str, Any]:
        """Start the framework's compiler once, before the first topic that compiles, so its
        one-off start-up is not counted in that topic's first call."""
        started = time.perf_counter()
        with redirected_output(os.devnull, os.devnull):
            try:
                self.adapter.warm_up_compiler()
            except Exception as error:  # the topic's own first call will show what is wrong
                return {"ok": True, "warmed": False, "error": f"{type(error).__name__}: {error}",
                        "seconds": time.perf_counter() - started}
        return {"ok": True, "warmed": True, "seconds": time.perf_counter() - started}

    def release(self) -> list[str]:
        self.prepared.clear()
        self.module = None
        for name in [n for n in sys.modules if n.startswith("snippet_")]:
            del sys.modules[name]
        gc.collect()
        return self.adapter.restore_state() if self.adapter else []

    def release_request(self, request: Release) -> dict[str, Any]:
        return {"ok": True, "restored": self.release()}

    def serve(self, requests: TextIO) -> None:
        handlers: dict[type[Request], Callable[[Any], dict[str, Any]]] = {
            Prepare: self.prepare, Measure: self.measure, Validate: self.validate,
            Probe: self.probe, WarmUp: self.warm_up, Release: self.release_request,
        }
        for line in requests:
            try:
                request = decode(line)
            except ProtocolError as error:
                self.send({"ok": False, "error": str(error)})
                continue
            if isinstance(request, Exit):
                self.send({"ok": True})
                return
            self.send(handlers[type(request)](request))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--framework", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--responses", type=int, required=True)
    parser.add_argument("--memory-limit-mb", type=int, default=0)
    args = parser.parse_args(argv)
    requests = os.fdopen(args.requests, "r", encoding="utf-8")
    responses = os.fdopen(args.responses, "w", encoding="utf-8")
    worker = Worker(args.framework, responses)
    try:
        worker.adapter = load_adapter(args.framework)
    except BaseException as error:  # ImportError, or anything the framework raises on import
        worker.send({"op": "hello", "ok": False, "error": error_record(
            type(error).__name__, str(error),
            "".join(traceback.format_exception(error)).rstrip())})
        return 0
    limit_note = None
    if args.memory_limit_mb > 0:
        if worker.adapter.uses_cuda:
            # CUDA reserves far more address space than it uses: an RLIMIT_AS cap would break it.
            limit_note = "not applied: CUDA device in use"
        else:
            limit = args.memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            limit_note = f"RLIMIT_AS {args.memory_limit_mb} MiB"
    environment = worker.adapter.describe()
    environment["memory_limit"] = limit_note
    environment["allocator"] = describe_allocator(environment.get("backend", "cpu"),
                                                  args.framework)
    worker.send({"op": "hello", "ok": True, "environment": environment})
    worker.serve(requests)
    return 0


def describe_allocator(backend: str, framework: str) -> str:
    """Which allocator holds this worker's arrays, and its settings."""
    tunables = os.environ.get("GLIBC_TUNABLES")
    host = f"glibc malloc ({f'GLIBC_TUNABLES={tunables}' if tunables else 'default settings'})"
    if backend in ("gpu", "cuda", "rocm"):
        if framework == "pytorch":
            conf = os.environ.get("PYTORCH_CUDA_ALLOC_CONF")
            settings = f"PYTORCH_CUDA_ALLOC_CONF={conf}" if conf else "default settings"
            device = f"CUDA caching allocator ({settings})"
        else:
            kind = os.environ.get("XLA_PYTHON_CLIENT_ALLOCATOR", "BFC")
            device = (f"XLA {kind} allocator (XLA_PYTHON_CLIENT_PREALLOCATE="
                      f"{os.environ.get('XLA_PYTHON_CLIENT_PREALLOCATE', 'true')})")
        return f"device: {device}; host: {host}"
    return host


def _compile_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What compiled between two readings of the framework's own counters."""
    return {"compilations": after["compilations"] - before["compilations"],
            "compile_s": max(0.0, after["compile_s"] - before["compile_s"]),
            "graph_breaks": after["graph_breaks"] - before["graph_breaks"],
            "cache_hits": after["cache_hits"] - before["cache_hits"]}
