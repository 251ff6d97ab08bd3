"""Random bytes and random metadata into discovery; damaged results into the renderer.

Discovery must answer with topics or one TopicError, never another exception; the renderer must
produce Markdown (unknown values shown as such) from results with fields missing or wrong.
Seeded, so a failure reproduces.
"""

from __future__ import annotations

import json
import random
import shutil
import string
from pathlib import Path

import pytest

from build_hooks.assemble.derive import assemble
from build_hooks.assemble.model import BuildResults, Site
from build_hooks.render.directives import PageContext, expand_directives
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import TopicError, discover_topics

from .conftest import FIXTURE_TOPICS
from .test_render import MACHINE

FIXTURES = Path(__file__).parent / "fixtures"
KEYS = ["title", "question", "summary", "sizes", "size_name", "display_size", "headline_size",
        "flops", "order", "variants", "parity", "expect_error", "requires", "colour"]
NASTY = ["", " ", "|", "`", "```", "<script>alert(1)</script>", "*", "\\", "\"", "'", "${x}",
         "{{ topic x }}", "é ü 漢字", "\u202e", "n", "2 * n**3", "1/0", "__import__('os')"]


def random_scalar(rng: random.Random):
    return rng.choice([
        lambda: rng.randint(-5, 10**6),
        lambda: rng.random() * 10**rng.randint(-3, 3),
        lambda: rng.choice(NASTY),
        lambda: "".join(rng.choices(string.printable, k=rng.randint(0, 20))),
        lambda: rng.choice([True, False]),
    ])()


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth < 2 and roll < 0.2:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 2 and roll < 0.35:
        return {rng.choice(KEYS + ["name", "label", "rtol", "atol", "compare", "reason", "jax"]):
                random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return random_scalar(rng)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def random_topic_toml(rng: random.Random) -> str:
    lines = []
    for key in rng.sample(KEYS, rng.randint(0, len(KEYS))):
        lines.append(f"{key} = {toml_value(random_value(rng))}")
    if rng.random() < 0.5:
        lines.append('[[variants]]\nname = "double"\nlabel = ' + json.dumps(rng.choice(NASTY)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(300))
def test_discovery_answers_random_metadata_with_topics_or_one_clear_error(tmp_path, seed):
    rng = random.Random(seed)
    topic = tmp_path / "snippets" / "fuzzed"
    shutil.copytree(FIXTURE_TOPICS / "double", topic)
    target = rng.choice(["topic.toml", "topic.toml", "topic.toml", "inputs.py", "jax.py",
                         "pytorch.py"])
    if target == "topic.toml" and rng.random() < 0.8:
        (topic / target).write_text(random_topic_toml(rng))
    else:
        data = bytearray((topic / target).read_bytes())
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (topic / target).write_bytes(bytes(data))
    try:
        discover_topics(tmp_path / "snippets")
    except TopicError as error:
        assert error.problems
        for problem in error.problems:
            assert str(problem.path).startswith(str(topic))
            assert problem.message and problem.fix
            assert "Fix:" in str(problem)


def _results(tmp_path: Path) -> tuple[BuildResults, Settings]:
    shutil.copytree(FIXTURE_TOPICS / "double", tmp_path / "snippets" / "double")
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache")
    topics = discover_topics(settings.snippets_dir)
    record = json.loads((FIXTURES / "records" / "double.json").read_text())
    data = assemble([(topics[0], record, "cache")], MACHINE, "fuzz", settings)
    return BuildResults(topics, data, []), settings


IDENTITY = {"topic", "framework", "variant", "size"}


@pytest.mark.parametrize("seed", range(200))
def test_renderer_survives_results_with_fields_missing_or_wrong(tmp_path, seed):
    rng = random.Random(seed)
    results, _ = _results(tmp_path)
    for row in results.data["results"]:
        for key in rng.sample(sorted(set(row) - IDENTITY), rng.randint(0, 6)):
            if rng.random() < 0.5:
                del row[key]
            else:
                row[key] = rng.choice([None, "", [], {}, "nonsense", -1, float("nan")])
    for entry in results.data["topics"]:
        for key in rng.sample(["setups", "notes", "measured_at", "source"], rng.randint(0, 2)):
            entry.pop(key, None)
    context = PageContext(uri="topics/double.md", pages={"methodology.md"})
    site = Site(results.topics, [results])
    text = expand_directives("{{ topic double }}\n\n{{ comparison_table }}\n", context,
                             lambda: site)
    assert "## Timings" in text
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| n | Framework"))
    header, table_rows = lines[start], []
    for line in lines[start + 2:]:  # the rows, up to the end of the table
        if not line.startswith("|"):
            break
        table_rows.append(line)
    assert len(table_rows) == 4  # two sizes, two frameworks
    for line in table_rows:  # every row still has as many cells as the header
        assert line.count(" | ") == header.count(" | ")
