"""The one gradient-check helper: an exact Jacobian against central finite differences."""
from __future__ import annotations

import numpy as np


def central_differences(function, point: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """∂function/∂point by central differences; function maps an (n,) array to an (m,) array."""
    point = np.asarray(point, dtype=float)
    columns = []
    for k in range(point.size):
        offset = np.zeros_like(point)
        offset.flat[k] = step
        columns.append((np.asarray(function(point + offset)) - np.asarray(function(point - offset))) / (2 * step))
    return np.stack(columns, axis=-1)


def assert_jacobian(function, point, exact, rtol: float = 1e-6, atol: float = 1e-9, step: float = 1e-6) -> None:
    """Assert that `exact` (m×n) is the Jacobian of `function` at `point`, to finite-difference accuracy."""
    approximate = central_differences(function, point, step)
    exact = np.asarray(exact, dtype=float).reshape(approximate.shape)
    scale = max(np.abs(approximate).max(), np.abs(exact).max(), 1.0)
    error = np.abs(approximate - exact).max() / scale
    assert error < rtol or np.allclose(approximate, exact, rtol=rtol, atol=atol), (
        f"exact Jacobian differs from central differences by {error:.3g} (relative)\nexact:\n{exact}\n"
        f"finite differences:\n{approximate}")
