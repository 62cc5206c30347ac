// Sortable tables: a button in each column header sorts by that column; aria-sort says how.
(function () {
  "use strict";
  var collator = new Intl.Collator(document.documentElement.lang);

  function cellValue(row, index) {
    var cell = row.children[index];
    return cell.dataset.sort !== undefined ? parseFloat(cell.dataset.sort) : cell.textContent.trim();
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (header, index) {
      var button = header.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var descending = header.getAttribute("aria-sort") !== "descending";
        headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          var order = typeof x === "number" ? x - y : collator.compare(x, y);
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
