"""generate-data --variant / --domain-randomised write the asked machine(s) and refuse a contradiction."""

from __future__ import annotations

import json

import h5py
import pytest

from bearing_workbench import cli


@pytest.mark.parametrize(
    ("flags", "variant"),
    [((), "default"), (("--variant", "heldout"), "heldout"), (("--domain-randomised",), "randomised")],
)
def test_generate_data_writes_the_variant(tmp_path, flags, variant) -> None:
    out = tmp_path / "data.h5"
    args = ["generate-data", "--out", str(out), "--per-class", "3", "--duration", "0.5", "--workers", "1"]
    assert cli.main([*args, *flags]) == 0
    with h5py.File(out, "r") as f:
        config = json.loads(f.attrs["config"])
    assert config["variant"] == variant


def test_domain_randomised_and_another_variant_contradict(tmp_path, capsys) -> None:
    out = tmp_path / "data.h5"
    args = ["generate-data", "--out", str(out), "--domain-randomised", "--variant", "heldout"]
    assert cli.main(args) == 2
    assert "--domain-randomised contradicts --variant heldout" in capsys.readouterr().err
    assert not out.exists()
