"""The parity check between the two sides' outputs, and verdicts only from finished rows."""

from __future__ import annotations

import numpy as np

from build_hooks.assemble.derive import compare_rows
from build_hooks.run.parity import compare_outputs
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Parity
from build_hooks.worker.outputs import to_leaves

from .test_render import build_results


def saved(tmp_path, name, value):
    described, arrays = to_leaves(value, lambda leaf: leaf if isinstance(leaf, np.ndarray)
                                  else None)
    path = tmp_path / f"{name}.npz"
    np.savez(path, **{f"leaf{i}": a for i, a in enumerate(arrays)})
    return described, path


TIGHT = Parity(rtol=1e-6, atol=0.0)


def check(tmp_path, jax_value, torch_value, parity=TIGHT):
    jax_leaves, jax_file = saved(tmp_path, "jax", jax_value)
    torch_leaves, torch_file = saved(tmp_path, "torch", torch_value)
    return compare_outputs(parity, jax_leaves, jax_file, torch_leaves, torch_file)


def test_equal_outputs_match_and_report_the_largest_difference(tmp_path):
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    result = check(tmp_path, {"y": a}, {"y": a + np.float32(1e-7)})
    assert result["status"] == "match"
    assert 0 < result["max_abs_diff"] < 1e-6


def test_values_beyond_tolerance_and_shape_differences_are_mismatches(tmp_path):
    result = check(tmp_path, {"y": np.ones(3)}, {"y": np.ones(3) * 1.1})
    assert result["status"] == "mismatch" and "y: values differ" in result["message"]
    result = check(tmp_path, {"y": np.ones(3)}, {"y": np.ones((3, 1))})
    assert result["status"] == "mismatch" and "shapes differ" in result["message"]


def test_equal_infinities_and_nans_match(tmp_path):
    values = np.array([np.inf, -np.inf, np.nan, 1.0])
    assert check(tmp_path, values, values.copy())["status"] == "match"
    assert check(tmp_path, values, -values)["status"] == "mismatch"


def test_an_array_against_a_python_number_is_reported_not_skipped(tmp_path):
    result = check(tmp_path, {"loss": np.ones((), dtype=np.float32)}, {"loss": 1.0})
    assert result["status"] == "mismatch"
    assert "loss: JAX returned an array, PyTorch a float" in result["message"]


def test_different_structure_is_a_mismatch(tmp_path):
    result = check(tmp_path, {"a": np.ones(2)}, {"b": np.ones(2)})
    assert result["status"] == "mismatch" and "different structure" in result["message"]


def test_no_winner_from_a_row_that_failed_after_some_samples(tmp_path):
    results = build_results(tmp_path, ["double"])
    topic = results.topics[0]
    rows = [dict(row) for row in results.rows("double")]
    assert compare_rows(topic, rows, Settings(tmp_path, tmp_path, tmp_path))[0]["faster"]
    for row in rows:
        if row["framework"] == "jax":
            row["status"] = "timeout"  # samples kept from before the timeout
    verdicts = compare_rows(topic, rows, Settings(tmp_path, tmp_path, tmp_path))
    assert all(v["faster"] is None and v["reason"] == "not measured on both sides"
               for v in verdicts)


def test_a_nan_on_one_side_is_named_with_its_count(tmp_path):
    torch_values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    jax_values = torch_values.copy()
    jax_values[1] = np.nan
    result = check(tmp_path, {"y": jax_values}, {"y": torch_values})
    assert result["status"] == "mismatch"
    assert "y: JAX output has 1 NaN where PyTorch has none" in result["message"]
    assert result["leaves"][0]["nan_count"] == [1, 0]
    both = np.array([np.nan, np.nan, np.inf], dtype=np.float32)
    result = check(tmp_path, {"y": np.array([np.nan, 1.0, 2.0], np.float32)}, {"y": both})
    assert "PyTorch output has 2 NaNs where JAX has 1" in result["message"]
    assert "PyTorch output has 1 infinite value where JAX has none" in result["message"]


def test_no_speed_verdict_where_the_outputs_differ(tmp_path):
    results = build_results(tmp_path, ["double"])
    topic = results.topics[0]
    rows = results.rows("double")
    settings = Settings(tmp_path, tmp_path, tmp_path)
    checks = [{"variant": "double", "size": 8, "status": "mismatch", "message": "NaN"},
              {"variant": "double", "size": 16, "status": "match"}]
    verdicts = {v["size"]: v for v in compare_rows(topic, rows, settings, checks)}
    assert verdicts[8]["outcome"] == "outputs_differ" and verdicts[8]["faster"] is None
    assert verdicts[8]["ratio_ci_low"] is not None  # the interval stays in the data
    assert verdicts[16]["outcome"] == "faster" and verdicts[16]["faster"] == "pytorch"
    assert verdicts[16]["ratio_ci_low"] <= verdicts[16]["ratio"] <= verdicts[16]["ratio_ci_high"]
