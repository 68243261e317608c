"""A workflow drawn as a diagram (`foi workflow diagram`): `transitions`' own diagram support
drawing a machine built from the same configuration as the shared one, in Mermaid (text that
GitHub and most Markdown viewers render; needs no Graphviz)."""

from __future__ import annotations

from typing import Any

from foi_workflow.domain.definition import MachineDef

FORMATS = ("mermaid",)


def diagram(mdef: MachineDef, fmt: str = "mermaid") -> str:
    """The workflow's states (with their Chinese labels), transitions and guards."""
    from transitions import State
    from transitions.extensions.diagrams import GraphMachine

    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r}")

    class LabelledState(State):
        def __init__(self, *args: Any, label: str = "", **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.label = label  # read by the diagram's markup

    class Drawing(GraphMachine):
        state_cls = LabelledState

    config = mdef.machine_config()
    # The shared machine has no model; the drawing is its own, which also marks the initial state.
    del config["model"]
    config["states"] = [{"name": s.name, "label": f"{s.name} {s.label}"} for s in mdef.states.values()]
    drawing = Drawing(graph_engine="mermaid", show_conditions=True, title=mdef.name, **config)
    drawing.model_graphs[id(drawing)].reset_styling()  # a definition, not one case: no state is "active"
    source: str = drawing.get_graph().draw(None)
    return "".join(line.rstrip() + "\n" for line in source.strip().splitlines())
