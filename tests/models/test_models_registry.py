"""The family registry: every registered family is checked the day it is registered (as in timm)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from bearing_workbench.models import (
    INPUT_KINDS,
    FamilyParams,
    FamilySpec,
    ParamField,
    UnknownFamilyError,
    get_family,
    list_families,
    param_fields,
    register_family,
    registry,
    set_builder,
)

FAMILIES = list_families()
ALL_SEVEN = ["classical", "cnn1d", "resnet1d", "transformer", "spectrogram", "pinn", "ensemble"]


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register families without leaving them behind."""
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))


def test_all_seven_families_are_registered_in_order() -> None:
    assert FAMILIES == ALL_SEVEN


def test_input_kinds() -> None:
    kinds = {name: get_family(name).input_kind for name in FAMILIES}
    assert kinds["classical"] == "features" and kinds["spectrogram"] == "spectrogram"
    assert kinds["ensemble"] == "predictions" and kinds["cnn1d"] == "signal"
    assert set(kinds.values()) <= set(INPUT_KINDS)
    assert not get_family("classical").epoch_based and get_family("resnet1d").epoch_based


@pytest.mark.parametrize("name", FAMILIES)
def test_family_card_text(name: str) -> None:
    spec = get_family(name)
    assert spec.name == name and spec.title.strip()
    assert spec.description.strip() and "\n" not in spec.description and len(spec.description) <= 110


@pytest.mark.parametrize("name", FAMILIES)
def test_defaults_validate(name: str) -> None:
    spec = get_family(name)
    assert issubclass(spec.params, BaseModel)
    defaults = spec.default_params()
    assert spec.params.model_validate({}) == defaults
    assert spec.params.model_validate(defaults.model_dump(mode="json")) == defaults


@pytest.mark.parametrize("name", FAMILIES)
def test_every_field_has_help_and_bounds_or_choices(name: str) -> None:
    fields = param_fields(name)
    assert [field.name for field in fields] == list(get_family(name).params.model_fields)
    for field in fields:
        assert field.help.strip() and "\n" not in field.help, field.name
        _check_shape(field, name)


def _check_shape(field: ParamField, family: str, is_item: bool = False) -> None:
    where = f"{family}.{field.name}"
    if field.type in ("int", "float") and field.ref is not None:
        assert field.minimum is not None, f"{where}: an id still needs a lower bound"
    elif field.type in ("int", "float"):
        assert field.minimum is not None and field.maximum is not None, f"{where} needs ge/le bounds"
        assert field.minimum < field.maximum, where
        if field.default is not None:
            assert field.minimum <= field.default <= field.maximum, where
    elif field.type == "choice":
        assert field.choices, where
        if field.default is not None:
            assert field.default in field.choices, where
    elif field.type == "list":
        assert field.item is not None and field.max_items is not None, (
            f"{where} needs an item type and max length"
        )
        assert len(field.default) <= field.max_items, where
        if field.ref is None:
            _check_shape(field.item, family, is_item=True)
    else:
        assert field.type in ("bool", "str"), where
    if not field.nullable and not is_item:
        assert field.default is not None, where


def _numeric_fields(name: str) -> list[ParamField]:
    return [f for f in param_fields(name) if f.type in ("int", "float") and f.ref is None]


@pytest.mark.parametrize("name", FAMILIES)
def test_bounds_are_enforced_by_the_schema(name: str) -> None:
    schema = get_family(name).params
    for field in _numeric_fields(name):
        step = 1 if field.type == "int" else 1e-9
        for edge, inside, outside in (
            (field.minimum, not field.exclusive_minimum, field.minimum - step),
            (field.maximum, not field.exclusive_maximum, field.maximum + step),
        ):
            errors = _errors(schema, {field.name: edge})
            if inside:
                # At an inclusive bound only cross-field rules (kernel_sizes vs n_conv_layers...) may object.
                assert all(kind == "field_rule" for kind in errors), (name, field.name, edge, errors)
            else:
                assert errors, (name, field.name, edge)
            assert _errors(schema, {field.name: outside}), (name, field.name, outside)


def _errors(schema: type[BaseModel], data: dict[str, Any]) -> list[str]:
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        return [error["type"] for error in exc.errors()]
    return []


@pytest.mark.parametrize("name", FAMILIES)
def test_choices_are_enforced_by_the_schema(name: str) -> None:
    schema = get_family(name).params
    for field in param_fields(name):
        if field.type == "choice":
            assert field.choices is not None
            for choice in field.choices:
                assert "literal_error" not in _errors(schema, {field.name: choice})
            assert "literal_error" in _errors(schema, {field.name: "surely-not-a-choice"})


@pytest.mark.parametrize("name", FAMILIES)
def test_unknown_parameter_is_refused(name: str) -> None:
    assert _errors(get_family(name).params, {"no_such_parameter": 1}) == ["extra_forbidden"]


def test_param_fields_structure() -> None:
    by_name = {field.name: field for field in param_fields("cnn1d")}
    kernels = by_name["kernel_sizes"]
    assert kernels.type == "list" and kernels.default == [7, 5, 3] and kernels.max_items == 5
    assert kernels.item is not None and kernels.item.choices == (3, 5, 7, 11)
    dropout = by_name["dropout"].to_dict()
    assert dropout["type"] == "float" and dropout["minimum"] == 0.0 and dropout["maximum"] == 1.0
    assert not dropout["exclusive_minimum"] and dropout["exclusive_maximum"]

    classical = {field.name: field for field in param_fields("classical")}
    assert classical["C"].log_scale and not classical["n_estimators"].log_scale
    assert classical["max_depth"].nullable and classical["max_depth"].default is None
    assert classical["algorithm"].choices == ("random_forest", "svm", "gradient_boosting")

    resnet = {field.name: field for field in param_fields("resnet1d")}
    assert resnet["depth"].choices == (18, 34, 50)
    assert resnet["init_from_experiment"].ref == "experiment"
    assert "ImageNet" in resnet["init_from_experiment"].help
    assert {field.name: field for field in param_fields("ensemble")}["members"].ref == "experiment"


def test_unknown_family_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownFamilyError, match="unknown model family 'lstm'; known families: classical, cnn1d"
    ):
        get_family("lstm")
    with pytest.raises(LookupError):
        param_fields("lstm")


class _ToyParams(FamilyParams):
    width: int = Field(8, ge=1, le=64, description="Width.")


def _toy(name: str = "toy", params: type[BaseModel] = _ToyParams) -> FamilySpec:
    return FamilySpec(name=name, title="Toy", description="A toy family.", params=params, input_kind="signal")


def test_register_refuses_duplicates(scratch_registry: None) -> None:
    register_family(_toy())
    assert list_families()[-1] == "toy"
    with pytest.raises(ValueError, match="already registered"):
        register_family(_toy())
    with pytest.raises(ValueError, match="already registered"):
        register_family(_toy("cnn1d"))


def test_register_refuses_incomplete_schemas(scratch_registry: None) -> None:
    class NoDefault(FamilyParams):
        width: int = Field(ge=1, le=4, description="Width.")

    class NoHelp(FamilyParams):
        width: int = Field(2, ge=1, le=4)

    class Unsupported(FamilyParams):
        width: dict[str, int] = Field(default_factory=dict, description="Mapping.")

    with pytest.raises(ValueError, match="needs a default"):
        register_family(_toy("a", NoDefault))
    with pytest.raises(ValueError, match="needs a description"):
        register_family(_toy("b", NoHelp))
    with pytest.raises(TypeError, match="not supported"):
        register_family(_toy("c", Unsupported))
    with pytest.raises(ValueError, match="lower-case"):
        register_family(_toy("Bad-Name"))
    assert list_families() == ALL_SEVEN


def test_set_builder(scratch_registry: None) -> None:
    spec = register_family(_toy())
    assert spec.builder is None

    def build(params: _ToyParams, n_classes: int) -> tuple[int, int]:
        return params.width, n_classes

    set_builder("toy", build)
    assert get_family("toy").builder is build


def test_importing_config_and_models_does_not_import_torch() -> None:
    code = (
        "import sys, bearing_workbench.config, bearing_workbench.models; "
        "heavy = [m for m in ('torch', 'dask', 'distributed', 'ipywidgets') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    repo_root = Path(registry.__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)
