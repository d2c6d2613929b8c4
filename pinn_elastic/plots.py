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
    """Total loss and every named term against step, log scale, the L-BFGS start marked (a run
    whose start met ``train.tolerance``: the start alone, as points)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    marker = "o" if len(history.step) == 1 else None  # the start alone: a line would not show
    ax.semilogy(history.step, history.loss, "k-", lw=2, marker=marker, label="total")
    for name, values in history.terms.items():
        ax.semilogy(history.step, values, lw=1, marker=marker, label=name)
    if history.tolerance_met:
        ax.set_title("training skipped: the polished least-squares start met train.tolerance", fontsize=9)
    if history.lbfgs_start is not None:
        ax.axvline(history.lbfgs_start, color="gray", ls="--", lw=1)
        ax.text(history.lbfgs_start, ax.get_ylim()[1], " L-BFGS", va="top", color="gray")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nondimensional)")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    _save(fig, path)


def plot_unknowns(history: History, final: dict[str, float], truth: dict[str, float], path: Path) -> None:
    """Each unknown of an inverse run against the training step, with the identified value
    (after the final Gauss-Newton) and, where known, the truth."""
    names = list(history.traced)
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.6 * len(names)), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        ax.plot(history.traced_step, history.traced[name], "k-", lw=1.5, label="training")
        ax.axhline(final[name], color="tab:blue", ls="--", lw=1, label=f"identified {final[name]:.6g}")
        if name in truth:
            ax.axhline(truth[name], color="tab:green", ls=":", lw=1.5, label=f"truth {truth[name]:.6g}")
        if history.lbfgs_start is not None:
            ax.axvline(history.lbfgs_start, color="gray", ls="--", lw=0.8)
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    _save(fig, path)


def deformation_factor(points: np.ndarray, displacement: np.ndarray) -> float:
    """A round magnification that makes the largest displacement 8 % of the body's size."""
    largest = float(np.linalg.norm(displacement, axis=1).max())
    if not largest > 0:
        return 1.0
    raw = 0.08 * float(np.ptp(points, axis=0).max()) / largest
    return float(f"{raw:.1g}")


def plot_fields(
    points: np.ndarray,
    triangles: np.ndarray,
    panels: dict[str, np.ndarray],
    axis_labels: tuple[str, str],
    path: Path,
    title: str | None = None,
    displacement: np.ndarray | None = None,
) -> None:
    """One filled-contour panel per named nodal field on the triangulation (the name, units
    included, labels the panel and its colorbar), and with ``displacement`` (in-plane
    components) a last panel with the deformed shape over the undeformed one, the
    magnification stated."""
    count = len(panels) + (displacement is not None)
    cols = 2 if count > 1 else 1
    rows = (count + cols - 1) // cols
    span = np.ptp(points, axis=0)
    aspect = span[1] / span[0] if span[0] > 0 else 1.0
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, max(2.2, 5 * aspect + 1) * rows), squeeze=False)
    flat = list(axes.flat)
    for ax, (name, values) in zip(flat, panels.items()):
        contour = ax.tricontourf(points[:, 0], points[:, 1], triangles, values, levels=32, cmap="viridis")
        fig.colorbar(contour, ax=ax, shrink=0.85).set_label(name)
        ax.set_title(name)
    if displacement is not None:
        ax = flat[len(panels)]
        factor = deformation_factor(points, displacement)
        moved = points + factor * displacement
        ax.triplot(points[:, 0], points[:, 1], triangles, color="0.8", lw=0.3)
        ax.triplot(moved[:, 0], moved[:, 1], triangles, color="tab:blue", lw=0.3)
        ax.set_title(f"deformed shape (blue), displacement x {factor:g}; undeformed in grey")
    for ax in flat[:count]:
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        ax.set_aspect("equal")
    for ax in flat[count:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def plot_line(
    s: np.ndarray, pinn: np.ndarray, exact: np.ndarray | None, label: str, path: Path, xlabel: str
) -> None:
    """A field along a line: PINN against exact."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(s, pinn, "b-", lw=2, label="PINN")
    if exact is not None:
        ax.plot(s, exact, "k--", lw=1.5, label="exact")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    ax.legend()
    ax.grid(True, alpha=0.3)
    _save(fig, path)
