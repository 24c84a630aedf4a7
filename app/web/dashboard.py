"""Managers' dashboard: charts with their tables and Excel exports, the waiting heat map.

Every number links to the instance list (tracking.instances) filtered to the cases it counts;
the links are built here, from each cell's filter pairs, and handed to the charts in the same
JSON as the table's numbers.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from app.services import stats, stats_export, stats_waiting
from app.services.stats import Filters, Link, Table
from app.web.pages import OUTCOME_LABELS

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_PATH = "/manage/instances"


def list_url(link: Link | None) -> str | None:
    """The instance list filtered by `link`; a parameter given twice means either value."""
    if link is None:
        return None
    params: dict[str, list[str]] = defaultdict(list)
    for key, value in link:
        params[key].append(value)
    try:
        return url_for("tracking.instances", **params)
    except BuildError:  # the list page is not registered (yet): same path and parameters
        return f"{LIST_PATH}?{urlencode(link)}"


def _filters() -> Filters:
    return stats.filters_for(current_user, request.args.get("year", type=int), request.args.get("county"),
                             request.args.get("committee"))


def filter_args(filters: Filters) -> dict[str, Any]:
    args: dict[str, Any] = {"year": filters.year}
    if filters.county:
        args["county"] = filters.county
    if filters.committee:
        args["committee"] = filters.committee
    return args


def view(table: Table, filters: Filters, export: str | None = None) -> dict[str, Any]:
    """What the chart section needs: the table, its links, the chart's JSON and the export URL."""
    urls = [[list_url(c.link) for c in r.cells] for r in table.rows]
    chart = {
        "key": table.key, "type": table.chart, "title": table.title,
        "labels": [r.label for r in table.rows],
        "datasets": [{"key": table.columns[i].key, "label": table.columns[i].label, "unit": table.columns[i].unit,
                      "data": [r.cells[i].value for r in table.rows], "urls": [u[i] for u in urls]}
                     for i in table.chart_columns],
    }
    return {"table": table, "urls": urls, "row_urls": [list_url(r.link) for r in table.rows], "chart": chart,
            "export": export or url_for("dashboard.export", chart=table.key, **filter_args(filters))}


def _heatmap_links(table: Table, filters: Filters) -> list[tuple[str, str, int]]:
    """(process name, heat map URL, waiting count) per process in the waiting table."""
    counts: dict[str, int] = defaultdict(int)
    names = stats.process_names()
    for row in table.rows:
        counts[row.key.split(":", 1)[0]] += int(row.cells[0].value or 0)
    return [(names.get(pid, pid), url_for("dashboard.waiting", process_id=pid, **filter_args(filters)), n)
            for pid, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


@bp.get("")
@login_required
def index():
    filters = _filters()
    tables = stats.dashboard(current_user, filters, OUTCOME_LABELS)
    waiting = next(t for t in tables if t.key == "waiting")
    return render_template("dashboard/index.html", filters=filters, choices=stats.choices(current_user, filters.year),
                           views=[view(t, filters) for t in tables], args=filter_args(filters),
                           heatmaps=_heatmap_links(waiting, filters))


def _xlsx(table: Table, filters: Filters):
    content = stats_export.workbook(table, filters)
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=f"{table.title}.xlsx")


@bp.get("/<chart>.xlsx")
@login_required
def export(chart: str):
    filters = _filters()
    return _xlsx(stats.table(current_user, filters, chart, OUTCOME_LABELS), filters)


@bp.get("/waiting/<process_id>")
@login_required
def waiting(process_id: str):
    filters = _filters()
    heat = stats_waiting.heatmap(current_user, filters, process_id)
    export_url = url_for("dashboard.waiting_export", process_id=process_id, **filter_args(filters))
    cells = {s.bpmn_id: {"count": s.count, "average": s.average, "longest": s.longest, "overdue": s.overdue,
                         "name": s.name, "url": list_url((*filters.base_link(process_id), ("step", s.bpmn_id)))}
             for s in heat.steps}
    return render_template("dashboard/waiting.html", heat=heat, filters=filters, args=filter_args(filters),
                           choices=stats.choices(current_user, filters.year),
                           section=view(heat.table, filters, export_url), cells=cells)


@bp.get("/waiting/<process_id>.xlsx")
@login_required
def waiting_export(process_id: str):
    filters = _filters()
    return _xlsx(stats_waiting.heatmap(current_user, filters, process_id).table, filters)
