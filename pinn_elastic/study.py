"""Collect the ``metrics.json`` of many runs (a Hydra multirun) into a table and a bar chart.

    pinn-elastic -m model.activation=gelu,gelu_tanh,tanh,silu,sin seed=0,1
    pinn-elastic-study outputs/multirun/<date>/<time>

writes ``study.md``, ``study.csv`` and ``study.png`` into that folder (or ``--out``): per value of
the grouping key (``--by``, default ``activation``) the median, best and worst relative L2
errors over the runs, and the median training time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from .atomic import atomic_path, write_text

COLUMNS = ("rel_l2_displacement", "rel_l2_stress", "train_seconds")


def collect(root: Path) -> list[dict[str, Any]]:
    """Every run's metrics under ``root`` (one ``metrics.json`` per run folder)."""
    rows = []
    for path in sorted(root.rglob("metrics.json")):
        metrics = json.loads(path.read_text())
        metrics["run"] = str(path.parent.relative_to(root)) or "."
        rows.append(metrics)
    return rows


def summarize(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """One row per value of ``by``, sorted by median displacement error."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(by)), []).append(row)
    summary = []
    for key, members in groups.items():
        entry: dict[str, Any] = {by: key, "runs": len(members)}
        for column in COLUMNS:
            values = [m[column] for m in members if m.get(column) is not None]
            entry[f"{column}_median"] = statistics.median(values) if values else None
            if column != "train_seconds":
                entry[f"{column}_best"] = min(values) if values else None
                entry[f"{column}_worst"] = max(values) if values else None
        entry["zero_curvature"] = any(m.get("zero_curvature_activation") for m in members)
        summary.append(entry)
    return sorted(summary, key=lambda e: e["rel_l2_displacement_median"] or float("inf"))


def markdown(summary: list[dict[str, Any]], by: str) -> str:
    """The summary as a Markdown table."""
    lines = [
        f"| {by} | runs | rel L2 displacement (median, best-worst) | rel L2 stress (median) "
        "| train s (median) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in summary:
        name = e[by] + (" (zero curvature)" if e["zero_curvature"] else "")
        lines.append(
            f"| {name} | {e['runs']} | {e['rel_l2_displacement_median']:.2e} "
            f"({e['rel_l2_displacement_best']:.1e} - {e['rel_l2_displacement_worst']:.1e}) "
            f"| {e['rel_l2_stress_median']:.2e} | {e['train_seconds_median']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def to_csv(summary: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(summary[0]))
    writer.writeheader()
    writer.writerows(summary)
    return buffer.getvalue()


def bar_chart(summary: list[dict[str, Any]], by: str, path: Path) -> None:
    """Median relative L2 displacement error per group (log scale), training time on the bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e[by] for e in summary]
    errors = [e["rel_l2_displacement_median"] for e in summary]
    low = [e["rel_l2_displacement_median"] - e["rel_l2_displacement_best"] for e in summary]
    high = [e["rel_l2_displacement_worst"] - e["rel_l2_displacement_median"] for e in summary]
    fig, ax = plt.subplots(figsize=(1.3 * len(names) + 2, 4))
    colors = ["tab:red" if e["zero_curvature"] else "tab:blue" for e in summary]
    bars = ax.bar(names, errors, yerr=[low, high], color=colors, capsize=4)
    ax.set_yscale("log")
    ax.set_ylabel("relative L2 displacement error")
    ax.set_xlabel(by)
    for bar, e in zip(bars, summary):
        ax.annotate(
            f"{e['train_seconds_median']:.0f} s",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )
    ax.grid(True, axis="y", alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pinn-elastic-study", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a multirun folder (searched recursively for metrics.json)")
    parser.add_argument("--by", default="activation", help="metrics key to group by (default: activation)")
    parser.add_argument("--out", type=Path, help="where to write study.md/.csv/.png (default: ROOT)")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        sys.exit(f"pinn-elastic-study: error: {args.root} is not a folder")
    rows = collect(args.root)
    if not rows:
        sys.exit(f"pinn-elastic-study: error: no metrics.json under {args.root}")
    if any(args.by not in row for row in rows):
        sys.exit(f"pinn-elastic-study: error: --by {args.by!r} is not a key of every metrics.json")
    out = args.out or args.root
    summary = summarize(rows, args.by)
    table = markdown(summary, args.by)
    write_text(out / "study.md", table)
    write_text(out / "study.csv", to_csv(summary))
    bar_chart(summary, args.by, out / "study.png")
    print(table, end="")
    print(f"\nwritten: {out / 'study.md'}, {out / 'study.csv'}, {out / 'study.png'}")


if __name__ == "__main__":
    main()
