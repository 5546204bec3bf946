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
  const K = S ? S.classes.length : 0;
  const GALLERY_CAP = 400; // thumbnails drawn per gallery; the counts and the CSV always cover the whole selection
  const LEGEND_MAX = 20; // beyond this many colours, hues can't be told apart: pick classes instead
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
    "#31a354", "#756bb1", "#636363"];
  const DIMMED = "#d3d7de";
  const colourOf = (k) => k < PALETTE.length ? PALETTE[k] : `hsl(${(k * 137.508) % 360},60%,45%)`;
  // A sample above the page's thumbnail cap has "" and gets a grey "no preview" tile instead.
  const NO_PREVIEW = "data:image/svg+xml;utf8," + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" fill="#ddd"/><text x="24" y="27" font-size="7" text-anchor="middle" fill="#666">no preview</text></svg>');
  const thumbSrc = (i) => (S.thumb[i] ? `data:${S.thumb_mime};base64,${S.thumb[i]}` : NO_PREVIEW);
  const fmt = (v, d = 3) => (v === null || v === undefined || v < 0) ? "n/a" : v.toFixed(d);
  const cls = (k) => (k < 0 ? "(no label)" : S.classes[k]);
  // Unlabelled data (a predictions-only report): no label, no loss, no right or wrong; a sample's class is its
  // prediction wherever a labelled report would use its label.
  const LABELLED = !S || S.labelled !== false;
  const own = (i) => (LABELLED ? S.label[i] : S.pred[i]);
  const wrong = (i) => LABELLED && S.label[i] !== S.pred[i];
  const pairCaption = (i) => (LABELLED ? `${cls(S.label[i])} → ${cls(S.pred[i])}` : `→ ${cls(S.pred[i])}`);
  // Plotly reads a few HTML-like tags in names, texts and hover labels; entities keep user data as text.
  const escapeText = (v) => typeof v === "string"
    ? v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") : v;
  // Math.max(...array) throws a RangeError above ~125,000 arguments: reduce instead.
  const maxOf = (values, floor = -Infinity) => values.reduce((m, v) => (v > m ? v : m), floor);
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

  // Headings reached from the nav stop below the sticky header, whatever height its wrapped nav has.
  const header = document.querySelector("header.top");
  const headerHeight = () => document.documentElement.style.setProperty("--header-height", `${header.offsetHeight}px`);
  if (header) { headerHeight(); window.addEventListener("resize", headerHeight); }

  // --- hover card ---
  const card = document.getElementById("hover-card");
  function showCard(i, x, y) {
    card.querySelector("img").src = thumbSrc(i);
    const text = card.querySelector(".hover-text");
    text.replaceChildren(...[S.path[i], ...(LABELLED ? [`label: ${cls(S.label[i])}`] : []), `prediction: ${cls(S.pred[i])}`,
      `confidence: ${fmt(S.confidence[i])}`, ...(LABELLED ? [`loss: ${fmt(S.loss[i])}`] : []), `split: ${S.splits[S.split[i]]}`]
      .map((line, n) => el("div", { text: line, class: n === 0 ? "hover-path" : "" })));
    card.hidden = false;
    const pad = 16;
    card.style.left = `${Math.min(x + pad, window.innerWidth - card.offsetWidth - pad)}px`;
    card.style.top = `${Math.min(y + pad, window.innerHeight - card.offsetHeight - pad)}px`;
  }
  const hideCard = () => { card.hidden = true; };

  // --- thumbnails: one builder for every gallery the script draws ---
  function thumbFigure(i, caption) {
    const fig = el("figure", { class: `thumb${wrong(i) ? " wrong" : ""}`, dataset: { index: i } }, [
      el("img", { src: thumbSrc(i), alt: S.path[i], title: S.path[i], loading: "lazy", decoding: "async" }),
      el("figcaption", { text: caption || pairCaption(i) }),
    ]);
    return fig;
  }

  // --- drawer: the sample panel and the selection gallery ---
  const drawer = document.getElementById("drawer");
  const samplePanel = document.getElementById("sample-panel");
  const selectionPanel = document.getElementById("selection-panel");
  const backButton = document.getElementById("drawer-back");
  let selection = null; // {title, rows}
  // The drawer takes the right side of the window and the page moves over to make room: it never covers the
  // plot it explains (Plotly resizes its figures on the window's resize event).
  function setDrawerOpen(open) {
    if (document.body.classList.contains("drawer-open") === open) return;
    document.body.classList.toggle("drawer-open", open);
    window.dispatchEvent(new Event("resize"));
  }
  function openDrawer(which, title) {
    if (!drawer) return;
    drawer.hidden = false;
    setDrawerOpen(true);
    samplePanel.hidden = which !== "sample";
    selectionPanel.hidden = which !== "selection";
    backButton.hidden = !(which === "sample" && selection);
    document.getElementById("drawer-title").textContent = title;
    drawer.scrollTop = 0;
  }
  if (drawer) {
    document.getElementById("drawer-close").addEventListener("click", () => {
      drawer.hidden = true;
      setDrawerOpen(false);
      highlight([]);
    });
    backButton.addEventListener("click", () => showSelection(selection.title, selection.rows));
  }

  function bars(container, rows) {
    const max = maxOf(rows.map((r) => r.value || 0), 1e-9);
    container.replaceChildren(...rows.map((r) => el("div", { class: `bar ${r.cls || ""}` }, [
      el("span", { text: r.name, title: r.name }),
      el("div", {}, [el("div", { class: "fill" })]),
      el("span", { text: fmt(r.value) }),
    ])));
    [...container.querySelectorAll(".fill")].forEach((f, n) => { f.style.width = `${100 * (rows[n].value || 0) / max}%`; });
  }

  // The label's and the prediction's centroid, then the nearest others: k numbers per sample, never K.
  function centroidRows(i) {
    const rows = [];
    const seen = new Set();
    const add = (k, value, role) => {
      if (seen.has(k) || value === null || value === undefined) return;
      seen.add(k);
      rows.push({ name: cls(k), value, cls: role });
    };
    if (LABELLED) add(S.label[i], PANEL.label_centroid[i], "is-label");
    add(S.pred[i], PANEL.pred_centroid[i], "is-pred");
    PANEL.near_class[i].forEach((k, n) => add(k, PANEL.near_distance[i][n], ""));
    return rows.sort((a, b) => a.value - b.value);
  }

  function showSample(i) {
    if (!PANEL) return;
    const facts = [["path", S.path[i]], ["split", S.splits[S.split[i]]], ...(LABELLED ? [["label", cls(S.label[i])]] : []),
      ["prediction", cls(S.pred[i])], ["confidence", fmt(S.confidence[i])], ...(LABELLED ? [["loss", fmt(S.loss[i])]] : [])];
    document.getElementById("panel-image").src = thumbSrc(i);
    document.getElementById("panel-image").alt = S.path[i];
    document.getElementById("panel-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, dataset: { fact: k } })]));
    const role = (k) => (LABELLED && k === S.label[i] ? "is-label" : k === S.pred[i] ? "is-pred" : "");
    bars(document.getElementById("panel-probs"), PANEL.top_class[i].map((k, n) => ({ name: cls(k), value: PANEL.top_prob[i][n], cls: role(k) })));
    bars(document.getElementById("panel-centroids"), centroidRows(i));
    document.getElementById("panel-neighbours").replaceChildren(...PANEL.neighbours[i].map((j, n) =>
      thumbFigure(j, `${pairCaption(j)} · d ${fmt(PANEL.neighbour_distance[i][n], 2)}`)));
    const extra = document.getElementById("panel-extra");
    extra.replaceChildren();
    // The saliency section already holds this sample's maps (if it was chosen): show a copy, not a second set.
    const maps = document.querySelector(`#saliency .saliency-sample[data-index="${i}"]`)
      || findInFolds("#saliency", `.saliency-sample[data-index="${i}"]`);
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
    const chips = (label, key) => {
      const counts = count(key);
      const shown = counts.slice(0, 30);
      const rest = counts.length - shown.length;
      return el("p", {}, [el("strong", { text: `${label}: ` }),
        ...shown.map(([k, n]) => el("span", { class: "chip", text: `${cls(k)}: ${n}` })),
        ...(rest > 0 ? [el("span", { class: "muted", text: ` and ${rest} more classes` })] : [])]);
    };
    const summary = document.getElementById("selection-summary");
    summary.replaceChildren(el("p", { text: `${rows.length} samples` + (rows.length > GALLERY_CAP ? `; showing the first ${GALLERY_CAP}, the CSV has all` : ""), dataset: { count: rows.length } }),
      ...(LABELLED ? [chips("by label", S.label)] : []), chips("by prediction", S.pred));
    document.getElementById("selection-gallery").replaceChildren(...rows.slice(0, GALLERY_CAP).map((i) => thumbFigure(i)));
    openDrawer("selection", title);
    highlight(rows);
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

  // --- folds: long per-class content waits in a <template> (inert, not in the DOM) until its fold opens ---
  function openFold(details) {
    const template = details.querySelector(":scope > template");
    if (!template) return;
    details.appendChild(template.content.cloneNode(true));
    template.remove();
  }
  function findInFolds(scope, selector) {
    for (const t of document.querySelectorAll(`${scope} details > template`)) {
      if (t.content.querySelector(selector)) {
        openFold(t.parentElement);
        return document.querySelector(`${scope} ${selector}`);
      }
    }
    return null;
  }
  document.querySelectorAll("details.rg-lazy").forEach((details) => {
    if (details.open) openFold(details);
    details.addEventListener("toggle", () => { if (details.open) openFold(details); });
  });

  // --- which samples a class, a group or a legend entry covers ---
  const groupOf = (k) => (S.groups ? S.groups.of_class[k] : null);
  // The outliers section's score over its fence: dark up to the typical sample's, yellow from the fence (1) on.
  const outlierMode = () => S.outlier && { name: "outlier score", numeric: (i) => S.outlier.score[i], title: "outlier score",
    range: [S.outlier.typical, S.outlier.fence], note: "dark: typical, yellow: beyond the fence (flagged)" };
  function colourModes() {
    if (!LABELLED) {
      const modes = {
        pred: { name: "prediction", key: (i) => S.pred[i], names: S.classes, colour: colourOf },
        confidence: { name: "confidence", numeric: (i) => S.confidence[i], title: "confidence" },
      };
      if (S.groups) modes.group = { name: "class group", key: (i) => groupOf(S.pred[i]), names: S.groups.names, colour: colourOf };
      if (S.outlier) modes.outlier = outlierMode();
      return modes;
    }
    const modes = {
      label: { name: "true label", key: (i) => S.label[i], names: S.classes, colour: colourOf },
      pred: { name: "prediction", key: (i) => S.pred[i], names: S.classes, colour: colourOf },
      correct: { name: "correct / wrong", key: (i) => (S.label[i] === S.pred[i] ? 0 : 1), names: ["correct", "wrong"],
        colour: (k) => (k === 0 ? "#2ca02c" : "#d62728") },
      loss: { name: "loss", numeric: (i) => Math.max(0, S.loss[i]), title: "loss" },
    };
    if (S.groups) {
      modes.group = { name: "class group", key: (i) => groupOf(S.label[i]), names: S.groups.names, colour: colourOf };
    }
    if (S.outlier) modes.outlier = outlierMode();
    return modes;
  }

  // --- projection: one trace for every sample, coloured per point; picked classes drawn on top ---
  const plot = document.getElementById("projection-plot");
  let highlight = () => {};
  let pickClass = () => {};
  if (P && plot && S) {
    const maxLoss = maxOf(S.loss, 1e-9);
    // Dot size: the loss; without labels, how unsure the model is (1 - confidence).
    const sizes = LABELLED ? S.loss.map((v) => v < 0 ? 14 : 4 + 12 * Math.sqrt(v / maxLoss))
      : S.confidence.map((c) => 4 + 12 * Math.sqrt(Math.max(0, 1 - c)));
    const modes = colourModes();
    const splitSelect = document.getElementById("projection-split");
    S.splits.forEach((name, k) => splitSelect.appendChild(el("option", { value: String(k), text: name })));
    const colourSelect = document.getElementById("projection-colour");
    colourSelect.replaceChildren(...Object.entries(modes).map(([value, m]) => el("option", { value, text: m.name })));
    colourSelect.value = S.default_colour in modes ? S.default_colour : Object.keys(modes)[0];
    const legend = document.getElementById("projection-legend");
    const picker = document.getElementById("class-picker");
    const pickedBox = document.getElementById("class-picked");
    const picked = new Set(); // class indices that stand out; the rest dim
    const hidden = new Set(); // legend entries switched off (categories of the current colour mode)
    let highlighted = [];

    function drawLegend(mode) {
      if (!legend) return;
      if (!mode.names) { legend.replaceChildren(el("span", { class: "muted", text: `colour: ${mode.title} (${mode.note || "dark low, yellow high"})` })); return; }
      if (mode.names.length > LEGEND_MAX) {
        legend.replaceChildren(el("span", { class: "muted", text: `${mode.names.length} colours are too many to tell apart: type a class name above to make its samples stand out.` }));
        return;
      }
      legend.replaceChildren(...mode.names.map((name, k) => {
        const item = el("button", { type: "button", class: `legend-item${hidden.has(k) ? " off" : ""}`, title: "click to hide or show", dataset: { key: k } },
          [el("span", { class: "swatch" }), el("span", { text: name })]);
        item.querySelector(".swatch").style.background = mode.colour(k);
        item.addEventListener("click", () => { hidden.has(k) ? hidden.delete(k) : hidden.add(k); draw(); });
        return item;
      }));
    }

    function draw() {
      const split = splitSelect.value;
      const mode = modes[colourSelect.value];
      const rows = [];
      for (let i = 0; i < N; i++) {
        if (split !== "all" && S.split[i] !== Number(split)) continue;
        if (mode.key && hidden.has(mode.key(i))) continue;
        rows.push(i);
      }
      const dim = picked.size > 0;
      const marker = { size: rows.map((i) => sizes[i]), opacity: dim ? 0.35 : 0.75, line: { width: 0 } };
      if (mode.numeric) {
        Object.assign(marker, { color: rows.map(mode.numeric), colorscale: "Viridis", showscale: !dim,
          colorbar: { title: { text: mode.title } } });
        if (mode.range) Object.assign(marker, { cmin: mode.range[0], cmax: mode.range[1] });
        if (dim) marker.color = DIMMED;
      } else {
        marker.color = dim ? DIMMED : rows.map((i) => mode.colour(mode.key(i)));
      }
      const traces = [{ type: "scattergl", mode: "markers", name: "samples", customdata: rows, hoverinfo: "none",
        x: rows.map((i) => P.x[i]), y: rows.map((i) => P.y[i]), marker, showlegend: false }];
      if (dim) {
        const top = rows.filter((i) => picked.has(own(i)));
        traces.push({ type: "scattergl", mode: "markers", name: "picked", customdata: top, hoverinfo: "none", showlegend: false,
          x: top.map((i) => P.x[i]), y: top.map((i) => P.y[i]),
          marker: { size: top.map((i) => Math.max(8, sizes[i])), opacity: 0.95, color: top.map((i) => colourOf(own(i))),
            line: { width: 1, color: "#111" } } });
      }
      traces.push({ type: "scattergl", mode: "markers", name: "highlighted", showlegend: false, hoverinfo: "none",
        customdata: highlighted, x: highlighted.map((i) => P.x[i]), y: highlighted.map((i) => P.y[i]),
        marker: { size: 22, color: "rgba(0,0,0,0)", line: { width: 3, color: "#111" } } });
      const layout = {
        margin: { l: 30, r: 10, t: 34, b: 30 }, hovermode: "closest", dragmode: "lasso",
        xaxis: { zeroline: false, showticklabels: false }, yaxis: { zeroline: false, showticklabels: false },
        showlegend: false, uirevision: "keep",
      };
      drawLegend(mode);
      return Plotly.react(plot, traces, layout, { displaylogo: false, responsive: true, scrollZoom: true });
    }

    function drawPicked() {
      pickedBox.replaceChildren(...[...picked].map((k) => {
        const chip = el("button", { type: "button", class: "chip picked", title: "remove", dataset: { key: k } },
          [el("span", { class: "swatch" }), el("span", { text: `${cls(k)} ×` })]);
        chip.querySelector(".swatch").style.background = colourOf(k);
        chip.addEventListener("click", () => { picked.delete(k); drawPicked(); draw(); });
        return chip;
      }));
      if (picked.size) {
        const clear = el("button", { type: "button", class: "chip", text: "clear" });
        clear.addEventListener("click", () => { picked.clear(); drawPicked(); draw(); });
        pickedBox.append(clear);
      }
    }
    if (picker) {
      const list = document.getElementById("class-names");
      // K <option>s only once someone starts typing: a 1,000-class page opens without them.
      picker.addEventListener("focus", () => {
        if (!list.childElementCount) list.replaceChildren(...S.classes.map((c) => el("option", { value: c })));
      }, { once: true });
      const pick = () => {
        const k = S.classes.indexOf(picker.value);
        document.getElementById("class-picker-result").textContent = k < 0 && picker.value ? "no such class" : "";
        if (k < 0) return;
        picked.add(k);
        picker.value = "";
        drawPicked();
        draw();
      };
      picker.addEventListener("change", pick);
      picker.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
    }

    highlight = (rows) => { highlighted = rows.length > 5000 ? [] : rows; draw(); };
    colourSelect.addEventListener("change", () => { hidden.clear(); draw(); });
    splitSelect.addEventListener("change", draw);
    draw().then(() => { document.body.dataset.ready = "true"; });
    plot.on("plotly_hover", (ev) => showCard(ev.points[0].customdata, ev.event.clientX, ev.event.clientY));
    plot.on("plotly_unhover", hideCard);
    plot.on("plotly_click", (ev) => { hideCard(); if (ev.points.length) showSample(ev.points[0].customdata); });
    plot.on("plotly_selected", (ev) => {
      if (!ev || !ev.points.length) return;
      const rows = [...new Set(ev.points.filter((p) => p.data.name === "samples").map((p) => p.customdata))];
      showSelection(`${rows.length} selected in the projection`, rows);
    });
    pickClass = (k) => { picked.add(k); drawPicked(); draw(); };
  } else {
    document.body.dataset.ready = "true";
  }

  // --- which samples: by split, label and prediction (confusion cells, class rows, pairs) ---
  function samplesWhere(split, test) {
    const rows = [];
    for (let i = 0; i < N; i++) if ((split < 0 || S.split[i] === split) && test(S.label[i], S.pred[i])) rows.push(i);
    return rows;
  }
  function showCell(split, t, p) {
    const name = split < 0 ? "all splits" : S.splits[split];
    showSelection(`${name}: true ${cls(t)}, predicted ${cls(p)}`, samplesWhere(split, (l, q) => l === t && q === p));
  }

  // --- confusion matrix cells (the HTML table of a few classes) open exactly that cell's samples ---
  document.querySelectorAll("table.confusion[data-split]").forEach((table) => {
    const split = S.splits.indexOf(table.dataset.split);
    table.addEventListener("click", (ev) => {
      const td = ev.target.closest("td[data-true]");
      if (td) showCell(split, Number(td.dataset.true), Number(td.dataset.pred));
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
      else if (hits.length > 1) showSelection(`files matching "${search.value.trim()}"`, hits);
    });
  }
  // Gallery images load lazily for a fast open; printing (or saving as PDF) needs every one of them.
  window.addEventListener("beforeprint", () => {
    document.querySelectorAll("details.rg-lazy").forEach(openFold);
    document.querySelectorAll('img[loading="lazy"]').forEach((img) => { img.loading = "eager"; });
  });
  // Shared with the other scripts: one colour per class, one hover card, one parse of the sample data.
  window.reportgen = { showSample, showSelection, selectionCSV, showCard, hideCard, colourOf, escapeText, maxOf,
    samplesWhere, showCell, readJSON, el, fmt, samples: S, legendMax: LEGEND_MAX,
    pickClass: (k) => pickClass(k), groupOf };
})();
