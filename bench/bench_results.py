"""Results panel: ExperimentResults build time for completed experiments, and each tab's first build.

The experiments are those the training benchmark stored (``bench/.workspace``: run
``python -m bench.run training`` first), copied into a temporary workspace so nothing here changes
them. For each: the panel's construction (the Overview is built with it; the other tabs on their
first selection) in this process after a warm-up (median of `repeats`), each tab's first build
(median over fresh panels), and the construction once in a fresh Python process (cold: imports
included). No front end is attached: state serialisation is measured, browser drawing is not.

python -m bench.run results
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import fresh_process, median, write_section

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bench" / ".workspace"
GOAL_S = 1.0

_COLD = """
import json, sys, time
start = time.perf_counter()
from bearing_workbench.panels.results import ExperimentResults
from bearing_workbench.store import Store
imported = time.perf_counter()
panel = ExperimentResults(int(sys.argv[1]), store=Store())
built = time.perf_counter()
print(json.dumps({"import_s": imported - start, "construct_s": built - imported}))
"""


def _copy_workspace(target: Path) -> Path:
    if not (SOURCE / "workbench.db").is_file():
        raise SystemExit(f"{SOURCE} has no stored experiments: run `python -m bench.run training` first")
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("*.lock", "epoch-*.pt"))
    return target


def run(repeats: int = 3) -> dict[str, Any]:
    """Measure every completed experiment of the bench workspace; write the BENCHMARKS.md section."""
    from bearing_workbench.panels.results import TAB_TITLES, ExperimentResults
    from bearing_workbench.store import Store

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        workspace = _copy_workspace(Path(tmp) / "ws")
        store = Store(workspace=workspace)
        records = store.list_experiments(status="completed", order_by="id", descending=False, limit=None)
        ExperimentResults(records[0].id, store=store)  # warm-up: imports, first SQL compilations
        for record in records:
            construct: list[float] = []
            tabs: dict[str, list[float]] = {title: [] for title in TAB_TITLES[1:]}
            for _ in range(repeats):
                start = time.perf_counter()
                panel = ExperimentResults(record.id, store=store)
                construct.append(time.perf_counter() - start)
                for title in TAB_TITLES[1:]:
                    start = time.perf_counter()
                    panel.show_tab(title)
                    tabs[title].append(time.perf_counter() - start)
                panel.close()
            cold = fresh_process(_COLD, record.id, workspace=workspace)
            row = {
                "id": record.id,
                "name": record.name,
                "family": record.family,
                "construct_s": median(construct),
                "tabs_s": {title: median(times) for title, times in tabs.items()},
                "cold": cold,
            }
            print(json.dumps(row))
            rows.append(row)
        store.dispose()
    worst = max(r["construct_s"] for r in rows)
    verdict = "within" if worst <= GOAL_S else "over"
    header = " | ".join(f"first {t}" for t in TAB_TITLES[1:])
    table = [
        f"| experiment | construction (Overview) | {header} | cold: imports + construction |",
        "|---|---|" + "---|" * (len(TAB_TITLES) - 1) + "---|",
    ]
    for r in rows:
        tab_cells = " | ".join(f"{1e3 * r['tabs_s'][t]:.0f} ms" for t in TAB_TITLES[1:])
        table.append(
            f"| #{r['id']} {r['family']} ({r['name']}) | {1e3 * r['construct_s']:.0f} ms | {tab_cells} "
            f"| {r['cold']['import_s']:.2f} s + {1e3 * r['cold']['construct_s']:.0f} ms |"
        )
    body = "\n".join(
        [
            f"Goal: results panel built in <= {GOAL_S:g} s for a completed experiment. Slowest construction "
            f"{1e3 * worst:.0f} ms: {verdict}.",
            "",
            *table,
            "",
            f"The experiments of the training benchmark (full-size default dataset, 209 test records). "
            f"Median of {repeats} in one process after a warm-up; a tab is built on its first selection "
            "(the first figure of a kernel also loads plotly's template: the panel warms plotly on a "
            "background thread after its construction, so the first tab mostly finds it ready). Cold: a "
            "fresh Python process, imports timed apart. No front end attached.",
        ]
    )
    write_section("results", "Results panel build time", body, "python -m bench.run results")
    return {"rows": rows}


if __name__ == "__main__":
    run()
