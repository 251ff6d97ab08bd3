"""Both frameworks on the same kind of device, or no measurement at all.

`pip install -e .` on an NVIDIA machine gives PyTorch's CUDA build and JAX's CPU build (JAX needs
its CUDA plugin, `jax[cuda12]`): the site would then compare a GPU with a CPU and call the GPU
side faster. The build stops before measuring instead, naming both devices and the install
command that fixes it.
"""

from __future__ import annotations

from typing import Any

from build_hooks import FRAMEWORK_LABELS

# What each worker's `backend` means: JAX's default_backend(), PyTorch's device type.
DEVICE_KINDS = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "rocm", "tpu": "tpu",
                "mps": "mps"}
FIXES = {
    ("jax", "cuda"): "install JAX's CUDA plugin: pip install -e '.[cuda]' (brings jax[cuda12])",
    ("pytorch", "cuda"): "install PyTorch's CUDA build: pip install --force-reinstall "
                         "torch==<the pinned version> from PyPI's default index (not the CPU "
                         "wheel index)",
}


class DeviceMismatch(Exception):
    """The two frameworks would run on different kinds of device."""


def device_kind(environment: dict[str, Any]) -> str:
    backend = str(environment.get("backend", "cpu")).lower()
    return DEVICE_KINDS.get(backend, backend)


def describe_device(environment: dict[str, Any]) -> str:
    kind = device_kind(environment)
    name = environment.get("accelerator")
    return f"{kind} ({name})" if name and kind != "cpu" else kind


def device_mismatch(environments: dict[str, dict[str, Any]]) -> str | None:
    """Why the frameworks cannot be compared on this machine, or None when they can: every
    framework that started must run on the same kind of device."""
    kinds = {framework: device_kind(env) for framework, env in environments.items()}
    if len(set(kinds.values())) <= 1:
        return None
    accelerator = next(kind for kind in kinds.values() if kind != "cpu")
    behind = [framework for framework, kind in kinds.items() if kind != accelerator]
    found = ", ".join(f"{FRAMEWORK_LABELS[fw]} on {describe_device(env)}"
                      for fw, env in environments.items())
    fixes = [FIXES.get((fw, accelerator), f"install a build of {FRAMEWORK_LABELS[fw]} that "
                       f"supports {accelerator}") for fw in behind]
    return (f"the frameworks would run on different kinds of device ({found}), and the site "
            f"would compare one with the other. Fix: {'; '.join(fixes)}; or run both on the "
            "CPU with COMPARISON_DEVICE=cpu")
