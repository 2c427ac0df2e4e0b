"""Timing and the BENCHMARKS.md writer shared by every benchmark."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    """One line describing where the figures were taken."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )


def timed(fn: Callable[[], object], repeats: int, warmup: int = 0) -> list[float]:
    """Wall-clock seconds of `repeats` calls (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def fresh_process(code: str, *args: object, workspace: str | os.PathLike[str]) -> dict:
    """Run `code` in a new Python process over `workspace` (no scheduler, the default store) and
    return the JSON object its last output line prints: for figures taken cold."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "BEARING_WORKBENCH_WORKSPACE": str(workspace)}
    env.pop("BEARING_WORKBENCH_DB_URL", None)
    env.pop("BEARING_WORKBENCH_SCHEDULER", None)
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def write_section(name: str, title: str, body: str, command: str) -> None:
    """Replace (or append) the section `name` of BENCHMARKS.md."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"Measured {stamp} on {machine()}.  \nReproduce: `{command}`\n\n{body.strip()}\n"
        f"<!-- /bench:{name} -->"
    )
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = (
        pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    BENCHMARKS_MD.write_text(text)
