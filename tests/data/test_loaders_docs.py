"""docs/bring-your-own-data.md cannot rot: each format's example runs, and its import-data command
imports the file it wrote."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bearing_workbench.cli import main
from bearing_workbench.data.dataset_file import read_info
from bearing_workbench.data.loaders import SUPPORTED_EXTENSIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "bring-your-own-data.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def _examples() -> dict[str, tuple[str, str]]:
    """Each python block with the import-data command of the bash block right after it."""
    blocks = BLOCK.findall(DOC.read_text())
    examples = {}
    for (kind, code), (next_kind, commands) in zip(blocks, blocks[1:], strict=False):
        if kind == "python" and next_kind == "bash":
            command = next(line for line in commands.splitlines() if "import-data" in line)
            examples[shlex.split(command)[2]] = (code, command)  # keyed by the file it imports
    return examples


EXAMPLES = _examples()


def test_every_format_has_an_example():
    suffixes = {Path(name).suffix for name in EXAMPLES}
    assert suffixes == set(SUPPORTED_EXTENSIONS) - {".hdf5"}  # .hdf5 is .h5 under another name


def test_the_readme_links_the_doc():
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/bring-your-own-data.md" in readme


@pytest.mark.parametrize("file_name", sorted(EXAMPLES))
def test_the_example_writes_a_file_that_imports(file_name, tmp_path, monkeypatch, capsys):
    code, command = EXAMPLES[file_name]
    assert len(code.strip().splitlines()) <= 12, "examples stay about ten lines"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    script = tmp_path / "example.py"
    script.write_text(code)
    ran = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / file_name).is_file()
    argv = shlex.split(command)
    assert argv[:2] == ["bearing-workbench", "import-data"]
    assert main(argv[1:]) == 0, capsys.readouterr().err
    name = argv[argv.index("--name") + 1]
    info = read_info(tmp_path / "ws" / "datasets" / f"{name}.h5")
    assert info.n_records == 12 and info.fs == 20480.0 and sum(info.split_sizes.values()) == 12
    assert main(["info", name]) == 0 and "12 records" in capsys.readouterr().out
