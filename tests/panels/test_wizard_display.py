"""What the wizard shows a new user: labels that fit and read as words, preset cards that fit the
model family, a YAML view at normal line spacing, and the app's ``?family=`` opening that family."""

from __future__ import annotations

import re
from collections.abc import Iterator

import ipywidgets as widgets
import pytest

from bearing_workbench.analysis.estimates import FAMILY_BENCHMARKS
from bearing_workbench.models import list_families, param_fields
from bearing_workbench.panels.forms import field_label
from bearing_workbench.panels.wizard import ConfigWizard
from bearing_workbench.serve.apps import wizard_app
from bearing_workbench.store import Store

from .test_wizard import to_expert_cnn, wizard_store  # noqa: F401 (a fixture)

DEFAULT_LABEL_PX = 80  # ipywidgets' --jp-widgets-inline-label-width
PX_PER_CHARACTER = 8  # a generous average for the 13 px UI font: a label longer than this is cut


def _tree(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _tree(child)


def _cut_labels(root: widgets.Widget) -> list[str]:
    """Descriptions shown in a label column too narrow for them (the browser cuts them with '…')."""
    cut = []
    for widget in _tree(root):
        description = getattr(widget, "description", "")
        if not description or isinstance(widget, widgets.Button | widgets.ToggleButtons | widgets.Checkbox):
            continue  # these grow with their text
        width = widget.style.description_width
        if width == "initial":
            continue
        room = int(width.removesuffix("px")) if width else DEFAULT_LABEL_PX
        if len(description) * PX_PER_CHARACTER > room:
            cut.append(f"{description!r} in {room}px")
    return cut


@pytest.fixture
def wizard(wizard_store: Store) -> Iterator[ConfigWizard]:  # noqa: F811
    panel = ConfigWizard(store=wizard_store)
    yield panel
    panel.close()


def test_expert_fields_are_labelled_in_words_with_the_name_in_the_tooltip(wizard: ConfigWizard) -> None:
    assert field_label(next(f for f in param_fields("classical") if f.name == "n_estimators")) == (
        "Number of trees"
    )
    to_expert_cnn(wizard)
    forms = [wizard.model_form(family) for family in list_families()] + [wizard.common_form]
    for form in forms:
        for path, field_input in form.inputs.items():
            name = path.rpartition(".")[2]
            label = field_input.widget.description
            assert "_" not in label and label[:1].isupper(), (path, label)
            assert field_input.widget.tooltip.startswith(f"{name}: "), path
            assert field_input.spec.help in field_input.widget.tooltip
        assert _cut_labels(form.widget) == []


def test_no_label_of_any_step_is_cut(wizard: ConfigWizard) -> None:
    to_expert_cnn(wizard)
    wizard.go_next()
    wizard.go_next()
    assert wizard.step == 4
    for page in wizard._pages.values():
        assert _cut_labels(page) == []  # "Preset name" was shown as "Preset na…"


def test_the_yaml_view_has_normal_line_spacing(wizard: ConfigWizard) -> None:
    to_expert_cnn(wizard)
    wizard.go_next()
    [style] = re.findall(r'<pre[^>]*style="([^"]*)"', wizard.yaml_html.value)
    # widget HTML inherits a 28 px line height (one widget row) unless the block sets its own
    spacing = re.search(r"line-height:\s*([\d.]+)(px)?", style)
    assert spacing is not None and spacing.group(2) is None and float(spacing.group(1)) <= 1.5


def test_a_classical_preset_card_shows_the_family_s_measured_figures(wizard: ConfigWizard) -> None:
    wizard.select_family("classical")
    wizard.go_next()
    quick = wizard.preset_cards["quick"][1].children[1].value
    low, high = FAMILY_BENCHMARKS["classical"].accuracy
    assert "Epochs" not in quick and "epochs" not in quick
    assert "50-85 %" not in quick and "1-5 min" not in quick  # the preset's ranges are for networks
    assert f"{low:.1f}-{high:.1f} %" in quick
    assert re.search(r"Here \(classical, tiny\):</b> about \d+ s", quick)
    assert "Number of trees 50" in quick  # what the preset sets for this family
    wizard.go_back()
    wizard.select_family("cnn1d")
    wizard.go_next()
    cnn = wizard.preset_cards["quick"][1].children[1].value
    assert "Epochs:</b> 3" in cnn and "50-85 %" in cnn


def test_the_app_s_family_query_opens_that_family_s_configuration(
    wizard_store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(wizard_store.workspace))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    panel = wizard_app("family=classical")
    try:
        assert isinstance(panel, ConfigWizard)
        assert (panel.step, panel.family, panel.mode) == (2, "classical", "preset")
        assert not panel.back_button.disabled  # the other families are one click away
    finally:
        panel.close()
    panel = wizard_app("")
    try:
        assert panel.step == 1 and panel.family is None
    finally:
        panel.close()


def test_the_wizard_is_a_kit_page_with_its_steps_in_the_title(wizard: ConfigWizard) -> None:
    from bearing_workbench.panels.kit import Page

    assert isinstance(wizard, Page) and wizard.url == "wizard.ipynb"
    assert "<b>1 Model</b>" in wizard.title_html.value and "bw-muted" in wizard.title_html.value
    wizard.go_next()  # no family yet: nothing happens
    assert wizard.step == 1
    wizard.select_family("classical")
    wizard.go_next()
    assert "<b>2 Configuration</b>" in wizard.title_html.value
    assert wizard.url == "wizard.ipynb?family=classical"
    assert not wizard.busy.busy  # the step's work is done
    wizard.select_preset("nope")
    assert wizard.message.tone == "error" and "unknown preset 'nope'" in wizard.message.text
