"""`Store` is a facade over one repository per aggregate: each public method hands its arguments, all of
them and unchanged, to exactly one repository method and returns what that returns."""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import create_autospec

import pytest

from bearing_workbench.store import Store

# Store's own methods (engines and sessions), not forwarded to a repository.
OWN = {"dispose", "transaction"}
FORWARDED = sorted(
    name
    for name, _ in inspect.getmembers(Store, inspect.isfunction)
    if not name.startswith("_") and name not in OWN
)


def _sentinel_arguments(signature: inspect.Signature) -> dict[str, Any]:
    """A distinct object for every parameter (keyword arguments for **kwargs)."""
    out: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:
        out[param.name] = {"some_metric": object()} if param.kind is param.VAR_KEYWORD else object()
    return out


def test_the_facade_covers_every_aggregate() -> None:
    assert len(FORWARDED) == 37
    assert {"add_dataset", "list_experiments", "add_epoch", "events", "put_explanation"} <= set(FORWARDED)


@pytest.mark.parametrize("method", FORWARDED)
def test_each_method_forwards_all_its_arguments_to_one_repository(sqlite_store: Store, method: str) -> None:
    repositories = {
        name: value
        for name, value in vars(sqlite_store).items()
        if type(value).__name__.endswith("Repository")
    }
    assert len(repositories) == 9
    mocks = {name: create_autospec(repo, instance=True) for name, repo in repositories.items()}
    for name, mock in mocks.items():
        setattr(sqlite_store, name, mock)

    signature = inspect.signature(getattr(Store, method))
    arguments = _sentinel_arguments(signature)
    var_keyword = [p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    call_kwargs = {k: v for k, v in arguments.items() if k not in var_keyword}
    for name in var_keyword:
        call_kwargs.update(arguments[name])
    result = getattr(sqlite_store, method)(**call_kwargs)

    calls = [(name, call) for name, mock in mocks.items() for call in mock.method_calls]
    assert len(calls) == 1, f"{method} made {calls}"
    repo_name, (repo_method, args, kwargs) = calls[0]
    target = getattr(type(repositories[repo_name]), repo_method)
    bound = inspect.signature(target).bind(None, *args, **kwargs)
    bound.apply_defaults()
    forwarded = {k: v for k, v in bound.arguments.items() if k != "self"}
    assert forwarded == arguments
    assert all(forwarded[k] is v for k, v in arguments.items() if k not in var_keyword)
    if signature.return_annotation not in ("None", None):
        assert result is getattr(mocks[repo_name], repo_method).return_value
