"""Do the two sides compute the same thing? Compares the saved outputs of one variant and size.

Runs in the parent only when topics are run (NumPy is imported here, never on a warm rebuild).
The check is `|jax - pytorch| <= atol + rtol * |pytorch|` element-wise, as numpy.allclose, with
the topic's declared tolerances; shapes must agree exactly. Dtypes may differ (a framework's
default integer type, say); the report shows both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from build_hooks.spec.topics import Parity


def _load(path: Path) -> dict[str, Any]:
    import numpy as np

    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def special_counts(jax_values: Any, torch_values: Any) -> dict[str, list[int]]:
    """How many NaN and infinite values each side has: [JAX, PyTorch]."""
    import numpy as np

    return {"nan_count": [int(np.isnan(jax_values).sum()), int(np.isnan(torch_values).sum())],
            "inf_count": [int(np.isinf(jax_values).sum()), int(np.isinf(torch_values).sum())]}


def describe_specials(counts: dict[str, list[int]]) -> str:
    """'JAX output has 1 NaN where PyTorch has none', for each kind whose counts differ."""
    said = []
    for key, kind in (("nan_count", "NaN"), ("inf_count", "infinite value")):
        jax_count, torch_count = counts[key]
        if jax_count == torch_count:
            continue
        more, fewer = ("JAX", "PyTorch") if jax_count > torch_count else ("PyTorch", "JAX")
        many, few = max(jax_count, torch_count), min(jax_count, torch_count)
        plural = "s" if many != 1 else ""
        said.append(f"{more} output has {many} {kind}{plural} where {fewer} has "
                    f"{few or 'none'}")
    return "; ".join(said)


def compare_outputs(parity: Parity, jax_leaves: list[dict[str, Any]], jax_file: Path,
                    torch_leaves: list[dict[str, Any]], torch_file: Path) -> dict[str, Any]:
    """A parity record: status "match", "mismatch" or "nothing" (nothing comparable)."""
    import numpy as np

    jax_arrays, torch_arrays = _load(jax_file), _load(torch_file)
    jax_by_path = {leaf["path"]: leaf for leaf in jax_leaves}
    torch_by_path = {leaf["path"]: leaf for leaf in torch_leaves}
    problems: list[str] = []
    leaves: list[dict[str, Any]] = []
    if set(jax_by_path) != set(torch_by_path):
        only_jax = sorted(set(jax_by_path) - set(torch_by_path))
        only_torch = sorted(set(torch_by_path) - set(jax_by_path))
        problems.append(f"outputs have different structure (only in JAX: {only_jax or '-'}; "
                        f"only in PyTorch: {only_torch or '-'})")
    for path in sorted(set(jax_by_path) & set(torch_by_path)):
        left, right = jax_by_path[path], torch_by_path[path]
        if left["kind"] != right["kind"]:
            kinds = {"JAX": left, "PyTorch": right}
            array_side = next(name for name, leaf in kinds.items() if leaf["kind"] == "array")
            other_side = next(name for name in kinds if name != array_side)
            problems.append(f"{path}: {array_side} returned an array, {other_side} a "
                            f"{kinds[other_side].get('type')}; return the same kind on both")
            continue
        if left["kind"] != "array":
            continue
        a = jax_arrays[f"leaf{left['index']}"]
        b = torch_arrays[f"leaf{right['index']}"]
        record: dict[str, Any] = {"path": path, "shape": list(a.shape),
                                  "dtypes": [str(a.dtype), str(b.dtype)]}
        if a.shape != b.shape:
            record.update(ok=False, problem=f"shapes differ: {a.shape} vs {b.shape}")
            problems.append(f"{path}: shapes differ, JAX {a.shape} vs PyTorch {b.shape}")
        else:
            a64, b64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64), \
                b.astype(np.complex128 if b.dtype.kind == "c" else np.float64)
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: handled below
                difference = np.abs(a64 - b64)
                allowed = parity.atol + parity.rtol * np.abs(b64)
            # NaN where both are NaN, and infinities of the same sign, count as equal.
            same_special = (np.isnan(a64) & np.isnan(b64)) | (np.isinf(a64) & (a64 == b64))
            ok = bool(np.all((difference <= allowed) | same_special))
            finite = np.isfinite(difference) & ~same_special
            max_abs = float(difference[finite].max()) if finite.any() else 0.0
            scale = np.abs(b64)
            with np.errstate(invalid="ignore", over="ignore"):
                relative = np.where(scale > 0, difference / np.where(scale > 0, scale, 1), 0)
            max_rel = float(relative[finite].max()) if finite.any() else 0.0
            specials = special_counts(a64, b64)
            record.update(ok=ok, max_abs_diff=max_abs, max_rel_diff=max_rel, **specials)
            named = describe_specials(specials)
            if named:
                problems.append(f"{path}: {named}")
            elif not ok:
                problems.append(f"{path}: values differ beyond tolerance (max |diff| "
                                f"{max_abs:.3g}, max relative {max_rel:.3g})")
        leaves.append(record)
    if not leaves and not problems:
        types = sorted({leaf.get("type", "?") for leaf in [*jax_leaves, *torch_leaves]})
        return {"status": "nothing", "leaves": [],
                "message": "nothing to compare: no side returned a framework array "
                           f"(returned: {', '.join(types) or 'nothing'})"}
    return {
        "status": "mismatch" if problems else "match",
        "leaves": leaves,
        "max_abs_diff": max((leaf.get("max_abs_diff", 0.0) for leaf in leaves), default=0.0),
        "max_rel_diff": max((leaf.get("max_rel_diff", 0.0) for leaf in leaves), default=0.0),
        "message": "; ".join(problems) if problems else
        f"all {len(leaves)} output array(s) agree within rtol={parity.rtol:g}, "
        f"atol={parity.atol:g}",
    }


def series_values(leaves: list[dict[str, Any]], file: Path, limit: int) -> dict[str, Any]:
    """A variant's result as a chart series (topic.toml `[series]`): {"series": [values]} for a
    result that is one 1-D numeric array of at most `limit` values, else {"series_error": why}.
    Non-finite values become None (JSON has no NaN)."""
    import math

    arrays = [leaf for leaf in leaves if leaf.get("kind") == "array"]
    if len(arrays) != 1 or len(arrays[0]["shape"]) != 1:
        shapes = ", ".join(str(tuple(leaf["shape"])) for leaf in arrays) or "no array"
        return {"series_error": f"the series variant must return one 1-D array; it returned "
                                f"{shapes}"}
    if arrays[0]["shape"][0] > limit:
        return {"series_error": f"the series has {arrays[0]['shape'][0]} values; at most "
                                f"{limit} are drawn"}
    values = _load(file)[f"leaf{arrays[0]['index']}"].astype(float).tolist()
    return {"series": [value if math.isfinite(value) else None for value in values]}
