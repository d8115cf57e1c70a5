"""A comparison of methods as a results file states it (``srl demo``'s ``results.json``).

The file carries its own method list (``methods``: name and label, in table order) and its
reading in plain words (``reading``), so the report renders what the run measured and imports
nothing of the program that made it.
"""

from __future__ import annotations

from typing import Any

COMPARED = (
    ("accuracy", "hard accuracy (greedy)"),
    ("correct_chains_rate", "fully correct solutions"),
    ("exact_step", "exact next step"),
    ("step_reward", "step reward"),
)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def method_rows(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Compared metrics of every listed method (fully correct solutions as a rate)."""
    rows: dict[str, dict[str, float]] = {}
    for method in results.get("methods") or []:
        if not isinstance(method, dict):
            continue
        r = results.get(str(method.get("name")))
        if not isinstance(r, dict):
            continue
        row = {k: v for k, _ in COMPARED if (v := _number(r.get(k))) is not None}
        chains, n = _number(r.get("correct_chains")), _number(r.get("n"))
        if chains is not None and n:
            row["correct_chains_rate"] = chains / n
        rows[str(method.get("label", method.get("name")))] = row
    return rows


def comparison_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """(metric name, {method label: value}) for each compared metric, methods in table order."""
    rows = method_rows(results)
    return [
        (name, {label: values[key] for label, values in rows.items() if key in values})
        for key, name in COMPARED
        if any(key in values for values in rows.values())
    ]


def reading(results: dict[str, Any]) -> list[str]:
    """The run's own reading of its numbers (lines of text)."""
    lines = results.get("reading")
    return [str(line) for line in lines] if isinstance(lines, list) else []
