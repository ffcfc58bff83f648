"""Every diagram kind of ``synth cs-diagram`` by name (the values of the ``kinds`` config key)."""

from pipelines.cs_diagram.kinds.automata import DFA, NFA
from pipelines.cs_diagram.kinds.charts import BarChart, LineChart, PieChart, ScatterChart
from pipelines.cs_diagram.kinds.flowchart import Flowchart
from pipelines.cs_diagram.kinds.graphs import GraphBFS, GraphDFS, GraphPath
from pipelines.cs_diagram.kinds.sequences import Array, LinkedList, Queue, Stack
from pipelines.cs_diagram.kinds.trees import BST, Heap
from pipelines.diagram.kind import Kind, Question, Text2
from synth.sampling import NotApplicable

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        BST(),
        Heap(),
        LinkedList(),
        Stack(),
        Queue(),
        Array(),
        GraphBFS(),
        GraphDFS(),
        GraphPath(),
        DFA(),
        NFA(),
        Flowchart(),
        BarChart(),
        LineChart(),
        PieChart(),
        ScatterChart(),
    )
}

__all__ = ["KINDS", "Kind", "NotApplicable", "Question", "Text2"]
