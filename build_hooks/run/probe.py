"""Measure the machine probe (worker/probe.py) with each framework's worker, once per machine.

The sizes depend on the device: on a CPU a float32 matmul of side 2048 and a 256 MiB scale
take a fraction of a second each; an accelerator needs side 8192 and 1 GiB to reach its peak.
Quick builds (tests, drafts) use small sizes: their figures show the flow, not the machine.
"""

from __future__ import annotations

from typing import Any

from build_hooks import FRAMEWORK_LABELS, HARNESS_VERSION
from build_hooks.core import Log, host
from build_hooks.core.protocol import Probe
from build_hooks.run.pool import WorkerPool
from build_hooks.run.process import WorkerFailure
from build_hooks.spec.settings import Settings

SIZES = {"cpu": Probe(matmul_n=2048, copy_mib=256, repeats=5),
         "accelerator": Probe(matmul_n=8192, copy_mib=1024, repeats=10),
         "quick": Probe(matmul_n=256, copy_mib=8, repeats=3)}


def probe_request(backend: str, quick: bool) -> Probe:
    if quick:
        return SIZES["quick"]
    return SIZES["cpu" if backend == "cpu" else "accelerator"]


def measure_probe(pool: WorkerPool, settings: Settings, key: str, log: Log
                  ) -> dict[str, Any] | None:
    """Each available framework's probe, and the machine's bounds: the better framework's
    figure for compute and for memory. None if no framework could run it."""
    frameworks: dict[str, Any] = {}
    for framework in settings.frameworks:
        worker = pool.get(framework)
        if worker.unavailable is not None or worker.environment is None:
            continue
        request = probe_request(worker.environment.get("backend", "cpu"),
                                settings.measure.quick)
        log(f"Probing this machine's bounds with {FRAMEWORK_LABELS[framework]} "
            f"(float32 matmul n={request.matmul_n}, scale over {request.copy_mib} MiB)")
        try:
            response = worker.request(request, settings.timeout_s)
        except WorkerFailure as failure:
            log(f"The {FRAMEWORK_LABELS[framework]} probe failed: {failure.message}")
            continue
        if not response.get("ok"):
            log(f"The {FRAMEWORK_LABELS[framework]} probe failed: "
                f"{response['error']['message']}")
            continue
        frameworks[framework] = {**response["probe"],
                                 "backend": worker.environment.get("backend"),
                                 "device_kind": worker.environment.get("device_kind")}
    if not frameworks:
        return None
    bounds = {}
    for kind in ("compute", "memory"):
        best = max(frameworks, key=lambda fw: frameworks[fw][kind]["rate"])
        bounds[kind] = {"rate": frameworks[best][kind]["rate"],
                        "unit": frameworks[best][kind]["unit"], "framework": best}
    return {"key": key, "measured_at": host.now_iso(), "harness_version": HARNESS_VERSION,
            "quick": settings.measure.quick, "frameworks": frameworks, "bounds": bounds}
