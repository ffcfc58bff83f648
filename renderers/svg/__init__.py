"""SVG: a safe renderer for any SVG (ours, Graphviz's, an LLM's) and the physics figure programs."""
