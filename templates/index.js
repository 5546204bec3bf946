// The archive index: trend charts of the chosen metrics over the reports the filters keep, in the chosen order,
// and a comparison of two ticked reports (headline deltas from the embedded entries, and the diff page or the
// command that writes it). Every text from a report goes into the page as textContent, never as markup.
(function () {
  const data = JSON.parse(document.getElementById("index-data").textContent);
  const rows = data.rows;
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const table = document.getElementById("report-index");
  const filters = Array.from(document.querySelectorAll("select[id^='filter-']"));
  const order = document.getElementById("order");
  const toggles = Array.from(document.querySelectorAll(".metric-toggle"));
  const panel = document.getElementById("compare-panel");
  const picks = [];  // ids, in the order they were ticked; at most two

  const escape = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  function kept() {
    return rows.filter((r) => filters.every((f) => !f.value || r[f.dataset.field] === f.value));
  }

  function ordered(list) {
    const key = order.value === "created" ? "created_utc" : order.value;
    return list.slice().sort((a, b) => String(a[key] || "").localeCompare(String(b[key] || "")));
  }

  function drawCharts(list) {
    const byTime = order.value === "created";
    const x = list.map((r, i) => (byTime ? r.created_utc || null : i + 1));
    // plotly reads a few tags in hover text: a report's title is escaped so that none of its own can act
    const names = list.map((r) => `${escape(r.title || r.href)}<br>${r.created_utc || ""}`);
    data.charts.forEach((chart) => {
      const div = document.getElementById(`chart-${chart.id}`);
      const on = toggles.find((t) => t.value === chart.id).checked;
      div.hidden = !on;
      if (!on) return;
      const traces = chart.series.map((s) => ({
        type: "scatter", mode: "lines+markers", name: s.name, x: x,
        y: list.map((r) => (r.metrics[s.key] === undefined ? null : r.metrics[s.key])),
        customdata: list.map((r) => r.id), hovertext: names, hoverinfo: "text+y+name",
        line: { dash: s.dash || "solid" },
      }));
      const layout = {
        title: { text: chart.title, font: { size: 14 } }, margin: { l: 55, r: 10, t: 35, b: 40 },
        xaxis: byTime ? { type: "date" } : { title: { text: `reports by ${order.selectedOptions[0].text}` } },
        yaxis: chart.percent ? { tickformat: ".1%" } : {}, legend: { orientation: "h" }, hovermode: "closest",
      };
      Plotly.react(div, traces, layout, { displaylogo: false, responsive: true });
    });
  }

  function draw() {
    const list = ordered(kept());
    const shown = new Set(list.map((r) => r.id));
    Array.from(table.tBodies[0].rows).forEach((tr) => { tr.hidden = !shown.has(tr.dataset.id); });
    document.getElementById("shown-count").textContent = String(list.length);
    drawCharts(list);
  }

  function element(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  const pct = (v) => (v === null || v === undefined ? "n/a" : `${(100 * v).toFixed(1)}%`);
  const num = (v) => (v === null || v === undefined ? "n/a" : Number(v).toFixed(4));
  const signed = (a, b, scale, digits, unit) => (a === null || a === undefined || b === null || b === undefined
    ? "n/a" : `${(scale * (b - a)) >= 0 ? "+" : ""}${(scale * (b - a)).toFixed(digits)}${unit}`);

  function compare() {
    panel.replaceChildren();
    panel.hidden = picks.length !== 2;
    if (picks.length !== 2) return;
    // A is the older report, B the newer: deltas read "what changed since"
    const [a, b] = picks.map((id) => byId[id]).sort((p, q) => String(p.created_utc).localeCompare(String(q.created_utc)));
    panel.appendChild(element("h2", "Compare"));
    const t = element("table", null, { id: "compare-table" });
    const head = element("tr");
    ["", "A (older)", "B (newer)", "B − A"].forEach((h) => head.appendChild(element("th", h)));
    t.appendChild(head);
    const line = (label, va, vb, fmt, delta) => {
      const tr = element("tr");
      [label, fmt(va), fmt(vb), delta].forEach((v, i) => tr.appendChild(element(i ? "td" : "th", v, i ? { class: "num" } : {})));
      t.appendChild(tr);
    };
    line("report", a.title || a.href, b.title || b.href, (v) => v, "");
    line("created (UTC)", a.created_utc, b.created_utc, (v) => v, "");
    line(`accuracy (${b.split})`, a.accuracy, b.accuracy, pct, signed(a.accuracy, b.accuracy, 100, 1, " pp"));
    line("mean loss", a.mean_loss, b.mean_loss, num, signed(a.mean_loss, b.mean_loss, 1, 4, ""));
    ["high", "medium", "low"].forEach((s) => {
      const va = a.metrics[`findings.${s}`], vb = b.metrics[`findings.${s}`];
      line(`${s} findings`, va, vb, (v) => (v === undefined ? "n/a" : v), signed(va, vb, 1, 0, ""));
    });
    panel.appendChild(t);
    if (a.data_fingerprint !== b.data_fingerprint) {
      panel.appendChild(element("p", "These two are over different data: their numbers are not of the same samples. " +
        "The diff compares the samples both hold and says how many.", { class: "warning" }));
    }
    const diff = data.diffs[`${a.id}|${b.id}`];
    if (diff) {
      const p = element("p", "");
      p.appendChild(element("a", "Open their diff", { href: diff, id: "compare-diff-link" }));
      p.appendChild(document.createTextNode(": per-split and per-class deltas, flipped samples, new and resolved findings."));
      panel.appendChild(p);
    } else if (a.json_arg && b.json_arg) {
      panel.appendChild(element("p", "For the full diff (per class, flipped samples, findings), run from this page's folder:"));
      panel.appendChild(element("pre", `reportgen diff ${a.json_arg} ${b.json_arg} -o diff.html`, { id: "compare-command" }));
    } else {
      panel.appendChild(element("p", "A full diff needs both reports' report.json; " +
        `${a.json_arg ? b.href : a.href} has none beside it.`));
    }
  }

  document.querySelectorAll(".compare-pick").forEach((box) => box.addEventListener("change", () => {
    const at = picks.indexOf(box.value);
    if (box.checked && at < 0) picks.push(box.value);
    if (!box.checked && at >= 0) picks.splice(at, 1);
    while (picks.length > 2) {  // a third tick replaces the oldest pick
      const dropped = picks.shift();
      document.querySelector(`.compare-pick[value="${dropped}"]`).checked = false;
    }
    compare();
  }));
  filters.concat([order]).forEach((s) => s.addEventListener("change", draw));
  toggles.forEach((t) => t.addEventListener("change", draw));
  draw();
  document.body.dataset.ready = "true";
})();
