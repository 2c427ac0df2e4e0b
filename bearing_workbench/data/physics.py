"""Hydrodynamic journal-bearing physics used by the signal generator.

Everything the generator stores as metadata is computed here from the operating point, and the
signatures (`signatures.py`) are shaped by these values, so the metadata is what made the signal.

- Oil viscosity follows the Walther equation (ASTM D341): log10(log10(nu + 0.7)) = A - B log10(T),
  T in kelvin, fitted to the oil grade's kinematic viscosity at 40 and 100 degC; dynamic viscosity
  is mu = rho * nu.
- Sommerfeld number S = (mu N / P) (R / C)^2 with N in rev/s and P = W / (L D) the load per
  projected area (Hamrock, *Fundamentals of Fluid Film Lubrication*, ch. 10). High S means a
  lightly loaded, fast or viscous bearing.
- Eccentricity ratio from the short-bearing (Ocvirk) solution,
  S = (D/L)^2 (1 - e^2)^2 / (pi e sqrt(pi^2 (1 - e^2) + 16 e^2)), solved for e by bisection
  (S falls monotonically as e grows). Short-bearing theory is approximate at L/D = 1 but gives
  the right trend, which is what the signatures use.
- Reynolds number Re = rho U C / mu with U = omega R the journal surface speed: the film stays
  laminar here (Re of order 10-100); it scales the fluid-film flow noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class OilGrade:
    """A lubricant by its ISO viscosity-grade data points."""

    name: str = "ISO VG 46"
    nu40_cst: float = 46.0
    nu100_cst: float = 6.8
    density_kg_m3: float = 870.0

    def walther_coefficients(self) -> tuple[float, float]:
        t1, t2 = np.log10(313.15), np.log10(373.15)
        y1 = np.log10(np.log10(self.nu40_cst + 0.7))
        y2 = np.log10(np.log10(self.nu100_cst + 0.7))
        b = (y1 - y2) / (t2 - t1)
        return float(y1 + b * t1), float(b)


@dataclass(frozen=True)
class BearingGeometry:
    """A plain journal bearing: journal radius, length, radial clearance and rated load."""

    radius_m: float = 0.025
    length_m: float = 0.050
    clearance_m: float = 50e-6
    rated_load_n: float = 6000.0
    oil: OilGrade = OilGrade()

    @property
    def diameter_m(self) -> float:
        return 2.0 * self.radius_m

    def as_dict(self) -> dict:
        return asdict(self)


def kinematic_viscosity_cst(temperature_c: np.ndarray | float, oil: OilGrade = OilGrade()) -> np.ndarray:
    """Kinematic viscosity (cSt) at a temperature, by the Walther equation."""
    a, b = oil.walther_coefficients()
    t_k = np.asarray(temperature_c, dtype=np.float64) + 273.15
    return 10.0 ** (10.0 ** (a - b * np.log10(t_k))) - 0.7


def dynamic_viscosity(temperature_c: np.ndarray | float, oil: OilGrade = OilGrade()) -> np.ndarray:
    """Dynamic viscosity (Pa s) at a temperature."""
    return kinematic_viscosity_cst(temperature_c, oil) * 1e-6 * oil.density_kg_m3


def sommerfeld_number(
    viscosity_pa_s: np.ndarray | float,
    speed_hz: np.ndarray | float,
    load_n: np.ndarray | float,
    geometry: BearingGeometry,
    clearance_m: np.ndarray | float | None = None,
) -> np.ndarray:
    """Sommerfeld number S = (mu N / P)(R / C)^2 (dimensionless)."""
    c = geometry.clearance_m if clearance_m is None else np.asarray(clearance_m)
    pressure = np.asarray(load_n) / (geometry.length_m * geometry.diameter_m)
    return np.asarray(viscosity_pa_s) * np.asarray(speed_hz) / pressure * (geometry.radius_m / c) ** 2


def _ocvirk_sommerfeld(eps: np.ndarray, l_over_d: float) -> np.ndarray:
    one = 1.0 - eps**2
    return (1.0 / l_over_d) ** 2 * one**2 / (np.pi * eps * np.sqrt(np.pi**2 * one + 16.0 * eps**2))


def eccentricity_ratio(sommerfeld: np.ndarray | float, geometry: BearingGeometry) -> np.ndarray:
    """Eccentricity ratio e in (0, 1) for a Sommerfeld number, short-bearing theory (vectorised)."""
    s = np.asarray(sommerfeld, dtype=np.float64)
    l_over_d = geometry.length_m / geometry.diameter_m
    lo = np.full(s.shape, 1e-4)
    hi = np.full(s.shape, 1.0 - 1e-6)
    for _ in range(48):  # bisection to ~1e-14: the relation has no closed-form inverse
        mid = 0.5 * (lo + hi)
        too_light = _ocvirk_sommerfeld(mid, l_over_d) > s  # S too high at mid -> e must grow
        lo = np.where(too_light, mid, lo)
        hi = np.where(too_light, hi, mid)
    return 0.5 * (lo + hi)


def reynolds_number(
    viscosity_pa_s: np.ndarray | float,
    speed_hz: np.ndarray | float,
    geometry: BearingGeometry,
    clearance_m: np.ndarray | float | None = None,
) -> np.ndarray:
    """Film Reynolds number Re = rho (omega R) C / mu."""
    c = geometry.clearance_m if clearance_m is None else np.asarray(clearance_m)
    surface_speed = 2.0 * np.pi * np.asarray(speed_hz) * geometry.radius_m
    return geometry.oil.density_kg_m3 * surface_speed * c / np.asarray(viscosity_pa_s)


def whirl_frequency_ratio(eccentricity: np.ndarray | float) -> np.ndarray:
    """Oil-whirl frequency as a fraction of shaft speed: 0.48 when centred, down to 0.42 when loaded.

    An ideal centred journal whirls at half speed; fluid inertia and film eccentricity pull the
    observed ratio down into 0.42-0.48 (Muszynska, *Rotordynamics*, ch. 4).
    """
    return 0.48 - 0.06 * np.clip(np.asarray(eccentricity) / 0.7, 0.0, 1.0)


def whirl_tendency(eccentricity: np.ndarray | float) -> np.ndarray:
    """Relative oil-whirl amplitude in [0.35, 1]: largest for a lightly loaded, centred journal.

    Whirl is an instability of lightly loaded bearings: low eccentricity (high Sommerfeld number)
    means weak cross-coupled stiffness restraint, so whirl grows; a heavily loaded journal sits
    eccentric and stable.
    """
    return np.clip(1.0 - np.asarray(eccentricity) / 0.8, 0.35, 1.0)


def film_response_factor(eccentricity: np.ndarray | float) -> np.ndarray:
    """Scale of the synchronous response: a stiffer (more eccentric) oil film transmits less motion."""
    return 1.15 - 0.5 * np.asarray(eccentricity)
