"""Named Hydra overrides shared by the benchmark scripts: engine, output layer, precision."""

PLAIN_F32 = ["dtype=float32", "train.output_layer=train"]

VARIANTS: dict[str, list[str]] = {
    "default (forward, solve, float64)": [],
    "forward+compile, solve, float64": ["train.compile=true"],
    "forward, solve, float32": ["dtype=float32"],
    "mixed precision (Adam float32, L-BFGS float64)": ["dtype=mixed"],
    "forward, plain PINN, float32": PLAIN_F32,
    "forward+compile, plain PINN, float32": [*PLAIN_F32, "train.compile=true"],
    "autograd, plain PINN, float32": [*PLAIN_F32, "train.derivatives=autograd"],
    "autograd, plain PINN, float64": ["train.output_layer=train", "train.derivatives=autograd"],
}


def pick(*names: str) -> dict[str, list[str]]:
    """The named subset, in the given order."""
    return {name: VARIANTS[name] for name in names}
