"""The example notebook runs top to bottom on the installed capplan, as an analyst would open it."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "experiments" / "notebooks" / "capplan_tour.ipynb"


@pytest.mark.slow
def test_the_tour_notebook_runs_top_to_bottom(monkeypatch):
    monkeypatch.delenv(
        "MPLBACKEND", raising=False
    )  # importing streamlit (the app's tests) sets Agg: no inline plots
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "rows_read" in text and "FTE" in text and "fte_total" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the forecast's plot
