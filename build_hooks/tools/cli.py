"""Command line outside MkDocs: `python -m build_hooks <command>` (or `jax-vs-pytorch`).

    run [TOPIC ...] [--refresh] [--quick]   measure what the cache lacks (or the named topics)
    show                                    print the results as a table
    save                                    measure what is missing, then write this machine's
                                            results to results/<machine>/ for committing
    compare A B                             what changed between two results files
    bench [--repeats N] [--full]            build-time costs (make bench)
    validate                                re-time everything with independent tools
    audit                                   Lighthouse scores of the built site (make audit)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from build_hooks import FRAMEWORK_LABELS
from build_hooks.spec.settings import MeasureSettings, Settings, load_settings
from build_hooks.tools.progress import ProgressLog


def _settings(config_file: Path, refresh: bool = False, quick: bool = False) -> Settings:
    from mkdocs.config import load_config

    config = load_config(str(config_file))
    settings = load_settings(config.extra, config_file)
    changes: dict[str, Any] = {}
    if refresh:
        changes["refresh"] = True
    if quick:
        changes["measure"] = MeasureSettings.quick_mode()
    return dataclasses.replace(settings, **changes)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from build_hooks.run.devices import DeviceMismatch
    from build_hooks.spec.topics import TopicError

    try:
        return _main(argv)
    except (TopicError, DeviceMismatch) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m build_hooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure what the cache lacks")
    run.add_argument("topics", nargs="*")
    run.add_argument("--refresh", action="store_true", help="ignore the cache")
    run.add_argument("--quick", action="store_true", help="short measurements (tests, drafts)")
    commands.add_parser("show", help="print the results in the cache as a table")
    save = commands.add_parser("save", help="write this machine's results to results/")
    save.add_argument("--refresh", action="store_true", help="measure everything again first")
    compare = commands.add_parser("compare", help="compare two results files")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    bench = commands.add_parser("bench", help="build-time costs")
    bench.add_argument("--repeats", type=int, default=7)
    bench.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1",
                       help="also a cold build with the site's own measurements (BENCH_FULL=1)")
    validate = commands.add_parser("validate", help="re-time every topic with independent tools")
    validate.add_argument("topics", nargs="*", help="only these (the report keeps the others' "
                          "stored rows)")
    audit = commands.add_parser("audit", help="Lighthouse scores of the built site")
    audit.add_argument("--site-dir", type=Path, default=Path("site"))
    args = parser.parse_args(argv)
    config_file = args.config_file.resolve()
    if not config_file.is_file():
        parser.error(f"{config_file} does not exist; run from the project folder or pass -f")
    os.chdir(config_file.parent)

    if args.command == "bench":
        from build_hooks.tools.bench import format_report as format_bench_report
        from build_hooks.tools.bench import meets_targets, run_bench

        report = run_bench(config_file, args.repeats, _log, full=args.full)
        print(format_bench_report(report))
        return 0 if all(meets_targets(report).values()) else 1
    if args.command == "audit":
        from build_hooks.tools.audit import AuditError, run_audit
        from build_hooks.tools.audit import format_report as format_audit_report

        try:
            result = run_audit(config_file.parent, args.site_dir.resolve(), _log)
        except AuditError as error:
            print(f"audit: {error}", file=sys.stderr)
            return 2
        print(format_audit_report(result))
        return 0 if result["meets_target"] and result["meets_mobile_target"] else 1
    if args.command == "compare":
        return _compare(args.before, args.after, _settings(config_file))
    if args.command == "save":
        return _save(config_file, refresh=args.refresh)
    if args.command == "validate":
        from build_hooks.tools.validate import format_report as format_validation_report
        from build_hooks.tools.validate import run_validation

        try:
            report = run_validation(_settings(config_file), _log, set(args.topics) or None)
        except ValueError as error:
            print(f"validate: {error}", file=sys.stderr)
            return 2
        print(format_validation_report(report))
        return 0 if report["all_in_range"] else 1

    from build_hooks.core.formatting import format_seconds
    from build_hooks.pipeline import run_build

    settings = _settings(config_file, refresh=getattr(args, "refresh", False),
                         quick=getattr(args, "quick", False))
    if args.command == "show":
        only: set[str] | None = set()  # measure nothing: show what the cache holds
    else:
        only = set(args.topics) if args.topics else None
        from build_hooks.spec.topics import discover_topics

        known = {t.name for t in discover_topics(settings.snippets_dir)}
        unknown = sorted((only or set()) - known)
        if unknown:
            print(f"run: unknown topic(s) {', '.join(unknown)}; the topics are: "
                  f"{', '.join(sorted(known))}", file=sys.stderr)
            return 2
    progress = ProgressLog()
    try:
        results = run_build(settings, progress, only=only)
    finally:
        progress.close()
    for row in results.data["results"]:
        print(f"{row['topic']:<20} {FRAMEWORK_LABELS[row['framework']]:<8} "
              f"{row['variant']:<18} {row['size']:>9} {row['status']:<8} "
              f"median {format_seconds(row['median_s']):>9}  IQR "
              f"{format_seconds(row['iqr_s']):>9}  n {row['n']:>3}  first call "
              f"{format_seconds(row['first_call_s']):>9}")
    return 0


def _save(config_file: Path, refresh: bool) -> int:
    from build_hooks.pipeline import run_build
    from build_hooks.records.archive import save_bundle

    settings = _settings(config_file, refresh=refresh)
    if settings.measure.quick:
        print("save: quick measurements are for tests and drafts; unset COMPARISON_QUICK "
              "(and extra.comparison.quick) and save again", file=sys.stderr)
        return 2
    progress = ProgressLog()
    try:
        results = run_build(settings, progress)
    finally:
        progress.close()
    from build_hooks.core import host

    path, replaced = save_bundle(settings.project_dir, results.data["machine_name"],
                                 host.machine(), results.data["environment"]["frameworks"],
                                 results.records, results.data.get("probe"))
    for old in replaced:
        print(f"Replaced {old.relative_to(settings.project_dir)} (same machine, same day)")
    print(f"Saved {len(results.records)} topic(s) for {results.label} to "
          f"{path.relative_to(settings.project_dir)}; commit it to publish these numbers")
    return 0


def _compare(before: Path, after: Path, settings: Settings) -> int:
    from build_hooks.core.formatting import format_seconds
    from build_hooks.records.archive import read_bundle
    from build_hooks.records.history import compare_records, version_changes

    bundles = []
    for path in (before, after):
        bundle, problem = read_bundle(path)
        if bundle is None:
            print(f"compare: {path} {problem}", file=sys.stderr)
            return 2
        bundles.append(bundle)
    result = compare_records(bundles[0].records, bundles[1].records, settings)
    print(f"{before} ({bundles[0].machine_name}, {bundles[0].measured_at}) -> "
          f"{after} ({bundles[1].machine_name}, {bundles[1].measured_at})")
    changed_versions = version_changes(bundles[0], bundles[1])
    print("versions changed: " + (", ".join(changed_versions) or "none"))
    print(f"{'topic':<20} {'framework':<9} {'variant':<18} {'size':>8} {'before':>10} "
          f"{'after':>10} {'ratio':>6}  change")
    for row in result["rows"]:
        note = {"faster": "faster", "slower": "SLOWER", "same": "-"}[row["change"]]
        print(f"{row['topic']:<20} {row['framework']:<9} {row['variant']:<18} "
              f"{row['size']:>8} {format_seconds(row['before_s']):>10} "
              f"{format_seconds(row['after_s']):>10} {row['ratio']:>6.2f}  {note}"
              + (f" (p = {row['p_value']:.2g})" if row["change"] != "same" else ""))
    for label, keys in (("only in the first file", result["only_before"]),
                        ("only in the second file", result["only_after"])):
        for topic, framework, variant, size in keys:
            print(f"could not pair: {topic} {framework} {variant} {size} ({label})")
    moved = [r for r in result["rows"] if r["change"] != "same"]
    print(f"{len(moved)} significant change(s) in {len(result['rows'])} paired row(s); "
          f"{len(result['only_before']) + len(result['only_after'])} unpaired")
    return 0


if __name__ == "__main__":
    sys.exit(main())
