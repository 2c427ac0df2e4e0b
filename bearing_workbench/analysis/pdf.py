"""Printing an HTML document to PDF with headless Chromium (Debian's package; offline).

Chromium prints with its own layout engine, so what the report's print CSS says (A4, margins, page
margin boxes with page numbers, no breaks inside figures) is what the PDF shows. Each print gets a fresh
profile folder and its own temporary copy of the HTML; nothing is left behind on failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from bearing_workbench.chromium import FLAGS, chromium_path
from bearing_workbench.config.atomic_files import atomic_path

DEFAULT_TIMEOUT_S = 120.0
STDERR_TAIL_CHARS = 1500


class PdfError(RuntimeError):
    """Chromium is missing, failed, timed out or wrote no PDF; the message says which (stderr tail too)."""


def _tail(text: str, limit: int = STDERR_TAIL_CHARS) -> str:
    # Chromium logs dbus noise on these machines: keep the end, where its own error usually is.
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _run(command: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run `command` in a session of its own, so that a timeout ends Chromium's child processes too."""
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
            tail = _tail(stderr) or "(empty)"
            raise PdfError(
                f"chromium did not print the PDF within {timeout_s:.0f} s; stderr: {tail}"
            ) from None
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def html_to_pdf(html: str, pdf_path: str | os.PathLike[str], timeout_s: float = DEFAULT_TIMEOUT_S) -> Path:
    """Print `html` (a self-contained document) to `pdf_path` with headless Chromium; returns the path.

    The PDF appears atomically: `pdf_path` is either the whole new file or left as it was.

    Raises:
        PdfError: chromium is not installed, exits with an error, runs past `timeout_s` or writes no PDF.
    """
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        raise PdfError(
            f"chromium not found (looked for `chromium` on PATH and {executable}): install Debian's "
            "`chromium` package to print PDF reports"
        )
    target = Path(pdf_path)
    with tempfile.TemporaryDirectory(prefix="bw-pdf-") as tmp, atomic_path(target) as partial:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [
            executable,
            *FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",  # the report's own CSS puts page numbers in the page margins
            f"--print-to-pdf={partial}",
            page.as_uri(),
        ]
        try:
            done = _run(command, timeout_s)
        except OSError as exc:
            raise PdfError(f"chromium ({executable}) could not be started: {exc}") from None
        if done.returncode != 0:
            raise PdfError(
                f"chromium exited with status {done.returncode} while printing the PDF; "
                f"stderr: {_tail(done.stderr) or '(empty)'}"
            )
        with open(partial, "rb") as handle:
            head = handle.read(5)
        if head != b"%PDF-":
            raise PdfError(
                f"chromium wrote no PDF (exit status 0, {partial.stat().st_size} bytes); "
                f"stderr: {_tail(done.stderr) or '(empty)'}"
            )
    return target
