"""results.csv: one line per measurement, for spreadsheets; the samples stay in results.json."""

from __future__ import annotations

from typing import Any

CSV_COLUMNS = ("machine_name", "topic", "framework", "variant", "size", "status", "median_s",
               "q25_s", "q75_s", "iqr_s", "n", "number", "first_call_s", "gflops",
               "bound_share", "bound", "peak_bytes", "peak_method", "noisy",
               "incomplete", "measured_at", "machine", "device", "framework_version",
               "error_type")


def csv_text(data: dict[str, Any]) -> str:
    """results.csv: one line per measurement (topic, framework, variant, size), no samples."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [*data["results"], *(row for other in data.get("machines", [])
                                 for row in other["results"])]
    for row in rows:
        environment = row.get("environment") or {}
        framework = environment.get("framework") or {}
        machine = environment.get("machine") or {}
        values = {
            **{key: row.get(key) for key in CSV_COLUMNS},
            "machine_name": row.get("machine_name") or data.get("machine_name"),
            "machine": machine.get("cpu"),
            "device": framework.get("accelerator") or framework.get("backend"),
            "framework_version": framework.get("version"),
            "error_type": (row.get("error") or {}).get("type"),
        }
        writer.writerow(["" if values[key] is None else values[key] for key in CSV_COLUMNS])
    return buffer.getvalue()
