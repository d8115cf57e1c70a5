"""Reports on runs: ``srl report RUN_DIR...`` writes one self-contained HTML page.

- :mod:`srlkit.report.runs` reads training, evaluation, demo and loop run folders;
- :mod:`srlkit.report.payload` turns them into the page's data (with the reward's matching blocks);
- :mod:`srlkit.report.figures` builds the plotly figures;
- :mod:`srlkit.report.page` writes the page (``ReportConfig``, :func:`run_report`).
"""

from srlkit.report.page import ReportConfig, run_report

__all__ = ["ReportConfig", "run_report"]
