"""Defects found with a corpus of bad files: compressed .npz bombs are refused before anything is
inflated, and CSV files without a header row are told so, with their real faults named."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.data.loaders import DataFileError, load_signals
from bearing_workbench.data.loaders.limits import MAX_INFLATION

FS = 10240.0
LENGTH = 1024
GIB = 1024**3


def _declare(path, member: str, size: int) -> None:
    """Make the zip directory (and the member's local header) declare `size` uncompressed bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        struct.pack_into("<I", data, archive.getinfo(member).header_offset + 22, size)
    entry = data.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    path.write_bytes(bytes(data))


def _bomb(path, shape=(32768, 4096), body_bytes=8 * 1024**2, padding=1024**2) -> int:
    """A ~1 MB .npz whose 'signals' member declares a float64 array of `shape` (1 GiB by default).

    Only `body_bytes` of zeros are really compressed (writing a real 1 GiB bomb takes seconds); the
    directory is then patched to declare the whole array, as a real bomb's would.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("signals.npy", "w") as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(member, header)
            member.write(bytes(body_bytes))
        archive.writestr("labels.npy", b"\x00" * padding, compress_type=zipfile.ZIP_STORED)
        header_length = archive.getinfo("signals.npy").file_size - body_bytes
    declared = header_length + int(np.prod(shape)) * 8
    _declare(path, "signals.npy", declared)
    return declared


def _peak_while(load) -> tuple[int, DataFileError]:
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError) as info:
            load()
        return tracemalloc.get_traced_memory()[1], info.value
    finally:
        tracemalloc.stop()


def test_a_compressed_bomb_is_refused_with_its_ratio_before_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    assert _bomb(path) > GIB
    on_disk = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        declared = sum(info.file_size for info in archive.infolist())
    assert 0.9e6 < on_disk < 1.3e6
    peak, error = _peak_while(lambda: load_signals(path))
    message = str(error)
    assert message.startswith("bomb.npz: its arrays would inflate to 1.0 GiB from 1.0 MiB on disk"), message
    assert f"({declared / on_disk:,.0f}:1)" in message and f"at most {MAX_INFLATION}:1" in message
    assert peak < 32 * 1024**2  # nothing near the declared gigabyte was allocated


def test_a_member_whose_header_claims_more_than_the_archive_holds_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("signals.npy", "w") as member:  # says 1 GiB, holds 64 KiB
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": (32768, 4096)}
            )
            member.write(np.random.default_rng(0).standard_normal(8192).tobytes())
    peak, error = _peak_while(lambda: load_signals(path, fs=FS))
    assert "array 'signals' is damaged or crafted: its header describes (32768, 4096) float64" in str(error)
    assert peak < 32 * 1024**2


def test_honest_compressed_archives_still_load(tmp_path):
    signals = np.random.default_rng(1).standard_normal((8, LENGTH)).astype(np.float32)
    labels = np.array(["healthy", "wear"] * 4)
    noisy = tmp_path / "noisy.npz"
    np.savez_compressed(noisy, signals=signals, labels=labels, fs=FS)
    assert np.array_equal(load_signals(noisy).signals, signals)
    quiet = tmp_path / "quiet.npz"  # compresses ~1000:1, but is small: allowed whatever its ratio
    np.savez_compressed(quiet, signals=np.zeros((8, LENGTH)), labels=labels, fs=FS)
    assert load_signals(quiet).n_records == 8


def test_the_size_limit_still_applies_to_what_an_archive_declares(tmp_path):
    path = tmp_path / "big.npz"
    np.savez_compressed(path, signals=np.zeros((4, LENGTH)), labels=np.array(["wear"] * 4), fs=FS)
    with pytest.raises(
        DataFileError,
        match=r"is too large: its arrays take 32\.\d KiB uncompressed, over the limit of 19.5 KiB",
    ):
        load_signals(path, max_bytes=20_000)


# --- CSV files without a header row -------------------------------------------------------------


def _cells(n=LENGTH, value="0.25", at=None, put=None):
    cells = [value] * n
    if at is not None:
        cells[at] = put
    return cells


def _csv(path, rows, header=True):
    lines = ([",".join(["label", *(f"s{i}" for i in range(LENGTH))])] if header else []) + rows
    path.write_text("\n".join(lines) + "\n")
    return path


def _row(label="healthy", **kwargs):
    return ",".join([label, *_cells(**kwargs)])


def test_a_csv_without_header_says_so_and_names_the_overflowing_cell(tmp_path):
    path = _csv(tmp_path / "noheader.csv", [_row(), _row(at=7, put="1e400")], header=False)
    with pytest.raises(DataFileError) as info:
        load_signals(path, fs=FS)
    message = str(info.value)
    assert message.startswith(
        "noheader.csv: has no header row: the first line must name the columns (label, record_id, s0...)"
    ), message
    assert "record 1 (line 2), column '9': 1e400 is infinite" in message  # label is column 1


def test_a_one_line_csv_without_header_is_not_called_only_a_header(tmp_path):
    path = _csv(tmp_path / "one.csv", [_row(at=3, put="1e400")], header=False)
    with pytest.raises(DataFileError, match="has no header row") as info:
        load_signals(path, fs=FS)
    assert "only a header" not in str(info.value)
    assert "record 0 (line 1), column '5': 1e400 is infinite" in str(info.value)


def test_a_ragged_csv_without_header_says_so_and_names_the_row(tmp_path):
    path = _csv(tmp_path / "ragged.csv", [_row(), _row(), _row(n=LENGTH - 5)], header=False)
    with pytest.raises(DataFileError) as info:
        load_signals(path, fs=FS)
    message = str(info.value)
    assert "has no header row" in message and "no 'label' column" not in message
    assert "record 2 (line 3) has 1020 cells, the first row has 1025" in message


def test_with_its_header_a_csv_overflow_names_the_row_and_column(tmp_path):
    path = _csv(tmp_path / "over.csv", [_row(), _row(), _row(at=4, put="1e400")])
    with pytest.raises(DataFileError, match=r"record 2 \(line 4\), column 's4': 1e400 is infinite"):
        load_signals(path, fs=FS)
    path = _csv(tmp_path / "f32.csv", [_row(at=0, put="1e39"), _row()])
    with pytest.raises(DataFileError, match=r"record 0 \(line 2\), column 's0': 1e39 is too large"):
        load_signals(path, fs=FS)


def test_with_its_header_a_ragged_csv_names_the_row(tmp_path):
    path = _csv(tmp_path / "ragged.csv", [_row(), _row(n=LENGTH - 3)])
    with pytest.raises(DataFileError, match=r"record 1 \(line 3\) has 1022 cells, the header has 1025"):
        load_signals(path, fs=FS)


@pytest.mark.parametrize(
    "names",
    [
        [str(i) for i in range(LENGTH)],  # what pd.DataFrame(signals).to_csv(index=False) writes
        [f"{i / FS:.6f}" for i in range(LENGTH)],  # times as column names
    ],
    ids=["sample numbers", "times"],
)
def test_numeric_column_names_that_increase_are_a_header(tmp_path, names):
    signals = np.random.default_rng(2).standard_normal((4, LENGTH))
    frame = pd.DataFrame(signals, columns=names)
    frame.insert(0, "label", ["healthy", "wear"] * 2)
    path = tmp_path / "numbered.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    loaded = load_signals(path, fs=FS)
    assert loaded.n_records == 4 and loaded.n_samples == LENGTH
