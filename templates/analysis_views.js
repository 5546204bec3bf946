// reportgen analysis figures: draws every <script type="application/json" class="rg-figure" data-target="ID">
// (a Plotly figure built in Python, reportgen/figure_data.py) into the element ID. No network access.
(function () {
  "use strict";
  // report.js (inlined before this file) owns the class colours, the hover card and the parsed sample data.
  const R = window.reportgen || {};
  const colourOf = R.colourOf;
  const S = R.samples;

  const escapeText = R.escapeText;
  const escapeAll = (values) => Array.isArray(values) ? values.map(escapeText) : escapeText(values);

  // A clicked point opens the sample panel (report.js exposes it; [data-index] thumbnails it handles itself).
  function openSample(index) {
    if (window.reportgen && window.reportgen.showSample) window.reportgen.showSample(index);
  }

  // "show all" buttons (sub-populations) open their whole group in the panel's selection gallery.
  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("button.rg-show-selection");
    if (!button || !(window.reportgen && window.reportgen.showSelection)) return;
    const rows = JSON.parse(button.nextElementSibling.textContent);
    window.reportgen.showSelection(button.dataset.title, rows);
  });

  const showCard = (i, x, y) => { if (R.showCard) R.showCard(i, x, y); };
  const hideCard = () => { if (R.hideCard) R.hideCard(); };

  function prepare(figure) {
    figure.data.forEach((trace) => {
      ["name", "text", "x", "y"].forEach((key) => { if (key in trace) trace[key] = escapeAll(trace[key]); });
      const meta = trace.meta || {};
      if (meta.colour === "label") {
        trace.marker = Object.assign({}, trace.marker, { color: trace.customdata.map((i) => colourOf(S.label[i])) });
      }
      if (meta.samples) trace.hoverinfo = "none";
      // a per-class line (PR curves) in its class's page colour
      if (meta.class_colour !== undefined) trace.line = Object.assign({}, trace.line, { color: colourOf(meta.class_colour) });
    });
    (figure.layout.updatemenus || []).forEach((menu) => {
      (menu.buttons || []).forEach((button) => { button.label = escapeText(button.label); });
    });
    return figure;
  }

  // Under a figure coloured by class, the classes it shows (when few enough to tell the colours apart).
  function classLegend(target, figure) {
    const traces = figure.data.filter((t) => (t.meta || {}).colour === "label");
    if (!traces.length || !R.el) return;
    const present = new Set();
    traces.forEach((t) => t.customdata.forEach((i) => present.add(S.label[i])));
    const legend = R.el("div", { class: "legend" });
    if (present.size > R.legendMax) {
      legend.appendChild(R.el("span", { class: "muted", text: `colour = true class (${present.size} classes; hover a dot for its name)` }));
    } else {
      [...present].sort((a, b) => a - b).forEach((k) => {
        const item = R.el("span", { class: "legend-item" }, [R.el("span", { class: "swatch" }), R.el("span", { text: S.classes[k] })]);
        item.querySelector(".swatch").style.background = colourOf(k);
        legend.appendChild(item);
      });
    }
    target.insertAdjacentElement("afterend", legend);
  }

  function draw(script) {
    const target = document.getElementById(script.dataset.target);
    if (!target || target.dataset.drawn) return;
    target.dataset.drawn = "true";
    const figure = prepare(JSON.parse(script.textContent));
    classLegend(target, figure);
    Plotly.newPlot(target, figure.data, figure.layout, { displaylogo: false, responsive: true, scrollZoom: true });
    const sampleOf = (ev) => {
      const pt = ev.points && ev.points[0];
      return pt && pt.data.meta && pt.data.meta.samples ? pt.customdata : null;
    };
    target.on("plotly_click", (ev) => { const i = sampleOf(ev); if (i !== null) openSample(i); });
    target.on("plotly_hover", (ev) => {
      const i = sampleOf(ev);
      if (i !== null) showCard(i, ev.event.clientX, ev.event.clientY);
    });
    target.on("plotly_unhover", hideCard);
  }

  // Draw a figure when it nears the viewport: a page of big scatter plots then opens at once.
  const byTarget = new Map();
  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    entries.filter((e) => e.isIntersecting).forEach((e) => {
      observer.unobserve(e.target);
      draw(byTarget.get(e.target.id));
    });
  }, { rootMargin: "400px" }) : null;

  function drawAll() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll("script.rg-figure").forEach((script) => {
      const id = script.dataset.target, target = document.getElementById(id);
      if (!target || byTarget.has(id)) return;
      byTarget.set(id, script);
      if (observer) observer.observe(target); else draw(script);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  // A fold's figures enter the page when it opens (report.js moves them out of their <template>, in the fold's
  // own toggle listener, which runs after this capturing one: hence the timeout).
  document.addEventListener("toggle", (ev) => { if (ev.target.open) setTimeout(drawAll, 0); }, true);
})();
