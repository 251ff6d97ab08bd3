"""build_hooks.spec.topics: discovering and validating topic folders without running them."""

from __future__ import annotations

from pathlib import Path

import pytest

from build_hooks.spec.topics import (
    Parity,
    TopicError,
    Variant,
    discover_topics,
    evaluate_size_expression,
)

VALID_TOML = """\
title = "Eager versus compiled"
question = "What does compiling buy?"
summary = "A short summary."
size_name = "n"
sizes = [64, 256, 128]
flops = "2 * n**3"

[[variants]]
name = "eager"
label = "Eager"

[[variants]]
name = "compiled"
label = "Compiled"
compiled = true

[parity]
rtol = 1e-4
atol = 1e-5
"""

VALID_INPUTS = """\
import numpy as np


def make_inputs(size):
    return {"x": np.ones((size, size), dtype=np.float32)}
"""

VALID_JAX = """\
import jax


def setup(inputs, device):
    return (jax.device_put(inputs["x"], device),)


def eager(x):
    return x @ x


compiled = jax.jit(eager)
"""

VALID_PYTORCH = """\
import torch


def setup(inputs, device):
    return (torch.from_numpy(inputs["x"]).to(device),)


def eager(x):
    return x @ x


def compiled(x):
    return x @ x
"""

DEFAULT_FILES = {
    "topic.toml": VALID_TOML,
    "inputs.py": VALID_INPUTS,
    "jax.py": VALID_JAX,
    "pytorch.py": VALID_PYTORCH,
}


def make_topic(snippets: Path, name: str = "matmul", *, missing: tuple[str, ...] = (),
               **overrides: str) -> Path:
    """Write a topic folder; keyword overrides use the file name with '.' replaced by '_'
    (topic_toml, inputs_py, jax_py, pytorch_py); files named in `missing` are not written."""
    directory = snippets / name
    directory.mkdir(parents=True, exist_ok=True)
    for filename, text in DEFAULT_FILES.items():
        if filename in missing:
            continue
        text = overrides.pop(filename.replace(".", "_"), text)
        (directory / filename).write_text(text)
    assert not overrides, f"unknown overrides: {sorted(overrides)}"
    return directory


def toml_with(*, replace: dict[str, str] | None = None, append: str = "") -> str:
    """VALID_TOML with whole lines replaced (by their start) and text added at the top level."""
    lines = VALID_TOML.splitlines()
    for start, new in (replace or {}).items():
        matches = [i for i, line in enumerate(lines) if line.startswith(start)]
        assert len(matches) == 1, (start, matches)
        lines[matches[0]] = new
    return append + "\n".join(lines) + "\n"


def topic_error(snippets: Path) -> TopicError:
    with pytest.raises(TopicError) as caught:
        discover_topics(snippets)
    return caught.value


def assert_problem(error: TopicError, path: Path, *fragments: str) -> None:
    """Some problem names `path`, says "Fix:" and contains every fragment."""
    matching = [str(p) for p in error.problems if p.path == path]
    assert matching, f"no problem for {path} in:\n{error}"
    assert any(all(f in text for f in fragments) and "Fix:" in text and str(path) in text
               for text in matching), f"{fragments} not found in:\n{error}"
    assert str(path) in str(error)
    assert "Fix:" in str(error)


# --- a valid topic ------------------------------------------------------------------------------

def test_valid_topic_loads_with_its_fields(tmp_path: Path) -> None:
    directory = make_topic(tmp_path)
    [topic] = discover_topics(tmp_path)
    assert topic.name == "matmul"
    assert topic.directory == directory
    assert topic.title == "Eager versus compiled"
    assert topic.question == "What does compiling buy?"
    assert topic.summary == "A short summary."
    assert topic.sizes == (64, 256, 128)
    assert isinstance(topic.sizes, tuple)
    assert topic.size_name == "n"
    assert topic.flops == "2 * n**3"
    assert topic.order == 1000
    assert topic.variants == (Variant("eager", "Eager", False),
                              Variant("compiled", "Compiled", True))
    assert next(v for v in topic.variants if v.name == "compiled").compiled is True
    assert topic.parity == Parity(compare=True, rtol=1e-4, atol=1e-5, reason="")
    assert topic.metadata.text == VALID_TOML
    assert topic.inputs.text == VALID_INPUTS
    assert topic.sides["jax"].text == VALID_JAX
    assert topic.sides["pytorch"].path == directory / "pytorch.py"
    assert len(topic.sources_digest) == 64


def test_display_size_defaults_to_first_and_headline_size_to_largest(tmp_path: Path) -> None:
    make_topic(tmp_path)
    [topic] = discover_topics(tmp_path)
    assert topic.display_size == 64
    assert topic.headline_size == 256


def test_display_and_headline_size_can_be_set(tmp_path: Path) -> None:
    make_topic(tmp_path, topic_toml=toml_with(append="display_size = 128\nheadline_size = 64\n"))
    [topic] = discover_topics(tmp_path)
    assert topic.display_size == 128
    assert topic.headline_size == 64


def test_defaults_for_optional_keys(tmp_path: Path) -> None:
    minimal = 'title = "T"\nquestion = "Q"\nsizes = [8]\n\n[[variants]]\nname = "eager"\n'
    make_topic(tmp_path, topic_toml=minimal, jax_py="def setup(inputs, device):\n    pass\n"
               "def eager(x):\n    pass\n")
    [topic] = discover_topics(tmp_path)
    assert topic.summary == ""
    assert topic.size_name == "n"
    assert topic.flops is None
    assert topic.flop_count(8) is None
    assert topic.variants == (Variant("eager", "eager", False),)
    assert topic.parity == Parity()


def test_flop_count_evaluates_the_expression(tmp_path: Path) -> None:
    make_topic(tmp_path)
    [topic] = discover_topics(tmp_path)
    assert topic.flop_count(4) == 128.0


def test_parity_compare_false_with_reason_is_accepted(tmp_path: Path) -> None:
    toml = toml_with(replace={"rtol": "compare = false", "atol": 'reason = "random output"'})
    make_topic(tmp_path, topic_toml=toml)
    [topic] = discover_topics(tmp_path)
    assert topic.parity.compare is False
    assert topic.parity.reason == "random output"


def test_annotated_assignment_counts_as_variant(tmp_path: Path) -> None:
    jax = VALID_JAX.replace("compiled = jax.jit(eager)", "compiled: object = jax.jit(eager)")
    make_topic(tmp_path, jax_py=jax)
    assert len(discover_topics(tmp_path)) == 1


@pytest.mark.parametrize("filename", ["inputs.py", "jax.py", "pytorch.py"])
def test_sources_digest_changes_when_any_code_file_changes(tmp_path: Path, filename: str) -> None:
    directory = make_topic(tmp_path)
    [before] = discover_topics(tmp_path)
    [again] = discover_topics(tmp_path)
    assert again.sources_digest == before.sources_digest
    path = directory / filename
    path.write_text(path.read_text() + "\n# an edit\n")
    [after] = discover_topics(tmp_path)
    assert after.sources_digest != before.sources_digest


@pytest.mark.parametrize("edit", [
    {"replace": {"sizes": "sizes = [64, 256]"}},
    {"replace": {"flops": 'flops = "n**3"'}},
    {"replace": {"rtol": "rtol = 1e-3"}},
    {"replace": {"compiled = true": "compiled = false"}},
    {"replace": {'name = "eager"': 'name = "plain"'}},
    {"append": 'requires = ["gpu"]\n'},
    {"append": "peak_memory = true\n"},
])
def test_sources_digest_changes_with_metadata_that_can_change_a_number(tmp_path: Path,
                                                                       edit) -> None:
    directory = make_topic(tmp_path)
    for side in ("jax.py", "pytorch.py"):  # so that a renamed variant is still defined
        (directory / side).write_text((directory / side).read_text() + "\nplain = eager\n")
    [before] = discover_topics(tmp_path)
    (directory / "topic.toml").write_text(toml_with(**edit))
    [after] = discover_topics(tmp_path)
    assert after.sources_digest != before.sources_digest


def test_display_only_metadata_leaves_the_digest_alone(tmp_path: Path) -> None:
    directory = make_topic(tmp_path)
    [before] = discover_topics(tmp_path)
    (directory / "topic.toml").write_text(toml_with(
        replace={"title": 'title = "Eager and compiled"', "question": 'question = "Why?"',
                 "summary": 'summary = "Another summary, with `code`."',
                 'label = "Eager"': 'label = "Op by op"'},
        append="order = 3\nheadline_size = 128\ndisplay_size = 64\n# a comment\n"))
    [after] = discover_topics(tmp_path)
    assert after.title == "Eager and compiled"  # the edit was read
    assert after.sources_digest == before.sources_digest


def test_topics_sorted_by_order_then_name(tmp_path: Path) -> None:
    make_topic(tmp_path, "zeta", topic_toml=toml_with(append="order = 1\n"))
    make_topic(tmp_path, "alpha", topic_toml=toml_with(append="order = 2\n"))
    make_topic(tmp_path, "beta", topic_toml=toml_with(append="order = 1\n"))
    make_topic(tmp_path, "aaa")  # default order 1000
    assert [t.name for t in discover_topics(tmp_path)] == ["beta", "zeta", "alpha", "aaa"]


def test_hidden_and_underscore_folders_and_plain_files_are_skipped(tmp_path: Path) -> None:
    make_topic(tmp_path, "good")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "topic.toml").write_text("not toml at all [[[")
    (tmp_path / "_draft").mkdir()  # no files at all: would be an error if loaded
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "README.md").write_text("notes")
    assert [t.name for t in discover_topics(tmp_path)] == ["good"]


def test_empty_snippets_folder_gives_no_topics(tmp_path: Path) -> None:
    assert discover_topics(tmp_path) == []


def test_missing_snippets_folder_raises_topic_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-snippets"
    error = topic_error(missing)
    assert len(error.problems) == 1
    assert_problem(error, missing, "does not exist")


# --- broken topics ------------------------------------------------------------------------------

def test_missing_jax_file(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, missing=("jax.py",))
    assert_problem(topic_error(tmp_path), directory / "jax.py", "missing")


def test_missing_inputs_file(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, missing=("inputs.py",))
    assert_problem(topic_error(tmp_path), directory / "inputs.py", "missing", "make_inputs")


def test_missing_topic_toml(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, missing=("topic.toml",))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "missing")


def test_invalid_toml(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml='title = "unterminated\nsizes = [1]\n')
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "not valid TOML")


def test_unknown_key(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append='colour = "blue"\n'))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "unknown key 'colour'")


def test_unknown_key_in_variant_and_parity(tmp_path: Path) -> None:
    toml = toml_with(replace={'label = "Eager"': 'lable = "Eager"'}, append="") + "tolerance = 1\n"
    directory = make_topic(tmp_path, topic_toml=toml)
    error = topic_error(tmp_path)
    assert_problem(error, directory / "topic.toml", "unknown key 'variants[0].lable'")
    assert_problem(error, directory / "topic.toml", "unknown key 'parity.tolerance'")


@pytest.mark.parametrize(("replace", "fragments"), [
    ({"sizes": 'sizes = "8"'}, ("'sizes'", "list", "str")),
    ({"title": "title = 3"}, ("'title'", "str", "int")),
    ({"compiled": 'compiled = "yes"'}, ("'variants[1].compiled'", "bool", "str")),
    ({"rtol": "rtol = true"}, ("'parity.rtol'", "number", "bool")),
    ({"flops": "flops = 12"}, ("'flops'", "str", "int")),
])
def test_wrong_type(tmp_path: Path, replace: dict[str, str], fragments: tuple[str, ...]) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace=replace))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "should be of type",
                   *fragments)


@pytest.mark.parametrize("line", ["order = true", "display_size = false"])
def test_bool_where_int_expected(tmp_path: Path, line: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append=line + "\n"))
    key = line.split(" ")[0]
    assert_problem(topic_error(tmp_path), directory / "topic.toml", f"'{key}'", "int", "bool")


def test_float_where_int_expected(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append="order = 1.5\n"))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'order'", "int", "float")


@pytest.mark.parametrize("key", ["title", "question", "sizes", "variants"])
def test_required_key_missing(tmp_path: Path, key: str) -> None:
    lines = [line for line in VALID_TOML.splitlines() if not line.startswith(f"{key} ")]
    toml = "\n".join(lines) + "\n"
    if key == "variants":
        toml = toml.split("[[variants]]")[0] + "[parity]\nrtol = 1e-4\n"
    jax = VALID_JAX if key != "variants" else "def setup(inputs, device):\n    pass\n"
    directory = make_topic(tmp_path, topic_toml=toml, jax_py=jax)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", f"'{key}' is missing")


def test_empty_sizes(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"sizes": "sizes = []"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'sizes' is empty")


def test_duplicate_sizes(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"sizes": "sizes = [8, 16, 8]"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "repeats a size")


@pytest.mark.parametrize("sizes", ["[0, 8]", "[8, -4]", "[8, 2.5]", "[8, true]", '[8, "16"]'])
def test_sizes_must_be_positive_integers(tmp_path: Path, sizes: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"sizes": f"sizes = {sizes}"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "positive integers")


def test_empty_variants(tmp_path: Path) -> None:
    toml = VALID_TOML.split("[[variants]]")[0] + "variants = []\n"
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'variants' is empty")


@pytest.mark.parametrize("name", ["setup", "show", "make_inputs", "not-an-identifier", "2fast"])
def test_unusable_variant_name(tmp_path: Path, name: str) -> None:
    toml = toml_with(replace={'name = "eager"': f'name = "{name}"'})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "not a usable function name")


def test_variant_declared_twice(tmp_path: Path) -> None:
    toml = toml_with(replace={'name = "compiled"': 'name = "eager"'})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'eager' is declared twice")


@pytest.mark.parametrize("side", ["jax.py", "pytorch.py"])
def test_missing_variant_function_in_one_side_file(tmp_path: Path, side: str) -> None:
    source = VALID_JAX if side == "jax.py" else VALID_PYTORCH
    broken = source.replace("def eager(x):", "def eager_renamed(x):")
    directory = make_topic(tmp_path, **{side.replace(".", "_"): broken})
    error = topic_error(tmp_path)
    assert_problem(error, directory / side, "'eager' is not defined at module level")
    assert len(error.problems) == 1


def test_missing_setup_function(tmp_path: Path) -> None:
    broken = VALID_PYTORCH.replace("def setup(inputs, device):", "def prepare(inputs, device):")
    directory = make_topic(tmp_path, pytorch_py=broken)
    assert_problem(topic_error(tmp_path), directory / "pytorch.py",
                   "'setup' is not defined", "a required function")


@pytest.mark.parametrize("signature", ["setup(inputs)", "setup(inputs, device, dtype)",
                                       "setup()"])
def test_setup_with_wrong_number_of_parameters(tmp_path: Path, signature: str) -> None:
    broken = VALID_JAX.replace("setup(inputs, device)", signature)
    directory = make_topic(tmp_path, jax_py=broken)
    assert_problem(topic_error(tmp_path), directory / "jax.py", "'setup' cannot be called with 2",
                   "what the contract passes", "setup(inputs, device)")


def test_setup_with_varargs_is_accepted(tmp_path: Path) -> None:
    make_topic(tmp_path, jax_py=VALID_JAX.replace("setup(inputs, device)", "setup(*args)"))
    assert len(discover_topics(tmp_path)) == 1


def test_setup_with_extra_defaulted_parameter_is_accepted(tmp_path: Path) -> None:
    make_topic(tmp_path, jax_py=VALID_JAX.replace("setup(inputs, device)",
                                                  "setup(inputs, device, dtype=None)"))
    assert len(discover_topics(tmp_path)) == 1


def test_make_inputs_with_wrong_number_of_parameters(tmp_path: Path) -> None:
    broken = VALID_INPUTS.replace("make_inputs(size)", "make_inputs(size, seed)")
    directory = make_topic(tmp_path, inputs_py=broken)
    assert_problem(topic_error(tmp_path), directory / "inputs.py",
                   "'make_inputs' cannot be called with 1",
                   "what the contract passes")


def test_python_syntax_error_names_the_line(tmp_path: Path) -> None:
    broken = VALID_PYTORCH.replace("def eager(x):", "def eager(x)")
    line = broken.splitlines().index("def eager(x)") + 1
    directory = make_topic(tmp_path, pytorch_py=broken)
    assert_problem(topic_error(tmp_path), directory / "pytorch.py", f"line {line}:",
                   "syntax error")


def test_inputs_not_utf8(tmp_path: Path) -> None:
    directory = make_topic(tmp_path)
    (directory / "inputs.py").write_bytes(b"# \xff\xfe\ndef make_inputs(size):\n    return {}\n")
    assert_problem(topic_error(tmp_path), directory / "inputs.py", "not valid UTF-8")


def test_parity_compare_false_without_reason(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"rtol": "compare = false"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml",
                   "parity.compare is false without a reason")


def test_parity_compare_false_with_blank_reason(tmp_path: Path) -> None:
    toml = toml_with(replace={"rtol": "compare = false", "atol": 'reason = "   "'})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "without a reason")


def test_negative_parity_tolerance(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"atol": "atol = -1e-6"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "must not be negative")


@pytest.mark.parametrize("value", ['"abc"', "[1]"])
def test_parity_tolerance_of_wrong_type_is_reported(tmp_path: Path, value: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(replace={"rtol": f"rtol = {value}"}))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'parity.rtol'",
                   "should be of type number")


def test_parity_reason_of_wrong_type_is_reported(tmp_path: Path) -> None:
    toml = toml_with(replace={"rtol": "compare = false", "atol": "reason = 3"})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'parity.reason'",
                   "should be of type str")


@pytest.mark.parametrize("key", ["display_size", "headline_size"])
def test_display_or_headline_size_not_in_sizes(tmp_path: Path, key: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append=f"{key} = 100\n"))
    assert_problem(topic_error(tmp_path), directory / "topic.toml",
                   f"'{key}' 100 is not one of the sizes")


@pytest.mark.parametrize(("flops", "fragment"), [
    ("__import__('os')", "is not allowed"),
    ("2 * m**3", "unknown name 'm'"),
    ("n.bit_length()", "is not allowed"),
    ("2 * (n", "not an arithmetic expression"),
    ("n / 0", "division by zero"),
])
def test_bad_flops_expression(tmp_path: Path, flops: str, fragment: str) -> None:
    toml = toml_with(replace={"flops": f'flops = "{flops}"'})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "'flops'", fragment)


def test_flops_uses_the_declared_size_name(tmp_path: Path) -> None:
    toml = toml_with(replace={"size_name": 'size_name = "batch"', "flops": 'flops = "3 * batch"'})
    make_topic(tmp_path, topic_toml=toml)
    [topic] = discover_topics(tmp_path)
    assert topic.flop_count(10) == 30.0


def test_bytes_moved_is_an_expression_in_the_size_and_only_changes_the_display(
        tmp_path: Path) -> None:
    make_topic(tmp_path / "bad", topic_toml=toml_with(append='bytes = "8 * m"\n'))
    assert_problem(topic_error(tmp_path / "bad"), tmp_path / "bad" / "matmul" / "topic.toml",
                   "'bytes'", "unknown name 'm'")
    make_topic(tmp_path / "plain")
    make_topic(tmp_path / "moved", topic_toml=toml_with(append='bytes = "8 * n"\n'))
    [plain], [moved] = discover_topics(tmp_path / "plain"), discover_topics(tmp_path / "moved")
    assert plain.byte_count(10) is None and moved.byte_count(10) == 80.0
    assert moved.sources_digest == plain.sources_digest  # the bound is derived, not measured


@pytest.mark.parametrize(("line", "fragment"), [
    ('env = { jax_num_cpu_devices = "4" }', "is not a variable name in capitals"),
    ("env = { JAX_NUM_CPU_DEVICES = 4 }", "is not a variable name in capitals"),
    ('env = { GLIBC_TUNABLES = "x" }', "the harness sets this variable"),
])
def test_topic_environment_must_be_variables_the_harness_leaves_alone(
        tmp_path: Path, line: str, fragment: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append=line + "\n"))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "env.", fragment)


def test_topic_environment_is_read_and_is_part_of_the_measurement(tmp_path: Path) -> None:
    directory = make_topic(tmp_path)
    [before] = discover_topics(tmp_path)
    (directory / "topic.toml").write_text(toml_with(append='env = { JAX_NUM_CPU_DEVICES = "4" }\n'))
    [after] = discover_topics(tmp_path)
    assert before.env == {} and after.env == {"JAX_NUM_CPU_DEVICES": "4"}
    assert after.sources_digest != before.sources_digest


def test_size_name_not_an_identifier(tmp_path: Path) -> None:
    toml = toml_with(replace={"size_name": 'size_name = "batch size"'})
    directory = make_topic(tmp_path, topic_toml=toml)
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "is not an identifier")


@pytest.mark.parametrize("name", ["MatMul", "my-topic", "2d_conv"])
def test_folder_name_not_lowercase_identifier(tmp_path: Path, name: str) -> None:
    directory = make_topic(tmp_path, name)
    error = topic_error(tmp_path)
    assert_problem(error, directory, "folder name is not a lowercase identifier")
    assert len(error.problems) == 1


def test_problems_from_several_folders_are_collected_in_one_error(tmp_path: Path) -> None:
    make_topic(tmp_path, "good")
    first = make_topic(tmp_path, "first_broken", missing=("jax.py",),
                       topic_toml=toml_with(replace={"sizes": "sizes = []"}))
    second = make_topic(tmp_path, "second_broken",
                        pytorch_py=VALID_PYTORCH.replace("def compiled", "def other"))
    error = topic_error(tmp_path)
    assert len(error.problems) == 3
    assert {p.path for p in error.problems} == {
        first / "jax.py", first / "topic.toml", second / "pytorch.py"}
    text = str(error)
    assert "3 problem(s)" in text
    assert str(first / "jax.py") in text
    assert str(first / "topic.toml") in text
    assert str(second / "pytorch.py") in text
    assert text.count("Fix:") == 3
    assert "good" not in {p.path.parent.name for p in error.problems}


# --- evaluate_size_expression -------------------------------------------------------------------

def test_evaluate_size_expression_example() -> None:
    assert evaluate_size_expression("2 * n**3", "n", 4) == 128.0


@pytest.mark.parametrize(("expression", "size_name", "size", "expected"), [
    ("n", "n", 7, 7.0),
    ("n + 1 - 2", "n", 5, 4.0),
    ("n / 4", "n", 2, 0.5),
    ("-n + +3", "n", 1, 2.0),
    ("2.5 * (n + 1)", "n", 3, 10.0),
    ("8 * batch**2", "batch", 3, 72.0),
])
def test_evaluate_size_expression_arithmetic(expression: str, size_name: str, size: int,
                                             expected: float) -> None:
    result = evaluate_size_expression(expression, size_name, size)
    assert result == expected
    assert isinstance(result, float)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("__import__('os')", "not allowed"),
    ("abs(n)", "not allowed"),
    ("n.real", "not allowed"),
    ("m * 2", "unknown name 'm'"),
    ("n % 2", "not allowed"),
    ("'a' * n", "not allowed"),
    ("True + n", "not allowed"),
    ("[n]", "not allowed"),
    ("n ==", "not an arithmetic expression"),
    ("1 / (n - n)", "division by zero"),
    ("10.0 ** 400 * n", "exponent 400 is too large"),
    ("10.0 ** 60 ** 2", "too large"),
    ("1e308 * 1e308 * n", "not a finite number"),
])
def test_evaluate_size_expression_rejects(expression: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        evaluate_size_expression(expression, "n", 3)


def test_variants_bound_by_import_or_tuple_assignment_count_as_defined(tmp_path: Path) -> None:
    imported = VALID_JAX.replace("def eager(x):",
                                 "from math import sqrt as eager\n\n\ndef _old(x):")
    make_topic(tmp_path, jax_py=imported)
    assert len(discover_topics(tmp_path)) == 1


# --- variants on one side, expected errors per variant, series ---------------------------------

ONE_SIDED = """
[[variants]]
name = "func"
label = "torch.func style"
sides = ["pytorch"]
versus = "eager"
"""


def test_a_one_side_variant_is_required_only_in_its_side_file_and_pairs_with_versus(
        tmp_path: Path) -> None:
    make_topic(tmp_path, topic_toml=toml_with(append="") + ONE_SIDED,
               pytorch_py=VALID_PYTORCH + "\n\ndef func(x):\n    return x @ x\n")
    (topic,) = discover_topics(tmp_path)
    assert [v.name for v in topic.variants_for("jax")] == ["eager", "compiled"]
    assert [v.name for v in topic.variants_for("pytorch")] == ["eager", "compiled", "func"]
    pairs = {pair.key: pair for pair in topic.pairs()}
    assert (pairs["func"].jax, pairs["func"].pytorch) == ("eager", "func")
    assert pairs["func"].crossed and not pairs["eager"].crossed


def test_a_one_side_variant_missing_from_its_own_file_is_named(tmp_path: Path) -> None:
    directory = make_topic(tmp_path, topic_toml=VALID_TOML + ONE_SIDED)
    error = topic_error(tmp_path)
    assert_problem(error, directory / "pytorch.py", "'func' is not defined")
    assert not [p for p in error.problems if p.path == directory / "jax.py"]


@pytest.mark.parametrize(("variant", "fragment"), [
    ('sides = ["numpy"]', "not a list of distinct frameworks"),
    ('sides = []', "not a list of distinct frameworks"),
    ('versus = "eager"', "versus is set on a variant both sides define"),
    ('sides = ["pytorch"]\nversus = "nothing"', "versus 'nothing' is not a jax variant"),
    ('expect_error = "not a name"', "is not an exception name"),
])
def test_bad_one_side_keys_are_named_with_a_fix(tmp_path: Path, variant: str,
                                                fragment: str) -> None:
    extra = f'\n[[variants]]\nname = "other"\nlabel = "other"\n{variant}\n'
    directory = make_topic(tmp_path, topic_toml=VALID_TOML + extra,
                           jax_py=VALID_JAX + "\nother = eager\n",
                           pytorch_py=VALID_PYTORCH + "\nother = eager\n")
    assert_problem(topic_error(tmp_path), directory / "topic.toml", fragment)


def test_a_variant_expect_error_overrides_the_side_default(tmp_path: Path) -> None:
    extra = ('\n[[variants]]\nname = "assign"\nlabel = "x[0] = 1"\nsides = ["jax"]\n'
             'expect_error = "TypeError"\n')
    make_topic(tmp_path, topic_toml=VALID_TOML + extra, jax_py=VALID_JAX + "\nassign = eager\n")
    (topic,) = discover_topics(tmp_path)
    assert topic.expected_error("jax", "assign") == "TypeError"
    assert topic.expected_error("jax", "eager") is None


def test_series_names_a_declared_variant(tmp_path: Path) -> None:
    good = VALID_TOML + '\n[series]\nvariant = "compiled"\ntitle = "Loss"\ny_label = "loss"\n'
    make_topic(tmp_path / "a", topic_toml=good)
    (topic,) = discover_topics(tmp_path / "a")
    assert topic.series is not None and topic.series.variant == "compiled"
    assert topic.series.y_label == "loss" and topic.series.x_label == "index"
    bad = VALID_TOML + '\n[series]\nvariant = "missing"\n'
    directory = make_topic(tmp_path / "b", topic_toml=bad)
    assert_problem(topic_error(tmp_path / "b"), directory / "topic.toml",
                   "series.variant 'missing' is not a declared variant")


def test_series_labels_are_display_only_but_its_variant_is_measured(tmp_path: Path) -> None:
    base = VALID_TOML + '\n[series]\nvariant = "compiled"\ntitle = "Loss"\n'
    make_topic(tmp_path / "a", topic_toml=base)
    make_topic(tmp_path / "b", topic_toml=base.replace('title = "Loss"', 'title = "Curve"'))
    make_topic(tmp_path / "c", topic_toml=base.replace('variant = "compiled"', 'variant = "eager"'))
    digests = [discover_topics(tmp_path / d)[0].sources_digest for d in "abc"]
    assert digests[0] == digests[1] != digests[2]


# --- budgets and quick builds -------------------------------------------------------------------

@pytest.mark.parametrize("line", ["budget_s = 0", "budget_s = -5", "budget_s = true"])
def test_budget_must_be_a_positive_number_of_seconds(tmp_path: Path, line: str) -> None:
    directory = make_topic(tmp_path, topic_toml=toml_with(append=line + "\n"))
    assert_problem(topic_error(tmp_path), directory / "topic.toml", "budget_s")


def test_budget_is_read_and_changes_no_measurement(tmp_path: Path) -> None:
    directory = make_topic(tmp_path)
    [before] = discover_topics(tmp_path)
    (directory / "topic.toml").write_text(toml_with(append="budget_s = 90\n"))
    [after] = discover_topics(tmp_path)
    assert before.budget_s is None and after.budget_s == 90.0
    assert after.sources_digest == before.sources_digest  # a budget is not a measurement


def test_quick_build_keeps_the_display_and_headline_sizes(tmp_path: Path) -> None:
    make_topic(tmp_path, topic_toml=toml_with(
        replace={"sizes": "sizes = [8, 16, 32, 64]"}, append="display_size = 16\n"))
    [topic] = discover_topics(tmp_path)
    assert topic.quick_sizes().sizes == (16, 64)
    make_topic(tmp_path, "small", topic_toml=toml_with(replace={"sizes": "sizes = [8, 64]"}))
    small = next(t for t in discover_topics(tmp_path) if t.name == "small")
    assert small.quick_sizes() is small


def test_every_real_topic_has_a_budget() -> None:
    """The build reports a topic over its budget, and `make bench` lists them: each topic of
    the site sets one."""
    topics = discover_topics(Path(__file__).resolve().parent.parent / "snippets")
    assert topics and all(topic.budget_s for topic in topics), \
        [t.name for t in topics if not t.budget_s]
