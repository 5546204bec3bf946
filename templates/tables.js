// reportgen tables: draws every <script type="application/json" class="rg-table-data" data-target="ID"> (a spec
// built by reportgen/table_data.py) into the element ID as a sortable, searchable, paged table. Only the rows on
// screen enter the DOM. Text reaches the DOM through textContent only.
(function () {
  "use strict";
  const R = window.reportgen || {};
  const el = R.el;

  function format(value, column) {
    if (value === null || value === undefined) return "n/a";
    if (column.kind === "num") return value.toFixed(column.digits);
    if (column.kind === "pct") return `${(100 * value).toFixed(1)}%`;
    return String(value);
  }
  const compare = (a, b) => (a === null ? 1 : b === null ? -1 : typeof a === "number" ? a - b : String(a).localeCompare(String(b)));

  function openRow(action, row, index) {
    if (!action || !R.samplesWhere) return;
    const v = (key) => row[index[key]];
    const splitName = action.split < 0 ? "all splits" : R.samples.splits[action.split];
    const name = (k) => R.samples.classes[k];
    if (action.kind === "class") {
      const c = v(action.class);
      R.showSelection(`${splitName}: class ${name(c)}`, R.samplesWhere(action.split, (l) => l === c));
    } else if (action.kind === "pred") {
      const c = v(action.class);
      R.showSelection(`${splitName}: predicted ${name(c)}`, R.samplesWhere(action.split, (l, p) => p === c));
    } else if (action.kind === "cell") {
      R.showCell(action.split, v(action.true), v(action.pred));
    } else if (action.kind === "pair") {
      const a = v(action.a), b = v(action.b);
      R.showSelection(`${splitName}: ${name(a)} and ${name(b)} taken for each other`,
        R.samplesWhere(action.split, (l, p) => (l === a && p === b) || (l === b && p === a)));
    } else if (action.kind === "rows") {
      R.showSelection(String(v(action.title)), v(action.rows));
    }
  }

  function build(script) {
    const host = document.getElementById(script.dataset.target);
    if (!host || host.dataset.drawn) return;
    host.dataset.drawn = "true";
    const spec = JSON.parse(script.textContent);
    const index = Object.fromEntries(spec.columns.map((c, i) => [c.key, i]));
    const shown = spec.columns.filter((c) => c.kind !== "hidden");
    let sort = spec.sort; // [key, "asc" | "desc"] or null = the order given
    let query = "";
    let limit = spec.page;
    const table = el("table", { class: "data rg-data-table" });
    if (spec.caption) table.appendChild(el("caption", { text: spec.caption }));
    const headRow = el("tr");
    shown.forEach((c) => {
      const th = el("th", { text: c.label, scope: "col", title: "sort", dataset: { key: c.key } });
      th.addEventListener("click", () => {
        sort = sort && sort[0] === c.key ? [c.key, sort[1] === "asc" ? "desc" : "asc"] : [c.key, c.kind === "text" ? "asc" : "desc"];
        render();
      });
      headRow.appendChild(th);
    });
    table.appendChild(el("thead", {}, [headRow]));
    const body = el("tbody");
    table.appendChild(body);
    const status = el("span", { class: "muted rg-table-status" });
    const more = el("button", { type: "button", class: "rg-table-more", text: "show more" });
    more.addEventListener("click", () => { limit += spec.page * 4; render(); });
    const bar = el("div", { class: "rg-table-bar" });
    if (spec.search) {
      const input = el("input", { type: "search", placeholder: "filter rows", "aria-label": "filter rows" });
      input.addEventListener("input", () => { query = input.value.trim().toLowerCase(); limit = spec.page; render(); });
      bar.appendChild(input);
    }
    bar.append(status, more);
    host.replaceChildren(bar, el("div", { class: "rg-scroll-x" }, [table]));
    if (spec.action) table.classList.add("clickable");

    function render() {
      const textKeys = shown.filter((c) => c.kind === "text").map((c) => index[c.key]);
      let rows = spec.rows;
      if (query) rows = rows.filter((r) => textKeys.some((k) => String(r[k]).toLowerCase().includes(query)));
      if (sort) {
        const k = index[sort[0]], sign = sort[1] === "asc" ? 1 : -1;
        rows = rows.slice().sort((a, b) => (a[k] === null || b[k] === null ? compare(a[k], b[k]) : sign * compare(a[k], b[k])));
      }
      headRow.querySelectorAll("th").forEach((th) => {
        th.setAttribute("aria-sort", sort && th.dataset.key === sort[0] ? (sort[1] === "asc" ? "ascending" : "descending") : "none");
      });
      body.replaceChildren(...rows.slice(0, limit).map((row) => {
        const tr = el("tr", {}, shown.map((c) => el("td", { text: format(row[index[c.key]], c) })));
        if (spec.action) tr.addEventListener("click", () => openRow(spec.action, row, index));
        return tr;
      }));
      status.textContent = rows.length > limit ? `${limit} of ${rows.length} rows` : `${rows.length} rows`;
      more.hidden = rows.length <= limit;
    }
    render();
  }

  document.querySelectorAll("script.rg-table-data").forEach(build);
  // Tables inside a fold that opens later are built when it opens: after the fold's own toggle listener
  // (report.js) has moved them out of their <template>, which runs after this capturing one.
  document.addEventListener("toggle", () => setTimeout(() => document.querySelectorAll("script.rg-table-data").forEach(build), 0), true);
  if (window.reportgen) window.reportgen.buildTables = () => document.querySelectorAll("script.rg-table-data").forEach(build);
})();
