// reportgen confusion heatmaps (more than a few dozen classes): drawn from each split's non-zero cells, embedded
// once (reportgen/analyses/confusion.py). One square marker per non-zero cell, sized to the cell at the current
// zoom, so the page's data grows with the samples, never with K x K. Hover: counts; click: that cell's samples.
(function () {
  "use strict";
  const R = window.reportgen || {};
  const data = R.readJSON ? R.readJSON("confusion-heatmap") : null;
  if (!data || typeof Plotly === "undefined") return;
  const S = R.samples;
  const K = S.classes.length;
  const TICKS_MAX = 40; // class names on the axes once this few classes are in view
  const orderSelect = document.querySelector(".rg-confusion-order");
  const orders = { index: [...Array(K).keys()], ...data.orders };
  const plots = new Map(); // split index -> {target, cells, rowTotal}

  data.splits.forEach((split) => {
    const target = document.getElementById(`confusion-heatmap-${split.index}`);
    if (!target) return;
    const rowTotal = new Array(K).fill(0);
    split.cells.forEach(([t, , c]) => { rowTotal[t] += c; });
    plots.set(split.index, { target, cells: split.cells, rowTotal, name: split.name });
  });

  function positions() {
    const order = orders[orderSelect ? orderSelect.value : "confusion"] || orders.index;
    const at = new Array(K);
    order.forEach((k, n) => { at[k] = n; });
    return { order, at };
  }

  function cellPixels(target, xRange, yRange) {
    const size = target._fullLayout ? target._fullLayout._size : { w: 600, h: 600 };
    const span = Math.max(Math.abs(xRange[1] - xRange[0]), Math.abs(yRange[1] - yRange[0]), 1);
    return Math.max(2, Math.min(size.w, size.h) / span);
  }

  function ticks(order, range) {
    const lo = Math.max(0, Math.ceil(Math.min(range[0], range[1]))), hi = Math.min(K - 1, Math.floor(Math.max(range[0], range[1])));
    if (hi - lo + 1 > TICKS_MAX) return { showticklabels: false, tickvals: [], ticktext: [] };
    const vals = [];
    for (let n = lo; n <= hi; n++) vals.push(n);
    return { showticklabels: true, tickvals: vals, ticktext: vals.map((n) => R.escapeText(S.classes[order[n]])) };
  }

  function traces(entry, at, pixels) {
    const parts = { diag: { x: [], y: [], c: [], text: [], cell: [] }, off: { x: [], y: [], c: [], text: [], cell: [] } };
    entry.cells.forEach(([t, p, c]) => {
      const part = t === p ? parts.diag : parts.off;
      const rate = entry.rowTotal[t] ? c / entry.rowTotal[t] : 0;
      part.x.push(at[p]);
      part.y.push(at[t]);
      part.c.push(rate);
      part.cell.push([t, p]);
      part.text.push(`true: ${R.escapeText(S.classes[t])}<br>predicted: ${R.escapeText(S.classes[p])}<br>` +
        `count: ${c} (${(100 * rate).toFixed(1)}% of the true class's ${entry.rowTotal[t]})`);
    });
    const trace = (part, name, scale) => ({
      type: "scattergl", mode: "markers", name, x: part.x, y: part.y, customdata: part.cell, text: part.text,
      hovertemplate: "%{text}<extra></extra>",
      marker: { symbol: "square", size: pixels, color: part.c, cmin: 0, cmax: 1, colorscale: scale, line: { width: 0 } },
    });
    return [trace(parts.diag, "right", [[0, "#e6f4ea"], [1, "#1e7b45"]]), trace(parts.off, "confused", [[0, "#fde0dc"], [0.15, "#f08a7e"], [1, "#7f1d12"]])];
  }

  function draw(index) {
    const entry = plots.get(index);
    const { order, at } = positions();
    const full = [-0.5, K - 0.5];
    const layout = {
      margin: { l: 60, r: 10, t: 10, b: 60 }, hovermode: "closest", dragmode: "zoom", showlegend: false,
      xaxis: { range: full, zeroline: false, showgrid: false, showline: true, mirror: true, linecolor: "#ccd",
        title: { text: "predicted class" }, ...ticks(order, full) },
      yaxis: { range: [K - 0.5, -0.5], zeroline: false, showgrid: false, showline: true, mirror: true, linecolor: "#ccd",
        title: { text: "true class" }, scaleanchor: "x", ...ticks(order, full) },
    };
    const config = { displaylogo: false, responsive: true, scrollZoom: true, doubleClick: "reset" };
    const done = Plotly.react(entry.target, traces(entry, at, cellPixels(entry.target, full, full)), layout, config);
    if (!entry.bound) {
      entry.bound = true;
      entry.target.on("plotly_click", (ev) => {
        const pt = ev.points && ev.points[0];
        if (pt && pt.customdata) R.showCell(index, pt.customdata[0], pt.customdata[1]);
      });
      let adjusting = false;
      entry.target.on("plotly_relayout", () => {
        if (adjusting) return;
        adjusting = true;
        const layoutNow = entry.target._fullLayout;
        const xr = layoutNow.xaxis.range, yr = layoutNow.yaxis.range;
        const { order: o } = positions();
        Plotly.restyle(entry.target, { "marker.size": cellPixels(entry.target, xr, yr) })
          .then(() => Plotly.relayout(entry.target, { xaxis: { ...layoutNow.xaxis._input, ...ticks(o, xr), range: xr },
            yaxis: { ...layoutNow.yaxis._input, ...ticks(o, yr), range: yr } }))
          .finally(() => { adjusting = false; });
      });
    }
    return done.then(() => { entry.target.dataset.drawn = "true"; });
  }

  const drawn = new Set();
  function drawWhenNear(index) {
    if (drawn.has(index)) return;
    drawn.add(index);
    draw(index);
  }
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => entries.filter((e) => e.isIntersecting).forEach((e) => {
      observer.unobserve(e.target);
      drawWhenNear(Number(e.target.dataset.split));
    }), { rootMargin: "400px" });
    plots.forEach((entry) => observer.observe(entry.target));
  } else {
    plots.forEach((_, index) => drawWhenNear(index));
  }
  if (orderSelect) orderSelect.addEventListener("change", () => drawn.forEach((index) => draw(index)));
  if (window.reportgen) window.reportgen.drawHeatmap = (index) => { drawn.add(index); return draw(index); };
})();
