// reportgen report: builds the interactive parts from the JSON blobs in the page. No network access, and all
// user-derived text (paths, class names) reaches the DOM through textContent, never as HTML.
(function () {
  "use strict";
  const readJSON = (id) => {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };
  const S = readJSON("sample-data");
  const PANEL = readJSON("panel-data");
  const P = readJSON("projection-data");
  const N = S ? S.label.length : 0;
  const GALLERY_CAP = 400; // thumbnails drawn per gallery; the counts and the CSV always cover the whole selection
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
    "#31a354", "#756bb1", "#636363"];
  const colourOf = (k) => k < PALETTE.length ? PALETTE[k] : `hsl(${(k * 137.508) % 360},60%,45%)`;
  // A sample above the page's thumbnail cap has "" and gets a grey "no preview" tile instead.
  const NO_PREVIEW = "data:image/svg+xml;utf8," + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" fill="#ddd"/><text x="24" y="27" font-size="7" text-anchor="middle" fill="#666">no preview</text></svg>');
  const thumbSrc = (i) => (S.thumb[i] ? `data:${S.thumb_mime};base64,${S.thumb[i]}` : NO_PREVIEW);
  const fmt = (v, d = 3) => (v === null || v === undefined || v < 0) ? "n/a" : v.toFixed(d);
  const cls = (k) => S.classes[k];
  const el = (tag, props = {}, children = []) => {
    const node = document.createElement(tag);
    Object.entries(props).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v);
    });
    children.forEach((c) => node.appendChild(c));
    return node;
  };

  // --- hover card ---
  const card = document.getElementById("hover-card");
  function showCard(i, x, y) {
    card.querySelector("img").src = thumbSrc(i);
    const text = card.querySelector(".hover-text");
    text.replaceChildren(...[S.path[i], `label: ${cls(S.label[i])}`, `prediction: ${cls(S.pred[i])}`,
      `confidence: ${fmt(S.confidence[i])}`, `loss: ${fmt(S.loss[i])}`, `split: ${S.splits[S.split[i]]}`]
      .map((line, n) => el("div", { text: line, class: n === 0 ? "hover-path" : "" })));
    card.hidden = false;
    const pad = 16;
    card.style.left = `${Math.min(x + pad, window.innerWidth - card.offsetWidth - pad)}px`;
    card.style.top = `${Math.min(y + pad, window.innerHeight - card.offsetHeight - pad)}px`;
  }
  const hideCard = () => { card.hidden = true; };

  // --- thumbnails: one builder for every gallery the script draws ---
  function thumbFigure(i, caption) {
    const fig = el("figure", { class: `thumb${S.label[i] !== S.pred[i] ? " wrong" : ""}`, dataset: { index: i } }, [
      el("img", { src: thumbSrc(i), alt: S.path[i], title: S.path[i], loading: "lazy", decoding: "async" }),
      el("figcaption", { text: caption || `${cls(S.label[i])} → ${cls(S.pred[i])}` }),
    ]);
    return fig;
  }

  // --- drawer: the sample panel and the selection gallery ---
  const drawer = document.getElementById("drawer");
  const samplePanel = document.getElementById("sample-panel");
  const selectionPanel = document.getElementById("selection-panel");
  const backButton = document.getElementById("drawer-back");
  let selection = null; // {title, rows}
  function openDrawer(which, title) {
    if (!drawer) return;
    drawer.hidden = false;
    samplePanel.hidden = which !== "sample";
    selectionPanel.hidden = which !== "selection";
    backButton.hidden = !(which === "sample" && selection);
    document.getElementById("drawer-title").textContent = title;
    drawer.scrollTop = 0;
  }
  if (drawer) {
    document.getElementById("drawer-close").addEventListener("click", () => { drawer.hidden = true; highlight([]); });
    backButton.addEventListener("click", () => showSelection(selection.title, selection.rows));
  }

  function bars(container, rows) {
    const max = Math.max(1e-9, ...rows.map((r) => r.value || 0));
    container.replaceChildren(...rows.map((r) => el("div", { class: `bar ${r.cls || ""}` }, [
      el("span", { text: r.name }),
      el("div", {}, [Object.assign(el("div", { class: "fill" }), {})]),
      el("span", { text: fmt(r.value) }),
    ])));
    [...container.querySelectorAll(".fill")].forEach((f, n) => { f.style.width = `${100 * (rows[n].value || 0) / max}%`; });
  }

  function showSample(i) {
    if (!PANEL) return;
    const facts = [["path", S.path[i]], ["split", S.splits[S.split[i]]], ["label", cls(S.label[i])],
      ["prediction", cls(S.pred[i])], ["confidence", fmt(S.confidence[i])], ["loss", fmt(S.loss[i])]];
    document.getElementById("panel-image").src = thumbSrc(i);
    document.getElementById("panel-image").alt = S.path[i];
    document.getElementById("panel-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, dataset: { fact: k } })]));
    const role = (k) => (k === S.label[i] ? "is-label" : k === S.pred[i] ? "is-pred" : "");
    bars(document.getElementById("panel-probs"), PANEL.top_class[i].map((k, n) => ({ name: cls(k), value: PANEL.top_prob[i][n], cls: role(k) })));
    const dist = PANEL.centroid_distance[i].map((v, k) => ({ name: cls(k), value: v, cls: role(k) }))
      .filter((r) => r.value !== null).sort((a, b) => a.value - b.value);
    bars(document.getElementById("panel-centroids"), dist);
    document.getElementById("panel-neighbours").replaceChildren(...PANEL.neighbours[i].map((j, n) =>
      thumbFigure(j, `${cls(S.label[j])} · d ${fmt(PANEL.neighbour_distance[i][n], 2)}`)));
    const extra = document.getElementById("panel-extra");
    extra.replaceChildren();
    // The saliency section already holds this sample's maps (if it was chosen): show a copy, not a second set.
    const maps = document.querySelector(`#saliency .saliency-sample[data-index="${i}"]`);
    if (maps) {
      const copy = maps.cloneNode(true);
      copy.removeAttribute("data-index");
      copy.querySelectorAll("img").forEach((img) => img.removeAttribute("loading"));
      extra.append(el("h4", { text: "What the model looks at (saliency, per-class maps, Grad-CAM)" }), copy);
    }
    document.dispatchEvent(new CustomEvent("reportgen:sample", { detail: { index: i, container: extra } }));
    openDrawer("sample", S.path[i]);
    highlight([i]);
  }

  function showSelection(title, rows) {
    selection = { title, rows };
    const count = (key) => {
      const c = new Map();
      rows.forEach((i) => c.set(key[i], (c.get(key[i]) || 0) + 1));
      return [...c.entries()].sort((a, b) => b[1] - a[1]);
    };
    const chips = (label, key) => el("p", {}, [el("strong", { text: `${label}: ` }),
      ...count(key).map(([k, n]) => el("span", { class: "chip", text: `${cls(k)}: ${n}` }))]);
    const summary = document.getElementById("selection-summary");
    summary.replaceChildren(el("p", { text: `${rows.length} samples` + (rows.length > GALLERY_CAP ? `; showing the first ${GALLERY_CAP}, the CSV has all` : ""), dataset: { count: rows.length } }),
      chips("by label", S.label), chips("by prediction", S.pred));
    document.getElementById("selection-gallery").replaceChildren(...rows.slice(0, GALLERY_CAP).map((i) => thumbFigure(i)));
    openDrawer("selection", title);
  }

  function csvCell(value) {
    const s = String(value);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }
  function selectionCSV(rows) {
    const lines = ["path,x,y,label,prediction,loss"];
    rows.forEach((i) => lines.push([S.path[i], P ? P.x[i] : "", P ? P.y[i] : "", cls(S.label[i]), cls(S.pred[i]),
      S.loss[i] < 0 ? "" : S.loss[i]].map(csvCell).join(",")));
    return lines.join("\n") + "\n";
  }
  const csvButton = document.getElementById("selection-csv");
  if (csvButton) {
    csvButton.addEventListener("click", () => {
      const blob = new Blob([selectionCSV(selection.rows)], { type: "text/csv" });
      const a = el("a", { href: URL.createObjectURL(blob), download: "selection.csv" });
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  }

  // Any thumbnail anywhere (galleries rendered by templates or by this script) opens its sample.
  document.addEventListener("click", (ev) => {
    const fig = ev.target.closest("[data-index]");
    if (fig && PANEL) showSample(Number(fig.dataset.index));
  });

  // --- projection ---
  const plot = document.getElementById("projection-plot");
  let highlight = () => {};
  if (P && plot && S) {
    const finite = S.loss.filter((v) => v >= 0);
    const maxLoss = Math.max(1e-9, ...finite);
    const sizes = S.loss.map((v) => v < 0 ? 14 : 4 + 12 * Math.sqrt(v / maxLoss));
    const splitSelect = document.getElementById("projection-split");
    S.splits.forEach((name, k) => splitSelect.appendChild(el("option", { value: String(k), text: name })));
    const colourSelect = document.getElementById("projection-colour");
    let highlighted = [];
    // One pass over the samples puts each in its colour group (O(N), whatever the number of classes).
    function groups(mode) {
      if (mode === "correct") {
        return { key: (i) => (S.label[i] === S.pred[i] ? 0 : 1),
          groups: [{ name: "correct", colour: "#2ca02c" }, { name: "wrong", colour: "#d62728" }] };
      }
      if (mode === "loss") return { key: () => 0, groups: [{ name: "loss", colour: null }] };
      const key = mode === "pred" ? S.pred : S.label;
      return { key: (i) => key[i], groups: S.classes.map((c, k) => ({ name: c, colour: colourOf(k) })) };
    }
    function draw() {
      const split = splitSelect.value;
      const { key, groups: gs } = groups(colourSelect.value);
      const buckets = gs.map(() => []);
      for (let i = 0; i < N; i++) if (split === "all" || S.split[i] === Number(split)) buckets[key(i)].push(i);
      const traces = gs.map((g, k) => {
        const idx = buckets[k];
        const marker = { color: g.colour, size: idx.map((i) => sizes[i]), opacity: 0.75, line: { width: 0 } };
        if (!g.colour) Object.assign(marker, { color: idx.map((i) => Math.max(0, S.loss[i])), colorscale: "Viridis", showscale: true, colorbar: { title: { text: "loss" } } });
        return { type: "scattergl", mode: "markers", name: g.name, customdata: idx, hoverinfo: "none",
          x: idx.map((i) => P.x[i]), y: idx.map((i) => P.y[i]), marker };
      }).filter((t) => t.customdata.length);
      traces.push({ type: "scattergl", mode: "markers", name: "highlighted", showlegend: false, hoverinfo: "none",
        customdata: highlighted, x: highlighted.map((i) => P.x[i]), y: highlighted.map((i) => P.y[i]),
        marker: { size: 22, color: "rgba(0,0,0,0)", line: { width: 3, color: "#111" } } });
      const layout = {
        margin: { l: 30, r: 10, t: 34, b: 30 }, hovermode: "closest", dragmode: "lasso",
        xaxis: { zeroline: false, showticklabels: false }, yaxis: { zeroline: false, showticklabels: false },
        legend: { itemsizing: "constant" }, uirevision: "keep",
      };
      return Plotly.react(plot, traces, layout, { displaylogo: false, responsive: true, scrollZoom: true });
    }
    highlight = (rows) => { highlighted = rows; draw(); };
    colourSelect.addEventListener("change", draw);
    splitSelect.addEventListener("change", draw);
    draw().then(() => { document.body.dataset.ready = "true"; });
    plot.on("plotly_hover", (ev) => showCard(ev.points[0].customdata, ev.event.clientX, ev.event.clientY));
    plot.on("plotly_unhover", hideCard);
    plot.on("plotly_click", (ev) => { hideCard(); if (ev.points.length) showSample(ev.points[0].customdata); });
    plot.on("plotly_selected", (ev) => {
      if (!ev || !ev.points.length) return;
      const rows = [...new Set(ev.points.filter((p) => p.data.name !== "highlighted").map((p) => p.customdata))];
      showSelection(`${rows.length} selected in the projection`, rows);
    });
  } else {
    document.body.dataset.ready = "true";
  }

  // --- confusion matrix cells open exactly that cell's samples ---
  document.querySelectorAll("table.confusion").forEach((table) => {
    const split = S.splits.indexOf(table.dataset.split);
    table.addEventListener("click", (ev) => {
      const td = ev.target.closest("td[data-true]");
      if (!td) return;
      const t = Number(td.dataset.true), p = Number(td.dataset.pred);
      const rows = [];
      for (let i = 0; i < N; i++) if (S.split[i] === split && S.label[i] === t && S.pred[i] === p) rows.push(i);
      showSelection(`${table.dataset.split}: true ${cls(t)}, predicted ${cls(p)}`, rows);
    });
  });

  // --- find a file by name ---
  const search = document.getElementById("sample-search");
  if (search) {
    search.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      const needle = search.value.trim().toLowerCase();
      const hits = [];
      for (let i = 0; i < N && needle; i++) if (S.path[i].toLowerCase().includes(needle)) hits.push(i);
      document.getElementById("sample-search-result").textContent = needle ? `${hits.length} match${hits.length === 1 ? "" : "es"}` : "";
      if (hits.length === 1) showSample(hits[0]);
      else if (hits.length > 1) { showSelection(`files matching "${search.value.trim()}"`, hits); highlight(hits); }
    });
  }
  // Shared with analysis_views.js: one colour per class, one hover card, one parse of the sample data.
  // Gallery images load lazily for a fast open; printing (or saving as PDF) needs every one of them.
  window.addEventListener("beforeprint", () => {
    document.querySelectorAll('img[loading="lazy"]').forEach((img) => { img.loading = "eager"; });
  });
  window.reportgen = { showSample, showSelection, selectionCSV, showCard, hideCard, colourOf, samples: S };
})();
