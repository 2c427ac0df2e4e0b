"""`import-data`, `info`, `features` and `generate-data --register` as a user types them (in process).

Datasets are named by a registered name, a file or the folder generate-data wrote; errors are one
line naming the flag (`--fs`, never `fs=`), exit 2, and nothing is left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from bearing_workbench.cli import main
from bearing_workbench.data.dataset_file import read_info
from tests.data.test_loaders import BAD_FILES, _Trap

FS = 10240.0
SIGNALS = np.random.default_rng(4).standard_normal((20, 1024)).astype(np.float32)
LABELS = np.array(["healthy", "wear", "cavitation", "oil_whirl"] * 5)


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "ws"
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(root))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(capsys, *args: str) -> str:
    """Run a command that must be refused: exit 2 and one line on stderr, returned."""
    code, _, err = run(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def keyed_npz(tmp_path) -> Path:
    path = tmp_path / "plant.npz"
    np.savez(path, vib=SIGNALS, y=LABELS, rate=FS)
    return path


def test_import_with_keys_split_and_seed_then_info_by_name(workspace, tmp_path, keyed_npz, capsys):
    out = tmp_path / "plant.h5"
    code, stdout, err = run(
        capsys, "import-data", str(keyed_npz), "--name", "plant-a", "--out", str(out),
        "--signals-key", "vib", "--labels-key", "y", "--fs-key", "rate",
        "--split", "0.5,0.25,0.25", "--seed", "7", "--register",
    )  # fmt: skip
    assert code == 0, err
    assert "registered as dataset 'plant-a'" in stdout
    info = read_info(out)
    assert info.split_fractions == (0.5, 0.25, 0.25) and info.split_sizes == {
        "train": 12,
        "val": 4,
        "test": 4,
    }
    with h5py.File(out, "r") as f:
        assert f["splits"].attrs["seed"] == 7
    code, stdout, _ = run(capsys, "info", "plant-a", "--json")
    assert code == 0 and json.loads(stdout)["n_records"] == 20
    code, _, err = run(
        capsys, "features", "plant-a", "--out", str(tmp_path / "f.csv")
    )  # a progress bar, then
    errors = [line for line in err.splitlines() if "error: " in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err
    assert "error: plant.h5: signals are too short: 1024 samples" in errors[0]
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.parametrize(
    ("split", "seed", "expected"),
    [
        ("0.7,0.3", "0", "error: --split: expected 3 values (train, val, test), got 2: [0.7, 0.3]"),
        ("0.7,x,0.1", "0", "error: --split: '0.7,x,0.1': expected three numbers train,val,test"),
        ("0.6,0.3,0.3", "0", "error: --split: must sum to 1"),
        ("1,0,0", "0", "error: --split: the train fraction must be in [0, 1), got 1.0"),
        ("0.7,0.15,0.15", "-1", "error: --seed: must be a non-negative integer, got -1"),
    ],
)
def test_bad_split_options_are_named_before_anything_is_read(
    workspace, tmp_path, capsys, split, seed, expected
):
    line = refused(capsys, "import-data", str(tmp_path / "absent.npz"), "--name", "x",
                   "--out", str(tmp_path / "x.h5"), "--split", split, "--seed", seed)  # fmt: skip
    assert line.startswith(expected), line
    assert not (tmp_path / "x.h5").exists()


def test_messages_name_cli_flags_never_python_arguments(workspace, tmp_path, capsys):
    npy = tmp_path / "signals.npy"
    np.save(npy, SIGNALS)
    line = refused(capsys, "import-data", str(npy), "--name", "n", "--out", str(tmp_path / "n.h5"))
    assert "pass --labels (one label per record)" in line and "labels=" not in line
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS))
    line = refused(capsys, "import-data", str(npy), "--name", "n", "--out", str(tmp_path / "n.h5"),
                   "--labels", str(labels))  # fmt: skip
    assert "pass --fs (in Hz)" in line and "fs=" not in line
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("\n".join(["rub"] * 20))
    line = refused(capsys, "import-data", str(npy), "--name", "n", "--out", str(tmp_path / "n.h5"),
                   "--labels", str(unknown), "--fs", "10240")  # fmt: skip
    assert "pass --allow-new-classes to import new classes" in line and "allow_new_classes" not in line
    line = refused(capsys, "import-data", str(tmp_path / "plant.npz"), "--name", "n", "--fs", "-3")
    assert line == "error: --fs: must be a positive number (the sampling rate in Hz), got -3.0"
    assert not (tmp_path / "n.h5").exists()


def test_an_existing_output_names_the_overwrite_flag(workspace, tmp_path, keyed_npz, capsys):
    out = tmp_path / "taken.h5"
    out.write_bytes(b"precious")
    args = ["import-data", str(keyed_npz), "--name", "t", "--out", str(out), "--signals-key", "vib",
            "--labels-key", "y", "--fs-key", "rate"]  # fmt: skip
    assert "choose another name or pass --overwrite" in refused(capsys, *args)
    assert out.read_bytes() == b"precious"
    assert run(capsys, *args, "--overwrite")[0] == 0 and read_info(out).n_records == 20


def test_registering_a_taken_name_is_refused_before_writing(workspace, tmp_path, keyed_npz, capsys):
    keys = ["--signals-key", "vib", "--labels-key", "y", "--fs-key", "rate"]
    first = tmp_path / "first.h5"
    assert run(capsys, "import-data", str(keyed_npz), "--name", "plant", "--out", str(first), *keys,
               "--register")[0] == 0  # fmt: skip
    second = tmp_path / "second.h5"
    line = refused(capsys, "import-data", str(keyed_npz), "--name", "plant", "--out", str(second), *keys,
                   "--register")  # fmt: skip
    assert line.startswith("error: --name plant: a dataset of that name is already registered (id 1")
    assert line.endswith("choose another --name")
    assert not second.exists() and "Traceback" not in line
    folder = tmp_path / "gen"
    line = refused(capsys, "generate-data", "--out", str(folder), "--name", "plant", "--per-class", "3",
                   "--duration", "0.5", "--workers", "1", "--register")  # fmt: skip
    assert line.startswith("error: --name plant: a dataset of that name is already registered")
    assert not (folder / "plant.h5").exists()
    assert first.exists()  # the registered one is untouched


def test_info_and_features_take_the_folder_generate_data_wrote(workspace, tmp_path, capsys):
    folder = tmp_path / "gen"
    code, _, err = run(capsys, "generate-data", "--out", str(folder), "--per-class", "3", "--duration", "0.5",
                       "--workers", "1")  # fmt: skip
    assert code == 0, err
    code, stdout, err = run(capsys, "info", str(folder))
    assert code == 0, err
    assert f"{folder / 'dataset.h5'}" in stdout and "33 records" in stdout
    code, stdout, _ = run(capsys, "features", str(folder), "--out", str(tmp_path / "f.npz"))
    assert code == 0 and "33 records x 36 features" in stdout
    (folder / "other.h5").write_bytes((folder / "dataset.h5").read_bytes())
    line = refused(capsys, "info", str(folder))
    assert "holds 2 dataset files (dataset.h5, other.h5); name one of them" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    line = refused(capsys, "info", str(empty))
    assert "is a folder" in line and "no such file" not in line and "no file at" not in line


def test_a_name_that_is_not_registered_says_what_is_expected(workspace, capsys):
    line = refused(capsys, "info", "plant-z")
    assert line == (
        "error: no dataset of that name in the store and no file at 'plant-z'; "
        "expected a registered dataset name, a dataset file or a folder holding one"
    )


def _cli_arguments(kwargs: dict, folder: Path) -> list[str] | None:
    """A loader call's keyword arguments as import-data flags; None when the CLI cannot express them
    (a size limit, labels given as indices or as a bare string, a blank label a text file drops)."""
    args = []
    for key, value in kwargs.items():
        if key == "fs":
            args += ["--fs", str(value)]
        elif key == "labels" and isinstance(value, Path):
            args += ["--labels", str(value)]
        elif key == "labels" and not isinstance(value, str):
            if not all(isinstance(v, str) and v.strip() for v in value):
                return None
            path = folder / "labels-for-cli.txt"
            path.write_text("\n".join(value))
            args += ["--labels", str(path)]
        else:
            return None
    return args


CLI_CASES = {
    case: spec
    for case, spec in BAD_FILES.items()
    if case not in ("too large", "npz expanding beyond max_bytes")
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_every_bad_file_is_refused_in_one_line_with_exit_2(workspace, tmp_path, capsys, case):
    file_name, make, keyword, *_ = CLI_CASES[case]
    src = tmp_path / file_name
    flags = _cli_arguments(make(src) or {}, tmp_path)
    if flags is None:
        pytest.skip("the loader arguments of this case have no command-line form")
    out = tmp_path / "out" / "d.h5"
    line = refused(capsys, "import-data", str(src), "--name", "d", "--out", str(out), *flags)
    assert keyword.lower().replace("fs=", "--fs ").replace("labels=", "--labels ") in line.lower(), line
    assert "np." not in line and "Traceback" not in line
    assert not out.exists() and not out.parent.exists()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_pickled_files_are_refused_by_the_cli_and_never_run(workspace, tmp_path, capsys, suffix):
    marker = tmp_path / "unpickled"
    objects = np.array([_Trap(marker), _Trap(marker)], dtype=object)
    src = tmp_path / f"evil{suffix}"
    if suffix == ".npy":
        np.save(src, objects, allow_pickle=True)
    else:
        np.savez(src, signals=objects, labels=np.array(["wear", "wear"]), fs=FS)
    line = refused(
        capsys, "import-data", str(src), "--name", "e", "--out", str(tmp_path / "e.h5"), "--fs", "10240"
    )
    assert "contains Python objects" in line
    assert not marker.exists() and not (tmp_path / "e.h5").exists()


def test_out_may_be_a_folder_like_generate_data(workspace, tmp_path, keyed_npz, capsys):
    keys = ["--signals-key", "vib", "--labels-key", "y", "--fs-key", "rate"]
    folder = tmp_path / "imported"
    code, stdout, err = run(
        capsys, "import-data", str(keyed_npz), "--name", "plant", "--out", str(folder), *keys
    )
    assert code == 0, err
    assert (folder / "plant.h5").is_file() and str(folder / "plant.h5") in stdout
    code, stdout, _ = run(capsys, "info", str(folder))
    assert code == 0 and "20 records" in stdout
