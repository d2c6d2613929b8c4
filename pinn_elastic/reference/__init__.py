"""Reference solutions other than analytic ones (a finite-element cross-check)."""
