// Every table.sortable sorts by a column when its header is clicked: numbers by data-value (blank last), text
// by data-value or the cell's text. Shared by the archive index and the diff page.
(function () {
  document.querySelectorAll("table.sortable").forEach((table) => {
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((th, column) => th.addEventListener("click", () => {
      if (th.dataset.type === "none") return;
      const descending = th.getAttribute("aria-sort") === "ascending";
      headers.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const numeric = th.dataset.type === "num";
      const key = (row) => {
        const cell = row.cells[column];
        const v = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
        return numeric ? (v === "" ? -Infinity : parseFloat(v)) : v;
      };
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const ka = key(a), kb = key(b);
        const order = numeric ? ka - kb : String(ka).localeCompare(String(kb));
        return descending ? -order : order;
      });
      rows.forEach((row) => body.appendChild(row));
    }));
  });
})();
