"""Sections -> one self-contained HTML page (Jinja2, autoescaped, plotly.js and our scripts inlined)."""

from __future__ import annotations

import math
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import jinja2

from reportgen.compute.slice_statistics import p_text

# No host sources anywhere: the page can't fetch, post or load anything from the network.
# 'unsafe-eval' is needed by plotly's WebGL scatter (regl compiles its shaders' glue with Function).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


def template_dir() -> Path:
    return Path(str(files("reportgen.templates")))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _format_number
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"
    env.filters["counted"] = counted
    env.filters["p"] = p_text
    env.filters["plain"] = plain_value
    return env


def plain_value(value, nested: bool = False) -> str:
    """A provenance value in words, not Python's reprs: a mapping as "key value" pairs (a nested one in brackets),
    a list comma-separated, None or an empty one as "none"."""
    if value is None or isinstance(value, (dict, list, tuple)) and not value:
        return "none"
    if isinstance(value, dict):
        words = ", ".join(f"{key} {plain_value(item, nested=True)}" for key, item in value.items())
        return f"({words})" if nested else words
    if isinstance(value, (list, tuple)):
        words = ", ".join(plain_value(item, nested=True) for item in value)
        return f"[{words}]" if nested else words
    return str(value)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 class', '3 classes': `{{ n | counted("class", "classes") }}`."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _format_number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js's official gl2d partial bundle (templates/vendor/README.md says why not the full one)."""
    return (template_dir() / "vendor" / "plotly-gl2d.min.js").read_text(encoding="utf-8")


# The page's own scripts, inlined in this order: report.js owns the shared state the others use.
PAGE_SCRIPTS = ("report.js", "tables.js", "confusion_heatmap.js", "analysis_views.js")


def render_html(sections, *, title: str, samples: dict, meta: dict, digest: dict | None = None) -> str:
    """digest: {"headline": render.digest.headline, "findings": digest_view's list}, shown first (None: no digest
    block, as in unit tests)."""
    asset = lambda name: (template_dir() / name).read_text(encoding="utf-8")
    sections = [s for s in sections if s.shown]  # an optional section not asked for leaves the page and the nav
    return _environment().get_template("report.html").render(
        title=title, sections=sections, samples=samples, digest=digest, meta=meta, csp=CONTENT_SECURITY_POLICY,
        version=meta.get("version", ""),
        plotly_js=plotly_js(), scripts=[asset(name) for name in PAGE_SCRIPTS], report_css=asset("report.css"))


def _archive_assets() -> dict:
    """What the archive pages (index, diff) share: their stylesheet, the table sorter and the policy."""
    from reportgen import __version__

    asset = lambda name: (template_dir() / name).read_text(encoding="utf-8")
    return {"csp": CONTENT_SECURITY_POLICY, "version": __version__, "css": asset("archive.css"),
            "table_sort_js": asset("table_sort.js")}


def render_index(rows: list[dict], *, title: str, page: dict) -> str:
    """The archive index page (templates/index.html): the sortable table, trend charts and filters over
    `rows`, and two picks to compare. page: {charts, filters, diffs} from review/archive_index.py."""
    script = (template_dir() / "index.js").read_text(encoding="utf-8")
    return _environment().get_template("index.html").render(
        rows=rows, title=title, page=page, plotly_js=plotly_js(), index_js=script, **_archive_assets())


def render_diff(view: dict) -> str:
    """The diff page (templates/diff.html) from review/diff_page.py's page_view."""
    return _environment().get_template("diff.html").render(**view, **_archive_assets())
