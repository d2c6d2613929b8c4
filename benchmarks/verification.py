"""Run the verification suite with the defaults and write its table.

    python benchmarks/verification.py                       # every problem, seeds 0 1 2
    python benchmarks/verification.py --problems curved_bar --seeds 0
    python benchmarks/verification.py --merge a/verification.json b/verification.json --out c

Prints one JSON line per run, then the Markdown table; writes ``verification.json`` and
``verification.md`` into ``--out`` (default ``benchmarks/results/verification``). Extra Hydra
overrides after ``--`` apply to every run (e.g. ``-- train.hard_bc=false``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import torch

from pinn_elastic.atomic import write_text
from pinn_elastic.verification import problems, run_suite, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="*", default=None)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, one CPU thread each")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/verification"))
    parser.add_argument(
        "--merge", nargs="+", type=Path, help="combine these verification.json files instead of running"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (after --)")
    args = parser.parse_args()
    if args.merge:
        records = [json.loads(path.read_text()) for path in args.merge]
        rows = [row for record in records for row in record["runs"]]
        order = {p.name: i for i, p in enumerate(problems())}
        rows.sort(key=lambda r: (order.get(r["problem"], len(order)), r["seed"]))
        sources = [{k: v for k, v in r.items() if k != "runs"} for r in records]
        record = {"merged": [str(p) for p in args.merge], "sources": sources, "runs": rows}
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "verification.json", json.dumps(record, indent=2) + "\n")
        write_text(args.out / "verification.md", table(rows) + "\n")
        print(table(rows))
        return
    rows = run_suite(args.problems, args.seeds, args.out / "runs", tuple(args.overrides), jobs=args.jobs)
    record = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "threads": 1 if args.jobs > 1 else torch.get_num_threads(),
        "jobs": args.jobs,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "overrides": args.overrides,
        "runs": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(args.out / "verification.json", json.dumps(record, indent=2) + "\n")
    text = table(rows)
    write_text(args.out / "verification.md", text + "\n")
    print(text)


if __name__ == "__main__":
    main()
