"""Chemistry depiction: RDKit draws, we regroup its SVG into stable per-atom and per-bond elements."""
