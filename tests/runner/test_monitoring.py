"""LogTail: the incremental tail of a run's training.log a live view shows."""

from __future__ import annotations

from bearing_workbench.runner.monitoring import LogTail
from bearing_workbench.store import Store


def test_log_tail_reads_what_was_written_since_the_last_read(tmp_path):
    store = Store(workspace=tmp_path)
    experiment_id = store.create_experiment("run a", "cnn1d", {"training": {"epochs": 2}})
    tail = LogTail.of_experiment(experiment_id, store.workspace, max_lines=2)
    assert not tail.read() and tail.text == ""  # no log yet
    tail.path.parent.mkdir(parents=True)
    tail.path.write_text("a\nb\nc\nhalf")
    assert tail.read() and tail.text == "b\nc"
    with tail.path.open("a") as out:
        out.write(" done\n")
    assert tail.read() and tail.text == "c\nhalf done"
    assert not tail.read()
    store.dispose()
