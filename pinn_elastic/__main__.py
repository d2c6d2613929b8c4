"""``python -m pinn_elastic`` runs the same command as ``pinn-elastic``."""

from .cli import main

main()
