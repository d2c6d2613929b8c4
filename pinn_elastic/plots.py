"""Matplotlib figures for a run (headless, written atomically)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .atomic import atomic_path
from .training import History


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format=path.suffix.lstrip("."))
    plt.close(fig)


def plot_history(history: History, path: Path) -> None:
    """Total loss and every named term against step, log scale, the L-BFGS start marked."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.semilogy(history.step, history.loss, "k-", lw=2, label="total")
    for name, values in history.terms.items():
        ax.semilogy(history.step, values, lw=1, label=name)
    if history.lbfgs_start is not None:
        ax.axvline(history.lbfgs_start, color="gray", ls="--", lw=1)
        ax.text(history.lbfgs_start, ax.get_ylim()[1], " L-BFGS", va="top", color="gray")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nondimensional)")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    _save(fig, path)


def plot_fields(
    points: np.ndarray,
    triangles: np.ndarray,
    panels: dict[str, np.ndarray],
    axis_names: tuple[str, str],
    path: Path,
    title: str | None = None,
) -> None:
    """One filled-contour panel per named nodal field on the triangulation, each with a
    colorbar labelled by the field's name; axes in the case's length unit."""
    count = len(panels)
    cols = 2 if count > 1 else 1
    rows = (count + cols - 1) // cols
    span = np.ptp(points, axis=0)
    aspect = span[1] / span[0] if span[0] > 0 else 1.0
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, max(2.2, 5 * aspect + 1) * rows), squeeze=False)
    for ax, (name, values) in zip(axes.flat, panels.items()):
        contour = ax.tricontourf(points[:, 0], points[:, 1], triangles, values, levels=32, cmap="viridis")
        bar = fig.colorbar(contour, ax=ax, shrink=0.85)
        bar.set_label(name)
        ax.set_title(name)
        ax.set_xlabel(f"{axis_names[0]} (length unit of the case)")
        ax.set_ylabel(f"{axis_names[1]} (length unit of the case)")
        ax.set_aspect("equal")
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def plot_line(s: np.ndarray, pinn: np.ndarray, exact: np.ndarray | None, label: str, path: Path) -> None:
    """A field along a line: PINN against exact."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(s, pinn, "b-", lw=2, label="PINN")
    if exact is not None:
        ax.plot(s, exact, "k--", lw=1.5, label="exact")
    ax.set_xlabel("distance along the line")
    ax.set_ylabel(label)
    ax.legend()
    ax.grid(True, alpha=0.3)
    _save(fig, path)
