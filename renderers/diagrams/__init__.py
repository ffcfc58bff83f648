"""Computer-science diagrams: pinned-position Graphviz drawings and fixed-layout matplotlib charts,
both as SVG whose elements carry ids, so an edit pair can name exactly what changed."""
