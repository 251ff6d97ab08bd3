"""Discover comparison topics in `snippets/<topic>/` and validate them without running them.

A topic folder holds:

- `topic.toml`: title, the question it answers, sizes, variants, parity tolerance, optional FLOPs;
- `inputs.py`: `make_inputs(size)` returns a dict of NumPy arrays, made from a fixed seed, that
  both sides receive;
- `pytorch.py` and `jax.py`: `setup(inputs, device)` turns the arrays into the framework's own
  on the device and returns the arguments of the timed functions; then one function per variant
  (for example `eager` and `compiled = jax.jit(eager)`); optionally `show(result)` prints it.

Every problem in every topic is collected and raised as one `TopicError`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from build_hooks import FRAMEWORKS

TOPIC_FILE = "topic.toml"
INPUTS_FILE = "inputs.py"
SIDE_FILES = {"pytorch": "pytorch.py", "jax": "jax.py"}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_NAMES = {"setup", "show", "make_inputs"}


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}. Fix: {self.fix}"


class TopicError(Exception):
    """Every problem found in the snippets folder, in one error."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in the comparison topics:\n{lines}")


@dataclass(frozen=True)
class Variant:
    name: str
    """The function of that name in both side files is the timed work."""
    label: str
    compiled: bool = False
    """True when the first call traces and compiles (jax.jit, torch.compile)."""
    sides: tuple[str, ...] = FRAMEWORKS
    """The side files that define it: both, or one (e.g. PyTorch's `backward` and `torch.func`
    styles against one JAX function)."""
    versus: str | None = None
    """For a one-side variant: the other side's variant it is paired with (parity, verdict)."""
    expect_error: str | None = None
    """The exception this variant's call must raise (the page shows the error as the point)."""
    fresh_process: str | None = None
    """"cold" or "warm": each sample is a new process's time from its start to the first
    result, with an empty persistent compilation cache, or one a previous process filled."""


@dataclass(frozen=True)
class Pair:
    """What one comparison puts side by side: the JAX and the PyTorch variant (None where that
    side has nothing to pair). The comparison is keyed by `key`, the variant it belongs to."""

    key: str
    jax: str | None
    pytorch: str | None

    def name(self, framework: str) -> str | None:
        return self.jax if framework == "jax" else self.pytorch

    @property
    def crossed(self) -> bool:
        """True when the two sides' variants have different names (a one-side pairing)."""
        return self.jax is not None and self.pytorch is not None and self.jax != self.pytorch


@dataclass(frozen=True)
class Series:
    """A topic-defined series drawn as a chart: the first-call result (a 1-D array) of
    `variant` at the display size, on each side (e.g. a training loss curve)."""

    variant: str
    title: str
    x_label: str
    y_label: str


SERIES_MAX_POINTS = 10_000


@dataclass(frozen=True)
class Parity:
    compare: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    reason: str = ""
    """Why the outputs are not compared, when `compare` is false."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str

    @property
    def relative(self) -> str:
        """Path shown to readers: `snippets/<topic>/<file>`."""
        return f"{self.path.parent.parent.name}/{self.path.parent.name}/{self.path.name}"


@dataclass(frozen=True)
class Topic:
    name: str
    directory: Path
    title: str
    question: str
    sizes: tuple[int, ...]
    size_name: str
    variants: tuple[Variant, ...]
    parity: Parity
    metadata: SourceFile
    inputs: SourceFile
    sides: dict[str, SourceFile]
    display_size: int
    headline_size: int
    flops: str | None = None
    bytes: str | None = None
    """Bytes one call must move at least (read plus written), for the memory bound."""
    order: int = 1000
    summary: str = ""
    expect_error: dict[str, str] = field(default_factory=dict)
    """Per framework, the exception type its variants must raise (the topic shows the error)."""
    requires: tuple[str, ...] = ()
    """Devices a side needs (keys of REQUIREMENTS); on a machine without, the side is skipped."""
    series: Series | None = None
    compile_sweep: bool = False
    """Draw the compiled variants' first-call time against the size (e.g. compile time
    against a loop's trip count)."""
    peak_memory: bool = False
    """Record each row's peak memory with its method (worker/memory.py)."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables this topic's own workers start with (e.g. a device count): the
    topic then runs in workers of its own, started for it and stopped after it."""
    budget_s: float | None = None
    """Seconds a full cold measurement of this topic may take on the development machine; the
    build says when it took longer, and `make bench` lists the topics over their budget."""
    sources_digest: str = field(default="", compare=False)

    def quick_sizes(self) -> Topic:
        """This topic as a quick build measures it: at its display and headline sizes only
        (the sizes its page shows first and its verdict uses), so a draft build compiles
        less. A topic with no other size is returned unchanged."""
        kept = tuple(s for s in self.sizes if s in (self.display_size, self.headline_size))
        return self if kept == self.sizes else replace(self, sizes=kept)

    def variants_for(self, framework: str) -> tuple[Variant, ...]:
        """The variants that side's file defines, in topic.toml's order."""
        return tuple(v for v in self.variants if framework in v.sides)

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def pairs(self) -> list[Pair]:
        """One pairing per variant: itself on both sides, or a one-side variant against the
        other side's `versus` (None there when it has no `versus`)."""
        found = []
        for variant in self.variants:
            names = {fw: (variant.name if fw in variant.sides else variant.versus)
                     for fw in FRAMEWORKS}
            found.append(Pair(variant.name, names["jax"], names["pytorch"]))
        return found

    def expected_error(self, framework: str, variant: str) -> str | None:
        """The exception a variant must raise on that side (its own key, else the topic's)."""
        declared = self.variant(variant)
        if declared is not None and declared.expect_error:
            return declared.expect_error
        return self.expect_error.get(framework)

    def flop_count(self, size: int) -> float | None:
        """Floating-point operations of one call at `size`, when the topic declares them."""
        if self.flops is None:
            return None
        return evaluate_size_expression(self.flops, self.size_name, size)

    def byte_count(self, size: int) -> float | None:
        """Bytes one call must move at `size`, when the topic declares them."""
        if self.bytes is None:
            return None
        return evaluate_size_expression(self.bytes, self.size_name, size)


_TOP_KEYS = {
    "title": str,
    "question": str,
    "summary": str,
    "sizes": list,
    "size_name": str,
    "display_size": int,
    "headline_size": int,
    "flops": str,
    "bytes": str,
    "order": int,
    "variants": list,
    "parity": dict,
    "expect_error": dict,
    "requires": list,
    "series": dict,
    "compile_sweep": bool,
    "peak_memory": bool,
    "env": dict,
    "budget_s": (int, float),
}
REQUIREMENTS = {
    "accelerator": "an accelerator (GPU, TPU or Apple MPS)",
    "gpu": "a GPU",
    "tpu": "a TPU",
    "mps": "Apple's MPS",
}
_VARIANT_KEYS = {"name": str, "label": str, "compiled": bool, "sides": list, "versus": str,
                 "expect_error": str, "fresh_process": str}
FRESH_STATES = ("cold", "warm")
_SERIES_KEYS = {"variant": str, "title": str, "x_label": str, "y_label": str}
_PARITY_KEYS = {"compare": bool, "rtol": (int, float), "atol": (int, float), "reason": str}


def discover_topics(snippets_dir: Path) -> list[Topic]:
    """Every topic under `snippets_dir`, sorted by `order` then name; raises TopicError."""
    if not snippets_dir.is_dir():
        raise TopicError(
            [Problem(snippets_dir, "the snippets folder does not exist",
                     "create it, or set extra.comparison.snippets_dir in mkdocs.yml")]
        )
    problems: list[Problem] = []
    topics: list[Topic] = []
    for directory in sorted(p for p in snippets_dir.iterdir() if p.is_dir()):
        if directory.name.startswith((".", "_")):
            continue
        topic = _load_topic(directory, problems)
        if topic is not None:
            topics.append(topic)
    if problems:
        raise TopicError(problems)
    return sorted(topics, key=lambda t: (t.order, t.name))


def _read_text(path: Path, problems: list[Problem], fix: str) -> str | None:
    if not path.is_file():
        problems.append(Problem(path, "file is missing", fix))
        return None
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(path, f"not valid UTF-8 ({error.reason} at byte {error.start})",
                                "save the file as UTF-8"))
    except OSError as error:
        problems.append(Problem(path, f"cannot be read ({error.strerror})", "check permissions"))
    return None


def _load_topic(directory: Path, problems: list[Problem]) -> Topic | None:
    before = len(problems)
    if not NAME_PATTERN.match(directory.name):
        problems.append(Problem(directory, "topic folder name is not a lowercase identifier",
                                "rename it to letters, digits and underscores, e.g. matmul_sweep"))
    metadata_path = directory / TOPIC_FILE
    metadata_text = _read_text(metadata_path, problems,
                               "add topic.toml with title, question, sizes and variants")
    metadata = _parse_metadata(metadata_path, metadata_text, problems) if metadata_text else None

    inputs_path = directory / INPUTS_FILE
    inputs_text = _read_text(inputs_path, problems,
                             "add inputs.py defining make_inputs(size) -> dict of NumPy arrays")
    if inputs_text is not None:
        _check_python(inputs_path, inputs_text, {"make_inputs": 1}, problems)

    sides: dict[str, SourceFile] = {}
    for framework in FRAMEWORKS:
        path = directory / SIDE_FILES[framework]
        text = _read_text(path, problems, f"add {SIDE_FILES[framework]} with setup(inputs, "
                          "device) and one function per variant")
        if text is None:
            continue
        required: dict[str, int | None] = {"setup": 2}
        required.update({v.name: None for v in (metadata["variants"] if metadata else ())
                         if framework in v.sides})
        _check_python(path, text, required, problems)
        sides[framework] = SourceFile(path, text)

    # metadata is only parsed from a metadata_text, so `metadata_text is None` adds no case.
    if len(problems) > before or metadata is None or metadata_text is None or inputs_text is None:
        return None
    digest = hashlib.sha256()
    for source in (measured_metadata(metadata_text), inputs_text, sides["jax"].text,
                   sides["pytorch"].text):
        digest.update(hashlib.sha256(source.encode()).digest())
    return Topic(
        name=directory.name,
        directory=directory,
        metadata=SourceFile(metadata_path, metadata_text),
        inputs=SourceFile(inputs_path, inputs_text),
        sides=sides,
        sources_digest=digest.hexdigest(),
        **metadata,
    )


# Metadata that only changes how a topic is shown: editing it re-measures nothing and leaves
# stored results current (a typo fix in a title must not mark a GPU machine's numbers stale).
DISPLAY_ONLY_KEYS = ("title", "question", "summary", "order", "headline_size", "display_size",
                     "compile_sweep", "bytes", "budget_s")


def measured_metadata(text: str) -> str:
    """The part of topic.toml that can change a measurement, canonically: everything except
    DISPLAY_ONLY_KEYS and the variants' labels. (`text` has been validated already.)"""
    data = tomllib.loads(text)
    for key in DISPLAY_ONLY_KEYS:
        data.pop(key, None)
    for variant in data.get("variants", []):
        if isinstance(variant, dict):
            variant.pop("label", None)
    if isinstance(data.get("series"), dict):
        for key in ("title", "x_label", "y_label"):
            data["series"].pop(key, None)
    return json.dumps(data, sort_keys=True, default=str)


def _parse_metadata(path: Path, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(path, f"is not valid TOML ({error})", "fix the TOML syntax"))
        return None
    before = len(problems)
    _check_keys(path, data, _TOP_KEYS, "", problems)
    for key in ("title", "question", "sizes", "variants"):
        if key not in data:
            problems.append(Problem(path, f"required key '{key}' is missing", _KEY_HELP[key]))

    sizes = data.get("sizes")
    if isinstance(sizes, list):
        if not sizes:
            problems.append(Problem(path, "'sizes' is empty", "list at least one size, e.g. [64]"))
        elif not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
            problems.append(Problem(path, "'sizes' must hold positive integers",
                                    "write sizes = [128, 256, 512]"))
        elif len(set(sizes)) != len(sizes):
            problems.append(Problem(path, "'sizes' repeats a size", "list each size once"))

    variants = _parse_variants(path, data.get("variants"), problems)
    parity = _parse_parity(path, data.get("parity", {}), problems)
    series = _parse_series(path, data.get("series"), variants, problems)
    size_name = data.get("size_name", "n")
    if isinstance(size_name, str) and not size_name.isidentifier():
        problems.append(Problem(path, f"'size_name' {size_name!r} is not an identifier",
                                "use a short name such as n or batch"))
    flops, moved = data.get("flops"), data.get("bytes")
    for key, expression, example in (("flops", flops, "2 * {n}**3"), ("bytes", moved, "8 * {n}")):
        if isinstance(expression, str) and isinstance(size_name, str) and \
                size_name.isidentifier():
            try:
                evaluate_size_expression(expression, size_name, 1)
            except ValueError as error:
                problems.append(Problem(path, f"'{key}' {expression!r}: {error}",
                                        f"write an arithmetic expression in {size_name}, "
                                        f"e.g. \"{example.format(n=size_name)}\""))
    if len(problems) > before:
        return None
    # No problem so far: 'sizes' is present (required) and a list (type-checked above).
    assert isinstance(sizes, list)

    for key in ("display_size", "headline_size"):
        if key in data and data[key] not in sizes:
            problems.append(Problem(path, f"'{key}' {data[key]} is not one of the sizes",
                                    f"pick one of {sizes}"))
    expect_error = data.get("expect_error", {})
    for framework, name in expect_error.items() if isinstance(expect_error, dict) else ():
        if framework not in FRAMEWORKS or not isinstance(name, str) or not name.isidentifier():
            problems.append(Problem(path, f"expect_error.{framework} = {name!r} is not a "
                                    "framework and an exception name",
                                    'write expect_error = { jax = "TypeError" }'))
    env = data.get("env", {})
    for name, value in env.items() if isinstance(env, dict) else ():
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) or not isinstance(value, str):
            problems.append(Problem(path, f"env.{name} = {value!r} is not a variable name in "
                                    "capitals and a string value",
                                    'write env = { JAX_NUM_CPU_DEVICES = "4" }'))
        elif name in RESERVED_ENV:
            problems.append(Problem(path, f"env.{name}: the harness sets this variable for "
                                    "every worker", "leave it out of topic.toml"))
    budget = data.get("budget_s")
    if isinstance(budget, int | float) and not isinstance(budget, bool) and not budget > 0:
        problems.append(Problem(path, f"budget_s = {budget!r} is not a positive number of "
                                "seconds", "write budget_s = 60"))
    requires = data.get("requires", [])
    for requirement in requires if isinstance(requires, list) else ():
        if requirement not in REQUIREMENTS:
            problems.append(Problem(path, f"requires: unknown device {requirement!r}",
                                    f"use one of: {', '.join(REQUIREMENTS)}"))
    if len(problems) > before:
        return None
    return {
        "expect_error": dict(expect_error),
        "requires": tuple(requires),
        "title": data["title"],
        "question": data["question"],
        "summary": data.get("summary", ""),
        "sizes": tuple(sizes),
        "size_name": size_name,
        "display_size": data.get("display_size", sizes[0]),
        "headline_size": data.get("headline_size", max(sizes)),
        "flops": flops,
        "bytes": moved,
        "order": data.get("order", 1000),
        "variants": variants,
        "parity": parity,
        "series": series,
        "compile_sweep": data.get("compile_sweep", False),
        "peak_memory": data.get("peak_memory", False),
        "env": dict(env),
        "budget_s": float(budget) if isinstance(budget, int | float) else None,
    }


# Set by the harness for every worker (run/process.py): a topic may not change them.
RESERVED_ENV = ("PYTHONPATH", "PYTHONUNBUFFERED", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR",
                "XLA_PYTHON_CLIENT_PREALLOCATE", "GLIBC_TUNABLES", "JAX_PLATFORMS",
                "CUDA_VISIBLE_DEVICES", "COMPARISON_PERSISTENT_CACHE")

_KEY_HELP = {
    "title": 'add title = "Eager versus compiled"',
    "question": 'add question = "What does compiling buy?"',
    "sizes": "add sizes = [1024] (the sizes passed to make_inputs)",
    "variants": 'add a [[variants]] table with name = "eager" and label = "Eager"',
}


def _check_keys(path: Path, data: dict[str, Any], schema: dict[str, Any], prefix: str,
                problems: list[Problem]) -> None:
    for key, value in data.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            problems.append(Problem(path, f"unknown key '{prefix}{key}'",
                                    f"remove it or use one of: {known}"))
        elif not isinstance(value, schema[key]) or isinstance(value, bool) != (
            schema[key] is bool
        ):
            expected = schema[key].__name__ if isinstance(schema[key], type) else "number"
            problems.append(Problem(path, f"'{prefix}{key}' should be of type {expected}, "
                                    f"not {type(value).__name__}",
                                    f"write {prefix}{key} as a {expected}"))


def _parse_variants(path: Path, raw: Any, problems: list[Problem]) -> tuple[Variant, ...]:
    if not isinstance(raw, list):
        return ()
    if not raw:
        problems.append(Problem(path, "'variants' is empty", _KEY_HELP["variants"]))
    variants = []
    for index, entry in enumerate(raw):
        where = f"variants[{index}]."
        if not isinstance(entry, dict):
            problems.append(Problem(path, f"variants[{index}] is not a table",
                                    "write each variant as a [[variants]] table"))
            continue
        before = len(problems)
        _check_keys(path, entry, _VARIANT_KEYS, where, problems)
        name = entry.get("name")
        if not isinstance(name, str) or not name.isidentifier() or name in RESERVED_NAMES:
            problems.append(Problem(path, f"{where}name {name!r} is not a usable function name",
                                    "name the variant after its function, e.g. eager, "
                                    "avoiding setup, show and make_inputs"))
            continue
        sides = entry.get("sides", list(FRAMEWORKS))
        if isinstance(sides, list) and (not sides or len(set(sides)) != len(sides) or any(
                side not in FRAMEWORKS for side in sides)):
            problems.append(Problem(path, f"{where}sides {sides!r} is not a list of distinct "
                                    f"frameworks", 'write sides = ["pytorch"] (or ["jax"]; '
                                    "leave it out for a variant both sides define)"))
        versus = entry.get("versus")
        if isinstance(versus, str) and isinstance(sides, list) and len(sides) != 1:
            problems.append(Problem(path, f"{where}versus is set on a variant both sides define",
                                    "use versus only with sides = [one framework]"))
        expected = entry.get("expect_error")
        if isinstance(expected, str) and not expected.isidentifier():
            problems.append(Problem(path, f"{where}expect_error {expected!r} is not an "
                                    "exception name", 'write expect_error = "TypeError"'))
        fresh = entry.get("fresh_process")
        if isinstance(fresh, str) and fresh not in FRESH_STATES:
            problems.append(Problem(path, f"{where}fresh_process {fresh!r} is not a cache state",
                                    'write fresh_process = "cold" (an empty persistent '
                                    'compilation cache) or "warm" (one a previous process '
                                    "filled)"))
        if len(problems) == before:
            variants.append(Variant(name=name, label=entry.get("label", name),
                                    compiled=entry.get("compiled", False),
                                    sides=tuple(fw for fw in FRAMEWORKS if fw in sides),
                                    versus=versus, expect_error=expected, fresh_process=fresh))
    names = [v.name for v in variants]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(Problem(path, f"variant '{name}' is declared twice", "remove one"))
    for variant in variants:
        if variant.versus is None:
            continue
        other = next(fw for fw in FRAMEWORKS if fw not in variant.sides)
        partner = next((v for v in variants if v.name == variant.versus), None)
        if partner is None or other not in partner.sides:
            problems.append(Problem(path, f"variant '{variant.name}': versus "
                                    f"'{variant.versus}' is not a {other} variant",
                                    f"name a variant that {SIDE_FILES[other]} defines"))
    return tuple(variants)


def _parse_series(path: Path, raw: Any, variants: tuple[Variant, ...],
                  problems: list[Problem]) -> Series | None:
    if raw is None or not isinstance(raw, dict):
        return None  # a wrong type is reported by the top-level key check
    before = len(problems)
    _check_keys(path, raw, _SERIES_KEYS, "series.", problems)
    name = raw.get("variant")
    if name is None:
        problems.append(Problem(path, "series.variant is missing",
                                'name the variant whose result is drawn, e.g. variant = '
                                '"compiled"'))
    elif isinstance(name, str) and name not in {v.name for v in variants}:
        problems.append(Problem(path, f"series.variant '{name}' is not a declared variant",
                                f"use one of: {', '.join(v.name for v in variants)}"))
    if len(problems) > before:
        return None
    assert isinstance(name, str)  # a declared variant's name (checked above)
    return Series(variant=name, title=str(raw.get("title", name)),
                  x_label=str(raw.get("x_label", "index")),
                  y_label=str(raw.get("y_label", "value")))


def _parse_parity(path: Path, raw: Any, problems: list[Problem]) -> Parity:
    if not isinstance(raw, dict):
        return Parity()
    before = len(problems)
    _check_keys(path, raw, _PARITY_KEYS, "parity.", problems)
    if len(problems) > before:
        return Parity()  # the type problems are reported; do not build from bad values
    parity = Parity(
        compare=raw.get("compare", True),
        rtol=float(raw.get("rtol", Parity.rtol)),
        atol=float(raw.get("atol", Parity.atol)),
        reason=raw.get("reason", ""),
    )
    if parity.rtol < 0 or parity.atol < 0:
        problems.append(Problem(path, "parity tolerances must not be negative",
                                "set parity.rtol and parity.atol to 0 or more"))
    if not parity.compare and not parity.reason.strip():
        problems.append(Problem(path, "parity.compare is false without a reason",
                                'add parity.reason = "why the outputs cannot be compared"'))
    return parity


def _module_names(tree: ast.Module) -> dict[str, tuple[int, int] | None]:
    """Top-level names of a module; for functions, how many positional arguments they accept
    (required, most), the most being unbounded (-1) with *args."""
    names: dict[str, tuple[int, int] | None] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            positional = len(node.args.posonlyargs) + len(node.args.args)
            required = positional - len(node.args.defaults)
            names[node.name] = (required, -1 if node.args.vararg else positional)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):  # a, b = ... binds both
                    if isinstance(name, ast.Name):
                        names[name.id] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:  # from helpers import eager binds eager
                names[(alias.asname or alias.name).split(".")[0]] = None
    return names


def _accepts(signature: tuple[int, int] | None, count: int) -> bool:
    if signature is None:  # an assignment, e.g. compiled = jax.jit(eager): checked at run time
        return True
    required, most = signature
    return required <= count and (most == -1 or count <= most)


def _check_python(path: Path, text: str, required: dict[str, int | None],
                  problems: list[Problem]) -> None:
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        problems.append(Problem(path, f"line {error.lineno}: syntax error: {error.msg}",
                                "fix the Python syntax"))
        return
    names = _module_names(tree)
    for name, arity in required.items():
        if name not in names:
            what = "the timed function of the variant declared in topic.toml" \
                if name not in ("setup", "make_inputs") else "a required function"
            problems.append(Problem(path, f"'{name}' is not defined at module level ({what})",
                                    f"define {name}(...) in {path.name}"))
        elif arity is not None and not _accepts(names[name], arity):
            problems.append(Problem(path, f"'{name}' cannot be called with {arity} positional "
                                    "argument(s), which is what the contract passes",
                                    f"define it as {name}({_SIGNATURES[name]})"))


_SIGNATURES = {"setup": "inputs, device", "make_inputs": "size"}


def evaluate_size_expression(expression: str, size_name: str, size: int) -> float:
    """Evaluate an arithmetic expression in one variable, e.g. `2 * n**3`, without eval()."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"not an arithmetic expression ({error.msg})") from None

    def visit(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return visit(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
                and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id != size_name:
                raise ValueError(f"unknown name '{node.id}' (only '{size_name}' is defined)")
            return size
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = visit(node.left), visit(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 64:
                raise ValueError(f"exponent {right:g} is too large (at most 64)")
            return _OPERATORS[type(node.op)](left, right)
        raise ValueError(f"'{ast.unparse(node)}' is not allowed (numbers, {size_name}, + - * / **)")

    try:
        value = float(visit(tree))
    except (ZeroDivisionError, OverflowError) as error:
        raise ValueError(str(error)) from None
    if not math.isfinite(value):
        raise ValueError(f"evaluates to {value}, not a finite number")
    return value


_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
