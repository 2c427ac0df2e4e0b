"""The PDF report of real tiny experiments: its HTML (sections, escaping, nothing fetched from outside)
and the PDF Chromium prints from it (a real file with pages that are not blank)."""

from __future__ import annotations

import shutil
import subprocess
from html import escape
from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.analysis import pdf
from bearing_workbench.analysis.report import render_report, report_html, write_report
from bearing_workbench.analysis.results_info import results_info
from bearing_workbench.chromium import chromium_path
from bearing_workbench.store import Store

needs_chromium = pytest.mark.skipif(
    not Path(chromium_path()).is_file() or shutil.which("pdftoppm") is None,
    reason="chromium and poppler-utils are needed (apt-get install chromium poppler-utils)",
)
SECTIONS = ("Test metrics", "Recommendations", "Baselines", "Per-class metrics", "Confusion matrix")


def test_html_has_every_section_escapes_names_and_fetches_nothing(
    analysis_store: Store, trained_ids: dict[str, int]
) -> None:
    experiment_id = trained_ids["cnn1d"]
    original = analysis_store.get_experiment(experiment_id).name
    analysis_store.set_notes(experiment_id, "<b>bold?</b>")
    steps: list[float] = []
    html = report_html(analysis_store, experiment_id, on_progress=lambda f, _: steps.append(f))
    for title in (*SECTIONS, "Training curves", "ROC curves", "Configuration"):
        assert title in html, title
    assert original in html
    assert "<script" not in html.lower()  # no script at all: printing does not wait for any
    assert "http://" not in html and "https://" not in html.replace("https://www.w3.org", "")
    assert steps == sorted(steps) and steps[-1] == 1.0


def test_the_report_shows_every_metric_of_the_results_info(
    analysis_store: Store, trained_ids: dict[str, int]
) -> None:
    # The page and the report render the same ResultsInfo: every metric text of it is in the report.
    for family in ("cnn1d", "classical"):
        info = results_info(analysis_store, trained_ids[family])
        html = render_report(info)
        texts = info.metric_texts()
        assert len(texts) >= 4 + 3 * len(info.per_class)
        missing = [text for text in texts if escape(text) not in html]
        assert not missing, (family, missing)
        for card in info.cards:
            label = f'<div class="label">{escape(card.label)}</div>'
            assert f'{label}<div class="value">{card.text}</div>' in html


def test_a_crafted_name_is_escaped(analysis_store: Store, trained_ids: dict[str, int]) -> None:
    from bearing_workbench.store.tables import ExperimentRow

    experiment_id = trained_ids["classical"]
    with analysis_store.transaction() as session:
        row = session.get(ExperimentRow, experiment_id)
        before, row.name = row.name, "<script>alert(1)</script>"
    try:
        html = report_html(analysis_store, experiment_id)
    finally:
        with analysis_store.transaction() as session:
            session.get(ExperimentRow, experiment_id).name = before
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@needs_chromium
def test_the_pdf_has_pages_that_are_not_blank(
    analysis_store: Store, trained_ids: dict[str, int], tmp_path: Path
) -> None:
    steps: list[tuple[float, str]] = []
    path = write_report(
        analysis_store,
        trained_ids["cnn1d"],
        tmp_path / "report.pdf",
        on_progress=lambda f, m: steps.append((f, m)),
    )
    assert path.read_bytes()[:5] == b"%PDF-"
    assert steps[-1] == (1.0, "report written")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True
    )
    [page] = sorted(tmp_path.glob("p-*.png"))
    from PIL import Image

    pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
    assert pixels.std() > 5  # text and figures, not an empty page
    assert {p.name for p in tmp_path.iterdir()} == {path.name, page.name}  # no temporary file left


@needs_chromium
def test_the_default_place_is_the_experiment_folder(
    analysis_store: Store, trained_ids: dict[str, int]
) -> None:
    path = write_report(analysis_store, trained_ids["classical"])
    assert path == analysis_store.workspace / "experiments" / str(trained_ids["classical"]) / "report.pdf"
    assert path.read_bytes()[:5] == b"%PDF-"


def test_without_chromium_the_error_names_it_and_leaves_no_file(
    analysis_store: Store, trained_ids: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "chromium_path", lambda: str(tmp_path / "no-chromium"))
    target = tmp_path / "out" / "report.pdf"
    target.parent.mkdir()
    with pytest.raises(pdf.PdfError, match="chromium"):
        write_report(analysis_store, trained_ids["classical"], target)
    assert list(target.parent.iterdir()) == []


def test_an_experiment_that_has_not_completed_is_named(empty_store: Store) -> None:
    experiment_id = empty_store.create_experiment("still running", "cnn1d", {"training": {"epochs": 2}})
    with pytest.raises(ValueError, match=f"experiment {experiment_id}"):
        report_html(empty_store, experiment_id)


def _fake_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Put a shell script in chromium's place (its arguments are what html_to_pdf passes)."""
    script = tmp_path / "fake-chromium"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setattr(pdf, "chromium_path", lambda: str(script))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('echo "noise" >&2; echo "boom: cannot print" >&2; exit 3', r"(?s)status 3.*boom: cannot print"),
        ("exit 0", "wrote no PDF"),  # exits well but prints nothing: the empty temp file is not a PDF
        ("sleep 30", "did not print the PDF within 1 s"),
    ],
    ids=["fails", "writes-nothing", "hangs"],
)
def test_a_failing_chromium_is_named_with_its_stderr_and_the_old_file_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    _fake_chromium(tmp_path, monkeypatch, body)
    target = tmp_path / "out" / "report.pdf"
    target.parent.mkdir()
    target.write_bytes(b"%PDF-1.7 earlier report")
    with pytest.raises(pdf.PdfError, match=message):
        pdf.html_to_pdf("<p>hello</p>", target, timeout_s=1)
    assert list(target.parent.iterdir()) == [target]  # no temporary file left beside it
    assert target.read_bytes() == b"%PDF-1.7 earlier report"
