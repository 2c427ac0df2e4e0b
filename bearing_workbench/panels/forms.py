"""Forms generated from schema descriptions (`models.schema_fields`): one input per field, labelled
in words (the parameter's name and help in its tooltip), bounds in its placeholder, and a message line
under it for the validation error it has.

The form does not validate: it reads values (typed where the text is unambiguous, else left as typed
so the project's validation names the problem) and shows the messages it is given. Numbers are typed
into text boxes, never number boxes: a browser's number box rewrites what it cannot read ("3.5" in an
integer box became 35, "abc" reverted to the old value), and the user must see the text they typed
next to the message that says what is wrong with it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from bearing_workbench.config import set_dotted
from bearing_workbench.models.registry import ParamField
from bearing_workbench.models.schema_fields import FormSection
from bearing_workbench.panels.kit import fragments

RefOptions = Callable[[str], Sequence[tuple[str, Any]]]

_LABEL_STYLE = {"description_width": "190px"}
_INPUT_LAYOUT = {"width": "440px"}
_INDEX_SUFFIX = re.compile(r"\[\d+\]$")


# Parameter names that do not read as words, spelled out; the others are read from their name
# ("n_conv_layers" -> "Number of conv layers"). The name itself stays in the tooltip.
_LABELS = {
    "C": "Regularisation C",
    "n_estimators": "Number of trees",
    "n_scales": "Wavelet scales",
    "d_model": "Embedding width",
    "fc_size": "Dense layer width",
    "fc_sizes": "Dense layer widths",
    "lambda_physics": "Physics loss weight",
    "gaussian_noise_snr_db": "Noise SNR (dB)",
    "min_lr": "Final learning rate",
    "cv_folds": "Cross-validation folds",
    "export_onnx": "Export ONNX",
    "top_k": "Features kept (top k)",
    "init_from_experiment": "Start from experiment",
    "stft_window": "STFT window",
}


def field_label(spec: ParamField) -> str:
    """The words a form shows for field `spec`: ``"Number of trees"`` for ``n_estimators``."""
    if spec.name in _LABELS:
        return _LABELS[spec.name]
    words = spec.name.split("_")
    if words[0] == "n" and len(words) > 1:
        words = ["number", "of", *words[1:]]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _number(value: Any) -> str:
    """A number as a person would type it, without losing digits (``0.001``, ``1e-05``, ``32``)."""
    if isinstance(value, float) and math.isfinite(value):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def bounds_text(spec: ParamField) -> str:
    """The allowed values in words: ``"1 to 500"``, ``"> 0, <= 1000"``, ``"adam, sgd, adamw"``."""
    if spec.choices is not None:
        return ", ".join(str(choice) for choice in spec.choices)
    parts = []
    if spec.minimum is not None:
        parts.append(f"{'>' if spec.exclusive_minimum else '>='} {_number(spec.minimum)}")
    if spec.maximum is not None:
        parts.append(f"{'<' if spec.exclusive_maximum else '<='} {_number(spec.maximum)}")
    if spec.type == "list":
        item = bounds_text(spec.item) if spec.item is not None else ""
        count = ""
        if spec.min_items is not None or spec.max_items is not None:
            count = (
                f"{spec.min_items or 0} to {spec.max_items if spec.max_items is not None else 'any'} items"
            )
        parts = [text for text in (count, f"each {item}" if item else "") if text]
        return "comma-separated; " + "; ".join(parts) if parts else "comma-separated"
    if (
        not spec.exclusive_minimum
        and not spec.exclusive_maximum
        and spec.minimum is not None
        and spec.maximum is not None
    ):
        return f"{_number(spec.minimum)} to {_number(spec.maximum)}"
    return ", ".join(parts)


def _parse_scalar(text: str, kind: str, choices: tuple[Any, ...] | None = None) -> Any:
    """`text` as the field's type when it reads as one; else the text itself (validation reports it)."""
    text = text.strip()
    if choices is not None:
        for choice in choices:
            if str(choice) == text:
                return choice
        return text
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            pass
    if kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            return text
        # "1e999" reads as inf: keep the text, so that the message quotes what was typed
        return number if math.isfinite(number) else text
    if kind == "bool":
        lowered = text.lower()
        return {"true": True, "false": False}.get(lowered, text)
    return text


class FieldInput:
    """One field: its widget, the message under it, and its value as the config wants it."""

    def __init__(
        self,
        path: str,
        spec: ParamField,
        on_change: Callable[[], None],
        ref_options: RefOptions | None = None,
    ):
        self.path = path
        self.spec = spec
        allowed = bounds_text(spec)
        self.label = field_label(spec)
        self.help = f"{spec.help} Allowed: {allowed}." if allowed else spec.help
        self.widget = self._make_widget(ref_options)
        self.message = widgets.HTML("", layout={"margin": "0 0 0 196px"})
        self.box = widgets.VBox([self.widget, self.message], layout={"margin": "0 0 2px 0"})
        self.set(spec.default)
        self.widget.observe(lambda change: on_change(), names="value")

    def _make_widget(self, ref_options: RefOptions | None) -> widgets.Widget:
        spec = self.spec
        common: dict[str, Any] = {
            "description": self.label,
            "tooltip": f"{spec.name}: {self.help}",
            "style": _LABEL_STYLE,
            "layout": dict(_INPUT_LAYOUT),
        }
        if spec.ref is not None:  # ids of stored things: picked from a list, never typed
            options = list(ref_options(spec.ref)) if ref_options is not None else []
            if spec.type == "list":
                return widgets.SelectMultiple(options=options, rows=min(6, max(2, len(options))), **common)
            return widgets.Dropdown(options=[("(none)", None), *options], **common)
        if spec.type == "bool":
            return widgets.Checkbox(indent=True, **common)
        if spec.type == "choice" and spec.choices is not None:
            options: list[tuple[str, Any]] = [(str(choice), choice) for choice in spec.choices]
            if spec.nullable:
                options.insert(0, ("(none)", None))
            return widgets.Dropdown(options=options, **common)
        placeholder = bounds_text(spec)
        if spec.nullable:
            placeholder = f"empty = none; {placeholder}" if placeholder else "empty = none"
        return widgets.Text(placeholder=placeholder, continuous_update=False, **common)

    def get(self) -> Any:
        """The value for the config: typed where the widget holds a type, else parsed from its text."""
        value = self.widget.value
        spec = self.spec
        if isinstance(self.widget, widgets.SelectMultiple):
            return list(value)
        if not isinstance(self.widget, widgets.Text):
            return value
        text = str(value).strip()
        if spec.type == "list":
            if not text:
                return []
            item = spec.item
            kind = item.type if item is not None else "str"
            choices = item.choices if item is not None else None
            return [_parse_scalar(part, kind, choices) for part in text.split(",")]
        if text == "" and spec.nullable:
            return None
        return _parse_scalar(text, spec.type, spec.choices)

    def set(self, value: Any) -> None:
        """Show `value` (a config value) in the widget."""
        widget = self.widget
        if isinstance(widget, widgets.SelectMultiple):
            known = {option[1] for option in widget.options}
            missing = [(f"#{item} (not found)", item) for item in value or () if item not in known]
            if missing:
                widget.options = [*widget.options, *missing]
            widget.value = tuple(value or ())
        elif isinstance(widget, widgets.Text):
            if value is None:
                widget.value = ""
            elif isinstance(value, list | tuple):
                widget.value = ", ".join(_number(item) for item in value)
            else:
                widget.value = _number(value)
        elif isinstance(widget, widgets.Dropdown):
            known = [option[1] for option in widget.options]
            if value not in known and self.spec.ref is not None:
                widget.options = [*widget.options, (f"#{value} (not found)", value)]
                known.append(value)
            widget.value = value if value in known else widget.options[0][1]
        elif value is not None:
            widget.value = value

    def show(self, message: str | None) -> None:
        """Show `message` under the field (None or empty clears it)."""
        self.message.value = fragments.message(message or "", "error")

    @property
    def message_text(self) -> str:
        """The message shown, as plain text ('' when none)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.message.value))


class SchemaForm:
    """A form over one or more `FormSection`s: each top section is one entry of an Accordion.

    Args:
        on_change: called after any field changes (not while `set_values` fills the form).
        ref_options: options of fields that refer to stored things (``ref="experiment"``).
    """

    def __init__(
        self,
        sections: Iterable[FormSection],
        on_change: Callable[[], None],
        ref_options: RefOptions | None = None,
    ):
        self.sections = list(sections)
        self._on_change = on_change
        self._ref_options = ref_options
        self._silent = False
        self.inputs: dict[str, FieldInput] = {}
        self.toggles: dict[str, widgets.Checkbox] = {}  # nullable sections: ticked = the section is used
        self._members: dict[str, list[str]] = {}  # nullable section -> its field paths
        boxes = [self._section_box(section, top=True) for section in self.sections]
        self.widget = widgets.Accordion(children=boxes, titles=tuple(s.title for s in self.sections))

    def _changed(self) -> None:
        if not self._silent:
            self._on_change()

    def _section_box(self, section: FormSection, top: bool = False) -> widgets.Box:
        rows: list[widgets.Widget] = []
        if not top:
            rows.append(widgets.HTML(fragments.section_title(section.title), tooltip=section.help or None))
        elif section.help:
            rows.append(widgets.HTML(fragments.muted(section.help)))
        if section.nullable:
            toggle = widgets.Checkbox(
                value=section.enabled_by_default,
                description=f"use {section.title}",
                tooltip=section.help,
                indent=False,
            )
            self.toggles[section.path] = toggle
            self._members[section.path] = section.field_paths()
            toggle.observe(lambda change, path=section.path: self._toggled(path), names="value")
            rows.append(toggle)
        for item in section.items:
            if isinstance(item, FormSection):
                rows.append(self._section_box(item))
            else:
                field_input = FieldInput(
                    f"{section.path}.{item.name}", item, self._changed, self._ref_options
                )
                self.inputs[field_input.path] = field_input
                rows.append(field_input.box)
        box = widgets.VBox(rows, layout={"margin": "0" if top else "6px 0 6px 12px"})
        if section.nullable:
            self._toggled(section.path, notify=False)
        return box

    def _toggled(self, path: str, notify: bool = True) -> None:
        enabled = self.toggles[path].value
        for member in self._members.get(path, []):
            if member in self.inputs:
                self.inputs[member].widget.disabled = not enabled
        if notify:
            self._changed()

    def values(self) -> dict[str, Any]:
        """The form's values as a nested mapping of config sections (an unticked section is None)."""
        result: dict[str, Any] = {}
        off = [path for path, toggle in self.toggles.items() if not toggle.value]
        for path, field_input in self.inputs.items():
            if any(path.startswith(f"{section}.") for section in off):
                continue
            set_dotted(result, path, field_input.get())
        for section in off:
            set_dotted(result, section, None)
        return result

    def set_values(self, config: Mapping[str, Any]) -> None:
        """Fill the form from a nested config mapping; fields it does not mention keep their values."""
        self._silent = True
        try:
            for path, toggle in self.toggles.items():
                found, value = _lookup(config, path)
                if found:
                    toggle.value = value is not None
            for path, field_input in self.inputs.items():
                found, value = _lookup(config, path)
                if found:
                    field_input.set(value)
        finally:
            self._silent = False

    def input_for(self, error_path: str) -> FieldInput | None:
        """The input an error at `error_path` belongs to (``a.b[2]`` belongs to ``a.b``)."""
        path = error_path
        while path:
            if path in self.inputs:
                return self.inputs[path]
            stripped = _INDEX_SUFFIX.sub("", path)
            path = stripped if stripped != path else path.rpartition(".")[0]
        return None

    def show_errors(self, errors: Mapping[str, str]) -> dict[str, str]:
        """Show each error under its field; returns the errors that belong to no field of this form."""
        shown: dict[str, list[str]] = {}
        rest: dict[str, str] = {}
        for path, message in errors.items():
            field_input = self.input_for(path)
            if field_input is None:
                rest[path] = message
            else:
                shown.setdefault(field_input.path, []).append(message)
        for path, field_input in self.inputs.items():
            field_input.show("; ".join(shown.get(path, [])) or None)
        for index, section in enumerate(self.sections):
            count = sum(1 for path in shown if path.startswith(f"{section.path}."))
            problems = f" ({count} problem{'s' if count > 1 else ''})" if count else ""
            self.widget.set_title(index, f"{section.title}{problems}")
        return rest


def _lookup(config: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = config
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node
