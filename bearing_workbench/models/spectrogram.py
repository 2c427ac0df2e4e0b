"""Spectrogram family: a 2-D CNN on STFT or CWT time-frequency images of the signal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bearing_workbench.config import FieldError
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family
from bearing_workbench.models.validation import input_length

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.validation import DatasetFacts


class SpectrogramParams(FamilyParams):
    """Parameters of the spectrogram family."""

    transform: Literal["stft", "cwt"] = Field(
        "stft",
        description="Time-frequency image: stft (short-time Fourier) or cwt (continuous wavelet, slower).",
    )
    stft_window: Literal[128, 256, 512] = Field(
        256, description="STFT window in samples: longer gives finer frequency but coarser time resolution."
    )
    n_scales: int = Field(64, ge=16, le=256, description="Wavelet scales (image rows) when transform is cwt.")
    dual_stream: bool = Field(
        False,
        description="Add a 1-D branch on the raw signal, fused with the image branch before the output.",
    )
    base_channels: int = Field(
        16, ge=8, le=128, description="Channels of the first 2-D convolution; doubled per stage."
    )
    dropout: float = Field(0.3, ge=0.0, lt=1.0, description="Dropout probability before the output layer.")


def _check(
    params: SpectrogramParams, config: ExperimentConfig, facts: DatasetFacts | None
) -> list[FieldError]:
    length = input_length(config, facts)
    if params.transform == "stft" and length is not None and params.stft_window > length:
        return [
            FieldError("model.params.stft_window", f"must be at most the input length ({length} samples)")
        ]
    return []


SPEC = register_family(
    FamilySpec(
        name="spectrogram",
        title="Spectrogram CNN",
        description="A 2-D CNN on STFT or wavelet images, optionally fused with a raw-signal branch.",
        params=SpectrogramParams,
        input_kind="spectrogram",
        check=_check,
    )
)
