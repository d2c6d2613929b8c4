"""Fields while training, as a ParaView time series (``output.snapshots_every=N``).

Every ``N`` training steps (Adam steps; L-BFGS at the end of each chunk of ``log_every``
iterations that crosses a multiple of ``N``) the fields on the evaluation mesh are written to
``snapshots/fields_<step>.vtu`` and ``snapshots.pvd`` lists them with the step as the time, so
ParaView plays the run as an animation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import write_text
from .evaluation import predict
from .export import point_data, write_vtu

if TYPE_CHECKING:
    from .runner import Solver
    from .training import Trainer


class Snapshots:
    """The ``at_step`` hook of :class:`~pinn_elastic.training.Trainer` that writes snapshots."""

    def __init__(self, solver: Solver, output_dir: Path) -> None:
        self.solver, self.folder = solver, output_dir / "snapshots"
        self.pvd = output_dir / "snapshots.pvd"
        self.every = solver.config.output.snapshots_every
        self.mesh = solver.problem.geometry.mesh(solver.config.output.resolution)
        # a resumed run keeps the snapshots written before the interruption
        self.written = sorted((int(f.stem.split("_")[1]), f.name) for f in self.folder.glob("fields_*.vtu"))
        self.last = -1

    def global_step(self, trainer: Trainer) -> int:
        offset = 0 if trainer.phase == "adam" else trainer.history.adam_steps_run
        return offset + trainer.step

    def __call__(self, trainer: Trainer) -> None:
        step = self.global_step(trainer)
        if step // self.every == self.last // self.every and self.last >= 0:
            return
        self.last = step
        solver = self.solver
        fields = predict(solver.field, solver.scales, solver.problem.material, self.mesh.points)
        name = f"fields_{step:07d}.vtu"
        write_vtu(self.folder / name, self.mesh, point_data(fields, None))
        self.written = [w for w in self.written if w[0] != step] + [(step, name)]
        entries = "\n".join(
            f'    <DataSet timestep="{s}" group="" part="0" file="snapshots/{n}"/>' for s, n in self.written
        )
        write_text(
            self.pvd,
            '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1">\n  <Collection>\n'
            f"{entries}\n  </Collection>\n</VTKFile>\n",
        )
