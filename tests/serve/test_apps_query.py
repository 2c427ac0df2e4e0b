"""What the app notebooks do with their URL query, without a browser."""

from __future__ import annotations

import html
import subprocess
import sys

import pytest

from bearing_workbench.serve.apps import (
    id_list,
    monitor_app,
    positive_id,
    query_params,
    results_app,
    wizard_app,
)


def test_query_params_drop_the_token_and_keep_the_last_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUERY_STRING", "experiment=3&token=secret&experiment=4&family=")
    assert query_params() == {"experiment": "4", "family": ""}
    assert query_params("clone=7") == {"clone": "7"}


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "1.5"])
def test_a_bad_id_is_named(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\?experiment= must be an experiment id"):
        positive_id({"experiment": raw}, "experiment")
    assert positive_id({}, "experiment") is None
    assert positive_id({"experiment": " 12 "}, "experiment") == 12


def test_apps_show_a_message_for_bad_queries(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)

    def shown(page) -> str:  # every text of the page (a kit Page, or a panel)
        return html.unescape(" ".join(str(getattr(w, "value", "")) for w in page.descendants()))

    assert "?experiment= must be an experiment id" in shown(monitor_app("experiment=x"))
    assert "?experiment=5: there is no such experiment" in shown(monitor_app("experiment=5"))
    assert "no experiment yet" in shown(monitor_app(""))
    assert "unknown model family 'nope'" in shown(wizard_app("family=nope"))
    assert "?clone= must be an experiment id" in shown(wizard_app("clone=zero"))
    assert "?members= must be experiment ids separated by commas, got 'x'" in shown(
        wizard_app("family=ensemble&members=2,x")
    )
    assert "?experiment= must be an experiment id" in shown(results_app("experiment=../../etc/passwd"))
    assert "?experiment=5: there is no such experiment" in shown(results_app("experiment=5"))
    assert "no experiment yet" in shown(results_app(""))


def test_id_lists() -> None:
    assert id_list({"members": " 2, 6,,7 "}, "members") == [2, 6, 7]
    assert id_list({}, "members") == []
    with pytest.raises(ValueError, match=r"\?members= must be experiment ids"):
        id_list({"members": "2,-1"}, "members")


def test_app_kernels_skip_the_rfc3987_grammar_and_still_validate_notebooks() -> None:
    code = (
        "import sys, bearing_workbench.serve.apps, nbformat, jsonschema\n"
        "nbformat.validate(nbformat.v4.new_notebook())\n"
        "assert 'iri' not in jsonschema.FormatChecker.checkers\n"
        "print(sys.modules.get('rfc3987_syntax', 'absent'))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "None"
