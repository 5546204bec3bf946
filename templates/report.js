// reportgen report: builds the interactive figures from the JSON blobs in the page. No network access.
(function () {
  "use strict";
  const readJSON = (id) => {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };
  const S = readJSON("sample-data");
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
    "#31a354", "#756bb1", "#636363"];
  const colourOf = (k) => k < PALETTE.length ? PALETTE[k] : `hsl(${(k * 137.508) % 360},60%,45%)`;
  const thumbSrc = (i) => `data:${S.thumb_mime};base64,${S.thumb[i]}`;
  const lossText = (v) => v < 0 ? "n/a" : v.toFixed(3);

  // --- hover card: the sample's thumbnail and facts, set as text (never HTML) ---
  const card = document.getElementById("hover-card");
  function showCard(i, x, y) {
    card.querySelector("img").src = thumbSrc(i);
    const text = card.querySelector(".hover-text");
    text.textContent = "";
    const lines = [S.path[i], `label: ${S.classes[S.label[i]]}`, `prediction: ${S.classes[S.pred[i]]}`,
      `confidence: ${S.confidence[i].toFixed(3)}`, `loss: ${lossText(S.loss[i])}`, `split: ${S.splits[S.split[i]]}`];
    lines.forEach((line, n) => {
      const div = document.createElement("div");
      div.textContent = line;
      if (n === 0) div.className = "hover-path";
      text.appendChild(div);
    });
    card.hidden = false;
    const pad = 16, w = card.offsetWidth, h = card.offsetHeight;
    card.style.left = `${Math.min(x + pad, window.innerWidth - w - pad)}px`;
    card.style.top = `${Math.min(y + pad, window.innerHeight - h - pad)}px`;
  }
  function hideCard() { card.hidden = true; }

  // --- projection ---
  const P = readJSON("projection-data");
  const plot = document.getElementById("projection-plot");
  if (P && plot && S) {
    const n = S.label.length;
    const maxLoss = Math.max(1e-9, ...S.loss.filter((v) => v >= 0));
    const sizes = S.loss.map((v) => v < 0 ? 14 : 4 + 12 * Math.sqrt(v / maxLoss));
    const splitSelect = document.getElementById("projection-split");
    S.splits.forEach((name, k) => {
      const opt = document.createElement("option");
      opt.value = String(k);
      opt.textContent = name;
      splitSelect.appendChild(opt);
    });
    const colourSelect = document.getElementById("projection-colour");
    function groups(mode) {
      if (mode === "correct") {
        return [{ name: "correct", colour: "#2ca02c", test: (i) => S.label[i] === S.pred[i] },
          { name: "wrong", colour: "#d62728", test: (i) => S.label[i] !== S.pred[i] }];
      }
      const key = mode === "pred" ? S.pred : S.label;
      return S.classes.map((c, k) => ({ name: c, colour: colourOf(k), test: (i) => key[i] === k }));
    }
    function draw() {
      const split = splitSelect.value;
      const traces = groups(colourSelect.value).map((g) => {
        const idx = [];
        for (let i = 0; i < n; i++) if ((split === "all" || S.split[i] === Number(split)) && g.test(i)) idx.push(i);
        return {
          type: "scattergl", mode: "markers", name: g.name, customdata: idx,
          x: idx.map((i) => P.x[i]), y: idx.map((i) => P.y[i]), hoverinfo: "none",
          marker: { color: g.colour, size: idx.map((i) => sizes[i]), opacity: 0.75, line: { width: 0 } },
        };
      }).filter((t) => t.customdata.length);
      const layout = {
        margin: { l: 30, r: 10, t: 10, b: 30 }, hovermode: "closest", dragmode: "pan",
        xaxis: { zeroline: false, showticklabels: false }, yaxis: { zeroline: false, showticklabels: false },
        legend: { itemsizing: "constant" }, uirevision: "keep",
      };
      Plotly.react(plot, traces, layout, { displaylogo: false, responsive: true, scrollZoom: true });
    }
    colourSelect.addEventListener("change", draw);
    splitSelect.addEventListener("change", draw);
    draw();
    plot.on("plotly_hover", (ev) => {
      const pt = ev.points[0];
      showCard(pt.customdata, ev.event.clientX, ev.event.clientY);
    });
    plot.on("plotly_unhover", hideCard);
  }
  document.body.dataset.ready = "true";
})();
