"""What the two diagram domains (``physics``, ``cs-diagram``) share.

* :mod:`~pipelines.diagram.kind`: the contract of a kind of figure (a seeded structure, its
  drawing, its edits, their checks, and questions with computed answers);
* :mod:`~pipelines.diagram.config`: the config both pipelines extend;
* :mod:`~pipelines.diagram.stages`: draw (with the edit mask), verify, decide.

A drawing is anything with ``svg()``, ``elements()`` (element id -> what draws it) and
``program()``. An edit pair's changed elements are the ids whose entries differ; each is drawn
alone (the rest of the SVG pruned, :func:`renderers.svg.safe.isolate`) in both images, and the mask
is the union of their painted boxes. The verifier then checks, independently of how the pair was
made, the kind's structural check, that no pixel outside the mask changed, and that the labels read
back by OCR.
"""
