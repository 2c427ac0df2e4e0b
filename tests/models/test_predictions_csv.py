"""The predictions CSV: probabilities rounded to what a model holds, no float noise, read back the same."""

from __future__ import annotations

import numpy as np

from bearing_workbench.models.predictions import make_predictions, predictions_csv, read_predictions


def test_probabilities_are_written_without_float_noise(tmp_path) -> None:
    # Defect 7: the CSV showed values such as 0.30000000000000004.
    third = 1 / 3
    out = np.float32(0.123456789)  # a float32 model output
    probs = np.array([[0.1 + 0.2, 0.7, 0.0], [third, third, third], [out, 1 - out, 0.0]])
    predictions = make_predictions(["a", "b", "c"], np.array([1, 0, 1]), probs, ("x", "y", "z"))
    text = predictions_csv(predictions)
    lines = text.splitlines()
    assert lines[1] == "a,y,y,0.3,0.7,0"
    assert lines[2] == "b,x,x,0.333333333,0.333333333,0.333333333"
    assert "0000000" not in text and "9999999" not in text
    path = tmp_path / "predictions_test.csv"
    path.write_text(text, encoding="utf-8")
    back = read_predictions(path)
    assert back.record_ids == predictions.record_ids and np.array_equal(back.y_pred, predictions.y_pred)
    np.testing.assert_allclose(back.probs, predictions.probs, rtol=1e-8)
    assert back.probs[2, 0].astype(np.float32) == out  # a float32 output reads back as itself
