"""Panels: TrainingMonitor construction time and its redraw cost under a flood of progress messages.

Construction: a monitor for a completed experiment with its history (50 epochs, one checkpoint event
per epoch), timed in this process after a warm-up (median), and once in a fresh Python process (cold:
importing ipywidgets, plotly, the store and the runner included). Flood: batch messages with an epoch
message every 100 batches, fed to ``handle`` as fast as one thread can (as a burst from the follower
would be); per message, the cost of handling it (state and traits) and the whole cost once the
coalesced redraws are added; per redraw, its mean duration; and what one redraw per message would
have cost instead.

The widgets have no front end here (no kernel): their state serialisation is measured, the browser's
drawing is not.

python -m bench.run monitor
"""

from __future__ import annotations

import shutil
import tempfile
import time
import types
from typing import Any

from bench.report import fresh_process, median, write_section

HISTORY_EPOCHS = 50
FLOOD_BATCHES = 2000
STEPS_PER_EPOCH = 100
PACED_RATE = 1000.0  # messages per second in the paced flood
NO_SCHEDULER = types.SimpleNamespace(status="closed")  # store polling only: no cluster in these figures

_COLD = """
import json, sys, time
start = time.perf_counter()
from bearing_workbench.panels import TrainingMonitor
from bearing_workbench.store import Store
imported = time.perf_counter()
import jsonschema  # what the first FigureWidget imports (plotly -> nbformat -> jsonschema), timed apart
schema = time.perf_counter()
monitor = TrainingMonitor(int(sys.argv[1]), store=Store(), client=None)
built = time.perf_counter()
monitor.close()
out = {"import_s": imported - start, "jsonschema_s": schema - imported, "construct_s": built - schema,
       "torch": "torch" in sys.modules}
print(json.dumps(out))
"""


def _epoch_values(epoch: int) -> dict[str, float]:
    return {
        "train_loss": 2.0 / epoch,
        "train_acc": 1 - 0.5 / epoch,
        "val_loss": 2.2 / epoch,
        "val_acc": 1 - 0.6 / epoch,
        "lr": 1e-3,
        "seconds": 4.0,
    }


def _completed_experiment(store: Any, epochs: int) -> int:
    experiment_id = store.create_experiment("bench monitor", "cnn1d", {"training": {"epochs": epochs}})
    store.transition(experiment_id, "start")
    for epoch in range(1, epochs + 1):
        store.add_epoch(experiment_id, epoch, **_epoch_values(epoch))
        store.add_event(
            experiment_id, "checkpoint", f"checkpoint saved after epoch {epoch}", {"epoch": epoch}
        )
    store.set_metrics(experiment_id, {"accuracy": 0.97, "macro_f1": 0.969, "best_epoch": epochs})
    store.transition(experiment_id, "complete")
    store.add_event(experiment_id, "completed", "completed: test accuracy 0.9700", {"accuracy": 0.97})
    return experiment_id


def _flood_messages(experiment_id: int, batches: int, steps: int) -> list[dict[str, Any]]:
    total = max(1, batches // steps)
    messages: list[dict[str, Any]] = []
    for i in range(batches):
        epoch, batch = i // steps + 1, i % steps
        messages.append(
            {
                "experiment_id": experiment_id,
                "kind": "batch",
                "status": "running",
                "time": time.time(),
                "source": "live",
                "epoch": epoch,
                "total_epochs": total,
                "batch": batch,
                "steps_per_epoch": steps,
                "progress": (i + 1) / batches,
                "train_loss": 1.0 / (i + 1),
                "eta_s": float(batches - i),
            }
        )
        if batch == steps - 1:
            messages.append(
                {
                    "experiment_id": experiment_id,
                    "kind": "epoch",
                    "status": "running",
                    "time": time.time(),
                    "source": "live",
                    "epoch": epoch,
                    "total_epochs": total,
                    "progress": epoch / total,
                    "eta_s": None,
                    "extra": {},
                    **_epoch_values(epoch),
                }
            )
    return messages


def _flood(store: Any, batches: int, steps: int, rate: float | None = None) -> dict[str, float]:
    """Feed a flood to a fresh monitor: all at once (`rate` None) or `rate` messages per second."""
    from bearing_workbench.analysis.run_state import PARTS
    from bearing_workbench.panels import TrainingMonitor

    experiment_id = store.create_experiment(
        "bench flood", "cnn1d", {"training": {"epochs": batches // steps}}
    )
    store.transition(experiment_id, "start")
    monitor = TrainingMonitor(experiment_id, store=store, client=NO_SCHEDULER)
    durations: list[float] = []
    render = monitor._redraw.fn

    def timed_render() -> None:
        begin = time.perf_counter()
        render()
        durations.append(time.perf_counter() - begin)

    monitor._redraw.fn = timed_render
    messages = _flood_messages(experiment_id, batches, steps)
    redraws_before = monitor.redraws
    handling = 0.0
    begin = time.perf_counter()
    for i, message in enumerate(messages):
        if rate is not None:
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        start = time.perf_counter()
        monitor.handle(message)
        handling += time.perf_counter() - start
    fed_s = time.perf_counter() - begin
    monitor.flush()
    figure_redraws = monitor.redraws - redraws_before
    assert monitor.epoch == batches // steps, "the flood's final state is wrong"
    # What each message would cost if it were drawn on its own: a full redraw, or a progress-only one.
    full, progress_only = [], []
    for parts, times in ((PARTS, full), ({"progress"}, progress_only)):
        for _ in range(20):
            monitor._dirty |= parts
            if parts is PARTS:
                monitor.curves.reset()  # the figure is redrawn too
            start = time.perf_counter()
            render()
            times.append(time.perf_counter() - start)
    monitor.close()
    return {
        "messages": len(messages),
        "fed_s": fed_s,
        "renders": len(durations),
        "figure_redraws": figure_redraws,
        "render_ms": 1e3 * sum(durations) / max(1, len(durations)),
        "handle_ms": 1e3 * handling / len(messages),
        "per_message_ms": 1e3 * (handling + sum(durations)) / len(messages),
        "full_render_ms": 1e3 * median(full),
        "progress_render_ms": 1e3 * median(progress_only),
    }


def run(repeats: int = 3, batches: int = FLOOD_BATCHES, epochs: int = HISTORY_EPOCHS) -> dict[str, Any]:
    """Measure the monitor (construction 5 x `repeats` times, `repeats` floods) and write BENCHMARKS.md."""
    from bearing_workbench.panels import ConfigWizard, TrainingMonitor
    from bearing_workbench.store import Store

    workspace = tempfile.mkdtemp(prefix="bench-panels-")
    try:
        with Store(workspace=workspace) as store:
            experiment_id = _completed_experiment(store, epochs)
            cold = fresh_process(_COLD, experiment_id, workspace=workspace)
            print(f"cold: {cold}")
            TrainingMonitor(experiment_id, store=store, client=NO_SCHEDULER).close()  # warm-up
            builds = []
            for _ in range(5 * repeats):
                start = time.perf_counter()
                monitor = TrainingMonitor(experiment_id, store=store, client=NO_SCHEDULER)
                builds.append(time.perf_counter() - start)
                assert monitor.status == "completed" and len(monitor.figure.data[0].x) == epochs
                monitor.close()
            print(f"warm construction: {1e3 * median(builds):.0f} ms")
            ConfigWizard(store=store).close()  # warm-up
            wizards = []
            for _ in range(5 * repeats):
                start = time.perf_counter()
                wizard = ConfigWizard(store=store)
                wizards.append(time.perf_counter() - start)
                wizard.close()
            print(f"wizard construction: {1e3 * median(wizards):.0f} ms")
            floods = [_flood(store, batches, STEPS_PER_EPOCH) for _ in range(repeats)]
            paced = [_flood(store, batches, STEPS_PER_EPOCH, PACED_RATE) for _ in range(repeats)]
            for flood in floods + paced:
                print({k: round(v, 3) for k, v in flood.items()})
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    _write(builds, wizards, cold, floods, paced, epochs, batches)
    return {"construction_s": builds, "wizard_s": wizards, "cold": cold, "floods": floods, "paced": paced}


def _write(
    builds: list[float],
    wizards: list[float],
    cold: dict[str, Any],
    floods: list[dict[str, float]],
    paced: list[dict[str, float]],
    epochs: int,
    batches: int,
) -> None:
    def mid(runs: list[dict[str, float]], key: str) -> float:
        return median([run[key] for run in runs])

    messages = int(floods[0]["messages"])
    build = [
        "| construction | time | goal |",
        "|---|---|---|",
        f"| completed run with {epochs} epochs and {epochs + 3} events, median of {len(builds)} "
        f"| {1e3 * median(builds):.0f} ms | <= 300 ms |",
        f"| the same, first monitor of a fresh process | {1e3 * cold['construct_s']:.0f} ms "
        f"(after {cold['import_s']:.1f} s importing the panel, {cold['jsonschema_s']:.1f} s jsonschema) | |",
        f"| `ConfigWizard()` (step 1: seven model cards), median of {len(wizards)} "
        f"| {1e3 * median(wizards):.0f} ms | <= 300 ms |",
    ]
    rate = f"{PACED_RATE:.0f} messages/s"
    flood = [
        f"| flood of {messages} messages ({batches} batch, {messages - batches} epoch) "
        f"| all at once | {rate} |",
        "|---|---|---|",
    ]
    for label, key, unit, digits in (
        ("feeding them took", "fed_s", "s", 2),
        ("redraws", "renders", "", 0),
        ("of which figure redraws", "figure_redraws", "", 0),
        ("handling one message (state + traits)", "handle_ms", "ms", 3),
        ("per message, coalesced redraws included", "per_message_ms", "ms", 3),
        ("one redraw (mean)", "render_ms", "ms", 2),
    ):
        cells = [f"{mid(runs, key):.{digits}f}{' ' + unit if unit else ''}" for runs in (floods, paced)]
        flood.append(f"| {label} | {cells[0]} | {cells[1]} |")
    full, progress_only = mid(floods, "full_render_ms"), mid(floods, "progress_render_ms")
    body = (
        "\n".join(build)
        + "\n\n"
        + "\n".join(flood)
        + "\n\nRedraws are coalesced to at most one per 250 ms (leading and trailing edge); every message "
        f"is applied to the state at once. One full redraw (every part, figure rebuilt) costs {full:.1f} ms "
        f"and a progress-only one {progress_only:.2f} ms: one full redraw per message would have cost about "
        f"{full * messages / 1e3:.1f} s of the kernel's time for this flood, and sent as many updates to the "
        "browser. In a fresh kernel the first FigureWidget imports plotly's renderers, which import nbformat "
        "and so jsonschema, whose optional rfc3987_syntax builds its grammar at import time (installed with "
        "Jupyter's format checkers): a one-off cost per kernel, hidden by a preheated Voila kernel that "
        f"imports the panel; torch is {'' if cold['torch'] else 'not '}imported. No front "
        f"end is attached: state serialisation is measured, browser drawing is not. Median of {len(floods)} "
        "floods each."
    )
    write_section(
        "monitor", "Panels: construction, and the monitor's redraw cost", body, "python -m bench.run monitor"
    )
