// Sortable tables: a button in every column heading of a content table sorts its rows,
// numerically when every cell of the column reads as a number ("1,234", "45.0%", "-0.3").
// Rows whose first cell is empty (a table's "all customers" line) stay at the bottom.
// A heading without text (a table's row-number column) gets no button.
(function () {
  "use strict";

  function value(cell) {
    var text = cell.textContent.trim();
    var plain = text.replace(/[,%\s]/g, "").replace(/\u2212/g, "-");
    return plain !== "" && !isNaN(Number(plain)) ? Number(plain) : null;
  }

  function sort(table, column, button) {
    var head = button.closest("th");
    var ascending = head.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var pinned = rows.filter(function (row) { return row.cells[0].textContent.trim() === ""; });
    var sorted = rows.filter(function (row) { return pinned.indexOf(row) < 0; });
    var numeric = sorted.every(function (row) { return value(row.cells[column]) !== null; });
    sorted.sort(function (a, b) {
      var x = a.cells[column], y = b.cells[column];
      var order = numeric ? value(x) - value(y) : x.textContent.trim().localeCompare(y.textContent.trim());
      return ascending ? order : -order;
    });
    sorted.concat(pinned).forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function enhance(root) {
    root.querySelectorAll(".md-typeset table:not([data-sortable])").forEach(function (table) {
      if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2) { return; }
      table.setAttribute("data-sortable", "");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
        if (th.textContent.trim() === "") { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        while (th.firstChild) { button.appendChild(th.firstChild); }
        th.appendChild(button);
        button.addEventListener("click", function () { sort(table, column, button); });
      });
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { enhance(document); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  }
})();
