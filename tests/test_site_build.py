"""Real `mkdocs build` (and `properdocs build`) runs of tiny fixture sites."""

from __future__ import annotations

import contextlib
import html
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from build_hooks.core.formatting import format_seconds
from build_hooks.render import highlight
from build_hooks.tools import bench

from .conftest import QUIET, default_sigint

pytestmark = pytest.mark.slow

ROW_KEYS = {"topic", "framework", "variant", "size", "status", "first_call_s", "median_s",
            "iqr_s", "samples", "stdout", "noisy", "n", "environment"}


def test_good_site_builds_strict_with_results_and_pages(site_factory):
    site = site_factory(["double"],
                        pages={"execution.md": "# Execution\n\n{{ execution_report }}\n"})
    build = site.build()
    assert build.returncode == 0, build.stderr
    data = site.results()
    assert data["schema_version"] == 2
    environment = data["environment"]
    for key in ("cpu", "python", "packages", "frameworks"):
        assert key in environment
    assert environment["packages"]["jax"] and environment["packages"]["torch"]
    assert environment["frameworks"]["jax"]["intra_op_threads"] == \
        environment["frameworks"]["pytorch"]["intra_op_threads"]
    assert environment["frameworks"]["jax"]["matmul_precision"] == "highest"
    rows = site.rows("double")
    assert {(r["framework"], r["size"]) for r in rows} == \
        {(fw, n) for fw in ("jax", "pytorch") for n in (8, 16)}
    for row in rows:
        assert ROW_KEYS <= set(row)
        assert row["status"] == "ok" and row["samples"] and row["median_s"] > 0
    assert data["parity"]["double"]["status"] == "match"
    # The topic declares its FLOPs, so the build probed the machine with both frameworks (quick
    # sizes) and each row's share of the bound is its FLOPs at the better rate over its median.
    probe = data["probe"]
    assert probe["quick"] is True and set(probe["frameworks"]) == {"jax", "pytorch"}
    for kind in ("compute", "memory"):
        rates = {fw: found[kind]["rate"] for fw, found in probe["frameworks"].items()}
        assert min(rates.values()) > 0
        assert probe["bounds"][kind]["rate"] == max(rates.values())
        assert rates[probe["bounds"][kind]["framework"]] == max(rates.values())
    for row in rows:
        least = row["size"] / (probe["bounds"]["compute"]["rate"] * 1e9)  # flops = "n"
        assert row["bound"] == "compute"
        assert row["bound_share"] == pytest.approx(least / row["median_s"])

    page = site.html("topics/double")
    text = html.unescape(page)
    assert "Share of bound" in text and "Share of the machine's bound" in text
    # Linked content tabs, PyTorch first, with the real code and the real output.
    labels = re.findall(r'<label for="__tabbed_\d+_\d+">([^<]+)</label>', page)
    assert labels[:2] == ["PyTorch", "JAX"]
    assert '<span class="nf">double</span>' in page
    assert "jax doubled: [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]" in page
    assert "Outputs match" in page
    # Every median on the page is the median in results.json.
    for row in rows:
        assert format_seconds(row["median_s"]) in html.unescape(page)
    home = site.html("")
    assert 'href="topics/double/"' in home
    assert "Doubling a vector" in home
    # Search finds the prose and the code, not this build's numbers (Material's exclusion),
    # and the attribute that says so is gone from the pages.
    index = json.loads((Path(site.root) / "site" / "search" / "search_index.json").read_text())
    topic_entries = {d["location"]: d["text"] for d in index["docs"]
                     if d["location"].startswith("topics/double/")}
    assert "topics/double/#code" in topic_entries
    assert not {"topics/double/#timings", "topics/double/#parity"} & set(topic_entries)
    searchable = " ".join(d["title"] + " " + d["text"] for d in index["docs"])
    assert "def double" in searchable
    # The topic's title appears only in the tables of the home and execution pages (its page is
    # headed "double"), and both tables are left out.
    assert "Doubling a vector" not in searchable
    assert any(d["location"].startswith("execution/") for d in index["docs"])
    for row in rows:
        assert format_seconds(row["median_s"]) not in searchable
    assert "Outputs match" not in searchable
    assert "data-search-exclude" not in home + page
    assert 'id="timings"' in page and 'id="parity"' in page
    # Generated files never go into docs/ (that would loop `serve`).
    assert not (Path(site.root) / "docs" / "results.json").exists()
    assert (Path(site.root) / "site" / "results.json").exists()

    # A warm rebuild of the same site runs nothing and says so (one cold build for both).
    first = data
    again = site.build()
    assert again.returncode == 0, again.stderr
    assert "came from the cache" in again.stderr
    assert "Starting the" not in again.stderr
    assert [r["samples"] for r in site.results()["results"]] == \
        [r["samples"] for r in first["results"]]


def test_warm_rebuild_reuses_highlighted_code_and_writes_the_same_html(site_factory):
    site = site_factory(["double"])
    assert site.build().returncode == 0
    page = site.html("topics/double")
    cache = site.root / ".cache" / "highlight" / "blocks.json"
    stored = json.loads(cache.read_text())
    assert len(stored["blocks"]) >= 3  # two snippets and the shared inputs, at least
    assert all(block in page for block in stored["blocks"].values())
    assert site.build().returncode == 0
    pages = {p: p.read_bytes() for p in (site.root / "site").rglob("*.html")}
    assert len(pages) >= 3  # the results now say "from the cache" on every page
    assert json.loads(cache.read_text()) == stored

    # The warm build took the blocks from the file: a mark put into each shows on the page.
    marked = {key: block.replace("<code>", "<code><!--kept-->", 1)
              for key, block in stored["blocks"].items()}
    cache.write_text(json.dumps({**stored, "blocks": marked}))
    assert site.build().returncode == 0
    assert site.html("topics/double").count("<!--kept-->") == len(marked)

    # The same site with SuperFences' own formatter writes the same pages, every one of them,
    # but for the spans that change nothing on screen (highlight.slim).
    config = bench.load_config_file(site.root / "mkdocs.yml")
    config["markdown_extensions"] = [bench._without_our_fences(e)
                                     for e in config["markdown_extensions"]]
    (site.root / "mkdocs.yml").write_text(yaml.dump(config, sort_keys=False))
    assert "format_fence" not in (site.root / "mkdocs.yml").read_text()
    assert site.build().returncode == 0
    plain = {p: p.read_text() for p in (site.root / "site").rglob("*.html")}
    assert '<span class="n">' in plain[site.root / "site" / "topics" / "double" / "index.html"]
    assert {p: highlight.slim(html).encode() for p, html in plain.items()} == pages


def test_refresh_variable_measures_again(site_factory):
    site = site_factory(["double"])
    assert site.build().returncode == 0
    again = site.build(env={"COMPARISON_REFRESH": "1"})
    assert again.returncode == 0, again.stderr
    assert "Measuring topic 1/1 'double' (refresh requested)" in again.stderr


def test_properdocs_builds_the_same_site(site_factory):
    site = site_factory(["double"])
    build = site.build(tool="properdocs", quiet=False)
    assert build.returncode == 0, build.stderr
    assert site.results()["parity"]["double"]["status"] == "match"
    assert "MkDocs may break support" not in build.stderr
    # ...while the `mkdocs` command prints it, unless silenced (the README's decision).
    assert "MkDocs may break support" in site.build(quiet=False, strict=False).stderr
    assert "MkDocs may break support" not in site.build(strict=False).stderr


def test_broken_topics_fail_with_one_error_listing_every_problem(site_factory):
    site = site_factory(["double"])
    broken = site.root / "snippets" / "broken"
    broken.mkdir()
    (broken / "topic.toml").write_text('title = "Broken"\nsizes = []\ncolour = "red"\n')
    (broken / "inputs.py").write_text("def make_inputs(size):\n    return {}\n")
    (broken / "pytorch.py").write_text("def setup(inputs, device):\n    return ()\n")
    build = site.build()
    assert build.returncode != 0
    log = build.stderr
    assert "problem(s) in the comparison topics" in log
    for expected in ("broken/jax.py: file is missing", "'sizes' is empty",
                     "unknown key 'colour'", "required key 'question' is missing"):
        assert expected in log
    assert log.count("Fix:") >= 4
    assert not (site.root / "site" / "results.json").exists()


def test_raising_snippet_shows_the_error_and_fails_strict(site_factory):
    site = site_factory(["raises", "double"])
    strict = site.build()
    assert strict.returncode != 0
    assert re.search(r"WARNING\s+-\s+snippets/raises/jax\.py:9: ValueError: the JAX side refuses",
                     strict.stderr)
    assert "Aborted with" in strict.stderr
    lenient = site.build(strict=False)
    assert lenient.returncode == 0, lenient.stderr
    page = site.html("topics/raises")
    assert "JAX raised ValueError in compute" in page
    # The message is shown as text, never as markup.
    assert "&lt;b&gt;politely&lt;/b&gt;" in page and "<b>politely</b>" not in page
    assert "about to fail" in page
    assert "Outputs not compared" in page
    assert "jax doubled" in site.html("topics/double")


def test_hanging_snippet_times_out_and_the_page_says_so(site_factory):
    site = site_factory(["hangs", "double"], settings={"timeout": 5})
    started = time.monotonic()
    build = site.build(strict=False)
    assert build.returncode == 0, build.stderr
    assert time.monotonic() - started < 90
    page = html.unescape(site.html("topics/hangs"))
    assert "timed out: killed after 5 s" in page
    assert "setting up, then sleeping" in page
    row = next(r for r in site.rows("hangs") if r["framework"] == "jax")
    assert row["status"] == "timeout"
    assert site.build().returncode != 0  # --strict fails on it (from the cache, too)


def test_unknown_directive_names_the_page_and_line(site_factory):
    site = site_factory(["double"], pages={"extra.md": "# Extra\n\nText\n\n{{ topik double }}\n"})
    build = site.build()
    assert build.returncode != 0
    assert "docs/extra.md, line 5: unknown directive 'topik'" in build.stderr


def test_directive_inside_a_code_fence_is_left_alone(site_factory):
    site = site_factory(["double"], pages={"howto.md": "# How\n\n```\n{{ topic nope }}\n```\n"})
    build = site.build()
    assert build.returncode == 0, build.stderr
    assert "{{ topic nope }}" in html.unescape(site.html("howto"))


def test_topic_without_a_page_fails_strict(site_factory):
    site = site_factory(["double"])
    (site.root / "docs" / "topics" / "double.md").unlink()
    build = site.build()
    assert build.returncode != 0
    assert "Topic 'double' is on no page" in build.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(log: queue.Queue, lines: list[str], pattern: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = log.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:  # the server exited
            break
        lines.append(line)
        if re.search(pattern, line):
            return
    raise AssertionError(f"never saw {pattern!r}; log:\n{''.join(lines)}")


def _read_lines(stream, log: queue.Queue) -> None:
    for line in stream:
        log.put(line)
    log.put(None)


def test_serve_reruns_only_the_edited_topic(site_factory):
    site = site_factory(["double", "returns_scalar"])
    assert site.build().returncode == 0  # fill the cache first
    env = {**os.environ, **QUIET}
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-f", "mkdocs.yml",
         "-a", f"127.0.0.1:{_free_port()}"],
        cwd=site.root, env=env, stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=default_sigint)
    log: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, log), daemon=True).start()
    lines: list[str] = []
    try:
        _wait_for(log, lines, r"Serving on", timeout=120)
        assert any("came from the cache" in line for line in lines)
        time.sleep(1)
        side = site.root / "snippets" / "double" / "jax.py"
        side.write_text(side.read_text().replace("jax doubled:", "jax doubled again:"))
        _wait_for(log, lines, r"Finished 'double'", timeout=120)
        text = "".join(lines)
        assert "Measuring topic 1/1 'double' (the topic's files changed)" in text
        assert "'returns_scalar'" not in text.split("Serving on", 1)[1]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_bad_settings_fail_with_every_problem_and_its_fix(site_factory):
    site = site_factory(["double"], settings={"timeot": 5, "memory_limit_mb": "lots"})
    build = site.build()
    assert build.returncode != 0
    log = build.stderr
    assert "mkdocs.yml: extra.comparison.timeot: Unrecognised configuration name: timeot " \
        "(remove it, or check the spelling against the README)" in log
    assert "extra.comparison.memory_limit_mb: Expected type: <class 'int'>" in log
    assert "Starting the" not in log  # nothing ran


def test_settings_out_of_range_say_what_to_set(site_factory):
    site = site_factory(["double"], settings={"measure": {"blocks": 0, "settle_blocks": -1},
                                              "min_speedup": 0.5})
    build = site.build()
    assert build.returncode != 0
    assert "extra.comparison.measure.blocks: out of range; set it to a count of 1 or more" \
        in build.stderr
    assert "extra.comparison.min_speedup: out of range; set it to a factor of 1.0 or more" \
        in build.stderr
    assert "extra.comparison.measure.settle_blocks: out of range; set it to 0 or more" \
        in build.stderr


def test_reference_pages_and_downloads(site_factory):
    pages = {"execution.md": "# Execution\n\n{{ execution_report }}\n",
             "environment.md": "# Environment\n\n{{ environment }}\n"}
    site = site_factory(["double", "raises"], pages=pages)
    build = site.build(strict=False)
    assert build.returncode == 0, build.stderr
    lines = (site.root / "site" / "results.csv").read_text().splitlines()
    assert lines[0].startswith("machine_name,topic,framework,variant,size,status,median_s,")
    assert len(lines) == 1 + len(site.results()["results"])
    assert any(",raises,jax,compute,4,error," in line and line.endswith(",ValueError")
               for line in lines)
    execution = html.unescape(site.html("execution"))
    assert "This build measured 2 of 2 topic(s)" in execution
    assert "1 error" in execution and "measured in this build" in execution
    environment = html.unescape(site.html("environment"))
    assert "Harness version" in environment and "compile_cache" in environment
    assert "TORCHINDUCTOR_CACHE_DIR" in environment
    assert "This machine's bounds" in environment and "torch.mm(a, b, out=c)" in environment


def test_a_nan_on_one_side_names_it_and_withholds_the_verdict(site_factory):
    site = site_factory(["returns_nan"])
    strict = site.build()
    assert strict.returncode != 0  # a parity mismatch is a warning
    assert "JAX output has 1 NaN where PyTorch has none" in strict.stderr
    lenient = site.build(strict=False)
    assert lenient.returncode == 0, lenient.stderr
    (comparison,) = site.results()["comparisons"]
    assert comparison["outcome"] == "outputs_differ" and comparison["faster"] is None
    assert "JAX output has 1 NaN where PyTorch has none" in site.html("topics/returns_nan")
    assert "outputs differ" in site.html("topics/returns_nan")
    assert "outputs differ" in site.html("")  # the comparison table


def test_rows_get_more_rounds_while_the_interval_is_wide_and_say_why_they_stopped(site_factory):
    """A verdict that stays open (a confidence level so high that a few samples give no
    interval) and an impossible width: every row runs to the round limit (or its budget)."""
    measure = {"min_block_s": 0.002, "blocks": 4, "rounds": 2, "max_rounds": 4,
               "target_ci_width": 1e-9, "max_time_s": 2, "min_samples": 2}
    site = site_factory(["double"], settings={"quick": False, "measure": measure,
                                              "significance_level": 1e-6})
    done = site.build()
    assert done.returncode == 0, done.stderr
    rows = site.rows("double")
    assert rows and all(row["stopped"] in ("round limit", "time budget") for row in rows)
    assert any(row["rounds"] == 4 and row["n"] > 4 for row in rows)
    assert "for a narrower interval" in done.stderr


@pytest.fixture(scope="module")
def one_sided_and_reshapes(tmp_path_factory):
    """One build of two fixture topics, shared by the tests that only read it."""
    from .conftest import make_site

    site = make_site(tmp_path_factory.mktemp("one_sided") / "project", ["one_sided", "reshapes"])
    done = site.build()
    assert done.returncode == 0, done.stderr
    return site


def test_one_side_variants_pair_with_versus_and_a_series_is_drawn(one_sided_and_reshapes):
    site = one_sided_and_reshapes
    rows = {(r["framework"], r["variant"], r["size"]): r for r in site.rows("one_sided")}
    assert {(fw, v) for fw, v, _ in rows} == {
        ("jax", "cumulative"), ("jax", "assign"),
        ("pytorch", "cumulative"), ("pytorch", "by_loop"), ("pytorch", "alone")}
    assert rows[("jax", "assign", 8)]["status"] == "expected_error"
    # The series: the display size's first-call result, both sides; no other size has one.
    assert rows[("jax", "cumulative", 8)]["series"] == [0, 1, 3, 6, 10, 15, 21, 28]
    assert rows[("pytorch", "cumulative", 8)]["series"] == [0, 1, 3, 6, 10, 15, 21, 28]
    assert "series" not in rows[("jax", "cumulative", 16)]
    results = site.results()
    found = {(c["variant"], c["size"]): c for c in results["comparisons"]}
    crossed = found[("by_loop", 16)]
    assert (crossed["jax_variant"], crossed["pytorch_variant"]) == ("cumulative", "by_loop")
    assert crossed["outcome"] in ("faster", "level", "inconclusive")
    assert found[("alone", 16)]["outcome"] is None
    assert found[("alone", 16)]["reason"] == "only PyTorch has this variant"
    assert found[("assign", 16)]["reason"] == "only JAX has this variant"
    checks = {(c["variant"], c["size"]): c for c in results["parity"]["one_sided"]["checks"]}
    assert checks[("by_loop", 8)]["status"] == "match"
    assert checks[("by_loop", 8)]["jax_variant"] == "cumulative"
    assert checks[("alone", 8)]["status"] == "skipped"
    entry = next(t for t in results["topics"] if t["topic"] == "one_sided")
    assert entry["series"]["variant"] == "cumulative"
    page = html.unescape(site.html("topics/one_sided"))
    assert "running sum in a Python loop (PyTorch only; against JAX's running sum)" in page
    assert "raises TypeError (expected)" in page
    charts = list((site.root / "site").rglob("*one_sided-series-*.svg"))
    assert len(charts) == 2  # light and dark
    assert "Running sum" in charts[0].read_text()
    assert "against JAX's running sum" in html.unescape(site.html(""))  # comparison table


def test_compilations_are_counted_by_each_framework_and_change_with_the_shapes(
        one_sided_and_reshapes):
    """Each new input shape compiles once more (jax.monitoring's backend compiles, Dynamo's
    unique graphs); the timed calls reuse them; the table says how many."""
    site = one_sided_and_reshapes
    rows = {(r["framework"], r["size"]): r for r in site.rows("reshapes")}
    for framework in ("jax", "pytorch"):
        for shapes in (1, 3):
            row = rows[(framework, shapes)]
            assert row["compilations"]["compilations"] == shapes, (framework, row)
            assert row["compilations"]["compile_s"] > 0
            assert row["timed_compilations"] == 0
            # Cold: the graph of shape 2 was compiled at shapes=1 too, and is not loaded from
            # Inductor's disk cache at shapes=3 (each size starts with empty caches).
            assert row["compilations"]["cache_hits"] == 0, (framework, row)
    page = html.unescape(site.html("topics/reshapes"))
    assert "(3 compilations)" in page and "(1 compilation)" in page
    sweep = list((site.root / "site").rglob("*reshapes-compile_sweep-*.svg"))
    assert len(sweep) == 2  # light and dark
    assert "First call (with compilation) against shapes" in sweep[0].read_text()


def test_fresh_process_variants_time_a_new_process_with_a_cold_or_a_warm_cache(site_factory):
    """Each sample is a new process: cold ones compile (JAX's own counters: compiles, no
    persistent-cache hits); warm ones load what an earlier process cached (hits, no compile)."""
    # JAX alone: ten fresh processes importing both frameworks would double this test's time,
    # and the PyTorch path differs only in the environment variables and counters it reads.
    site = site_factory(["fresh_start"], settings={"frameworks": ["jax"]})
    done = site.build()
    assert done.returncode == 0, done.stderr
    rows = {(r["framework"], r["variant"]): r for r in site.rows("fresh_start")}
    for framework in ("jax",):
        for state in ("cold", "warm"):
            row = rows[(framework, state)]
            assert row["status"] == "ok", row
            assert row["fresh"]["cache"] == state and row["n"] == 2 == len(row["fresh"]["runs"])
            for run in row["fresh"]["runs"]:
                # From the process's spawn: the import alone is part of it.
                assert run["to_first_result_s"] > run["import_s"] > 0
    for run in rows[("jax", "cold")]["fresh"]["runs"]:
        assert run["compilations"]["compilations"] >= 1 and run["compilations"]["cache_hits"] == 0
    for run in rows[("jax", "warm")]["fresh"]["runs"]:
        assert run["compilations"]["cache_hits"] >= 1 and run["compilations"]["compilations"] == 0
    assert rows[("jax", "warm")]["fresh"]["priming"]["compilations"]["compilations"] >= 1
    page = html.unescape(site.html("topics/fresh_start"))
    assert "each sample a fresh process, warm compilation cache" in page
    # peak_memory = true: the worker's row by XLA's analysis, the fresh ones by the process's
    # resident memory; both see at least the call's 16 MiB output.
    assert rows[("jax", "step")]["peak_method"].startswith("XLA memory_analysis()")
    assert rows[("jax", "cold")]["peak_method"].startswith("peak RSS of a fresh process")
    for variant in ("step", "cold", "warm"):
        assert rows[("jax", variant)]["peak_bytes"] >= 16 * 2**20, rows[("jax", variant)]
    assert "Peak memory</th>" in page and "(XLA analysis)" in page and \
        "(fresh-process RSS)" in page


def test_a_topic_with_its_own_environment_runs_in_workers_of_its_own(site_factory):
    """topic.toml `env` reaches that topic's workers only, and what they started is stopped
    with them (a data-parallel topic's process group, say): no process is left behind."""
    site = site_factory(["own_env", "double"])
    plain = site.root / "snippets" / "plain_env"
    shutil.copytree(site.root / "snippets" / "own_env", plain)
    toml = plain / "topic.toml"
    toml.write_text(toml.read_text().replace('env = { COMPARISON_MARK = "7" }\n', ""))
    (site.root / "docs" / "topics" / "plain_env.md").write_text("# P\n\n{{ topic plain_env }}\n")
    done = site.build()
    assert done.returncode == 0, done.stderr
    assert "workers of its own, with COMPARISON_MARK=7" in done.stderr
    children = []
    for topic, mark in (("own_env", "7"), ("plain_env", "None")):
        rows = site.rows(topic)
        assert {r["framework"] for r in rows} == {"jax", "pytorch"}
        for row in rows:
            assert row["status"] == "ok", row
            assert f"COMPARISON_MARK={mark}" in row["stdout"], row["stdout"]
            children += [int(pid) for pid in re.findall(r"child pid (\d+)", row["stdout"])]
    assert site.results()["parity"]["own_env"]["status"] == "match"
    assert len(children) >= 4

    def alive(pid: int) -> bool:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"  # a zombie is dead, waiting only for init to collect it

    assert not [pid for pid in children if alive(pid)]
