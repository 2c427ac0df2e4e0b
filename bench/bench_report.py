"""PDF report generation time for completed experiments of the training benchmark.

The experiments stored by ``python -m bench.run training`` (``bench/.workspace``), copied into a
temporary workspace. For each: the HTML (results, baselines, recommendations, matplotlib figures
as inline SVG), its print to PDF by headless Chromium, and `write_report` end to end, in this
process (median of `repeats`); and the page count. Through the runner (`submit_report`) the same
work runs on a Dask worker.

python -m bench.run report
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_results import _copy_workspace
from bench.report import median, write_section

EXPERIMENTS = (5, 2, 7)  # cnn1d, random forest, ensemble


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def run(repeats: int = 3) -> dict[str, Any]:
    """Measure the report of each of `EXPERIMENTS`; writes the BENCHMARKS.md section ``report``."""
    from bearing_workbench.analysis.pdf import html_to_pdf
    from bearing_workbench.analysis.report import report_html, write_report
    from bearing_workbench.store import Store

    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        store = Store(workspace=_copy_workspace(Path(tmp) / "ws"))
        report_html(store, EXPERIMENTS[0])  # warm-up: imports, matplotlib's font cache
        for experiment_id in EXPERIMENTS:
            record = store.get_experiment(experiment_id)
            html_s, print_s, total_s = [], [], []
            for _ in range(repeats):
                start = time.perf_counter()
                html = report_html(store, experiment_id)
                html_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                html_to_pdf(html, Path(tmp) / "printed.pdf")
                print_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                path = write_report(store, experiment_id)
                total_s.append(time.perf_counter() - start)
            row = {
                "id": experiment_id,
                "family": record.family,
                "name": record.name,
                "html_s": median(html_s),
                "print_s": median(print_s),
                "total_s": median(total_s),
                "pages": _pages(path),
                "kib": path.stat().st_size / 1024,
                "html_kib": len(html.encode()) / 1024,
            }
            print(row)
            rows.append(row)
        store.dispose()
    table = [
        "| experiment | HTML | print (Chromium) | `write_report` total | pages | PDF size |",
        "|---|---|---|---|---|---|",
        *(
            f"| #{r['id']} {r['family']} ({r['name']}) | {r['html_s']:.2f} s | {r['print_s']:.2f} s "
            f"| {r['total_s']:.2f} s | {r['pages']} | {r['kib']:.0f} KiB |"
            for r in rows
        ),
    ]
    body = "\n".join(
        [
            *table,
            "",
            f"Median of {repeats} in one process after a warm-up, on the full-size experiments of the "
            "training benchmark (209 test records, 11 classes). The HTML holds every figure as an inline "
            "SVG (no script, nothing fetched); Chromium starts afresh for each print (a new profile), "
            "which is most of its share. In the results page the report is a Dask task "
            "(`runner.reports.submit_report`) with its progress shown live. "
            f"1-minute load average {load_before:.1f} before (2 cores).",
        ]
    )
    write_section("report", "PDF report generation", body, "python -m bench.run report")
    return {"rows": rows}


if __name__ == "__main__":
    run()
