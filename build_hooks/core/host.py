"""What machine and software produce the numbers, read cheaply in the MkDocs process.

Nothing here imports a framework: versions come from package metadata, GPUs from the NVIDIA
driver's /proc files. The workers add what only the framework knows (device, threads, precision).
`fingerprint()` is the part that enters the cache key, so a result measured under another
framework version, CPU, GPU or device-selecting environment variable is never reused.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

# What can change a number: the frameworks, their accelerator plugins and compilers.
MEASURED_PACKAGES = (
    "jax", "jaxlib", "torch", "numpy", "jax-cuda12-plugin", "jax-cuda12-pjrt",
    "jax-cuda13-plugin", "jax-cuda13-pjrt", "jax-rocm60-plugin", "libtpu", "triton",
    "nvidia-cublas-cu12", "nvidia-cudnn-cu12", "nvidia-cublas", "nvidia-cudnn-cu13",
)
PACKAGES = (*MEASURED_PACKAGES, "mkdocs", "properdocs", "mkdocs-material", "matplotlib")
# Variables that change which device a framework picks, its threads, or its memory allocator.
DEVICE_VARIABLES = (
    "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "JAX_PLATFORMS", "JAX_PLATFORM_NAME",
    "XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "JAX_ENABLE_X64", "GLIBC_TUNABLES",
    "LD_PRELOAD", "TORCHINDUCTOR_MAX_AUTOTUNE", "OMP_WAIT_POLICY",
)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed versions, read from the names of *.dist-info folders on sys.path (about a
    millisecond, which matters on every warm rebuild), with importlib.metadata as fallback."""
    wanted = {_normalize(name): name for name in names}
    found: dict[str, str | None] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info") and "-" in entry:
                project, _, version = entry[: -len(".dist-info")].rpartition("-")
                name = wanted.get(_normalize(project))
                if name is not None and name not in found:
                    found[name] = version
    for name in names:
        if name not in found:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[name] = None
    return {name: found[name] for name in names}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def nvidia_gpus() -> dict[str, Any]:
    """GPU models and driver version from the NVIDIA kernel driver, if it is loaded."""
    root = Path("/proc/driver/nvidia")
    models = []
    for info in sorted((root / "gpus").glob("*/information")):
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("Model:"):
                models.append(line.split(":", 1)[1].strip())
    driver = None
    try:
        match = re.search(r"Kernel Module\s+(?:for \S+\s+)?([\d.]+)",
                          (root / "version").read_text(errors="replace"))
        driver = match.group(1) if match else None
    except OSError:
        pass
    return {"gpus": models, "driver": driver}


def schedulable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """Hardware, OS and package versions of this machine, as a JSON-ready dict."""
    nvidia = nvidia_gpus()
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "schedulable_cores": schedulable_cores(),
        "memory_bytes": memory_bytes(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpus": nvidia["gpus"],
        "nvidia_driver": nvidia["driver"],
        "packages": {name: version for name, version in package_versions(PACKAGES).items()
                     if version is not None or name in ("jax", "jaxlib", "torch")},
        "variables": {name: os.environ[name] for name in DEVICE_VARIABLES if name in os.environ},
    }


def fingerprint(machine_info: dict[str, Any]) -> dict[str, Any]:
    """The part of `machine()` that can change a measured number."""
    keys = ("cpu", "schedulable_cores", "machine", "python", "gpus", "nvidia_driver",
            "packages", "variables")
    fields = {key: machine_info[key] for key in keys}
    fields["packages"] = {k: v for k, v in machine_info["packages"].items()
                          if k in MEASURED_PACKAGES and v is not None}
    return fields


def machine_name(machine_info: dict[str, Any]) -> str:
    """A stable, readable name for this machine: COMPARISON_MACHINE, else made from hardware."""
    if os.environ.get("COMPARISON_MACHINE"):
        return os.environ["COMPARISON_MACHINE"]
    hardware = machine_info["gpus"][0] if machine_info["gpus"] else machine_info["cpu"]
    slug = re.sub(r"[^a-z0-9]+", "-", hardware.lower()).strip("-")
    return f"{slug}-{machine_info['schedulable_cores']}c"


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """A Chromium or Chrome executable: $CHROME_PATH, else the first of BROWSERS on the PATH
    (Debian names it chromium, Ubuntu's images chromium-browser or google-chrome)."""
    chosen = os.environ.get("CHROME_PATH")
    if chosen and os.access(chosen, os.X_OK):
        return chosen
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
