// Sorting and filtering for the comparison table. Without JavaScript the table is
// complete and readable; this script only adds controls. Rows keep their ids
// (compare-<study>), so a link to a row works in any order and under any filter
// that shows it. Filters are described by the table's data-filters attribute.
(function () {
  "use strict";

  document.querySelectorAll("table.comparison").forEach(function (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var filters = JSON.parse(table.getAttribute("data-filters") || "[]");
    var status = document.createElement("p");
    status.className = "comparison-status";
    status.setAttribute("role", "status");

    // --- Filters -----------------------------------------------------------------
    var form = document.createElement("form");
    form.className = "comparison-filters";
    form.setAttribute("aria-label", "Filter the studies");
    var chosen = {};
    filters.forEach(function (filter) {
      var id = "filter-" + filter.key;
      var field = document.createElement("span");
      field.className = "comparison-filter";
      var label = document.createElement("label");
      label.setAttribute("for", id);
      label.textContent = filter.label;
      var select = document.createElement("select");
      select.id = id;
      var all = document.createElement("option");
      all.value = "";
      all.textContent = "All";
      select.appendChild(all);
      Object.keys(filter.options).forEach(function (value) {
        if (!rows.some(function (row) { return row.getAttribute("data-" + filter.key) === value; })) return;
        var option = document.createElement("option");
        option.value = value;
        option.textContent = filter.options[value];
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        chosen[filter.key] = select.value;
        apply();
      });
      field.appendChild(label);
      field.appendChild(select);
      form.appendChild(field);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var wrap = table.closest(".comparison-wrap") || table;
    wrap.parentNode.insertBefore(form, wrap);
    wrap.parentNode.insertBefore(status, wrap);

    function matches(row) {
      return Object.keys(chosen).every(function (key) {
        return !chosen[key] || row.getAttribute("data-" + key) === chosen[key];
      });
    }

    // A long table is shown 25 rows at a time (see paginate.js); filters apply to all rows.
    var pager = window.paginate ? window.paginate({
      items: function () { return Array.prototype.slice.call(body.rows); },
      size: 25, visible: matches, before: wrap, itemSelector: "tr", label: "Pages of the comparison table",
    }) : null;

    function apply() {
      var shown = rows.filter(matches).length;
      if (pager) {
        pager.refresh();
      } else {
        rows.forEach(function (row) { row.hidden = !matches(row); });
      }
      status.textContent = "Showing " + shown + " of " + rows.length + " studies.";
    }

    // --- Sorting -------------------------------------------------------------------
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (header, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.innerHTML = header.innerHTML;
      button.setAttribute("aria-label", "Sort by " + header.textContent.trim());
      header.textContent = "";
      header.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = rows.map(function (row, index) { return { row: row, key: sortKey(row.cells[column]), index: index }; });
        keyed.sort(function (a, b) {
          var order = compare(a.key, b.key) || a.index - b.index;
          return ascending ? order : -order;
        });
        keyed.forEach(function (item) { body.appendChild(item.row); });
        if (pager) pager.refresh();
        status.textContent = "Sorted by " + header.textContent.trim() + (ascending ? ", ascending." : ", descending.");
      });
    });

    function sortKey(cell) {
      var value = cell.getAttribute("data-sort");
      if (value === null) value = cell.textContent.trim().toLowerCase();
      var number = Number(value);
      return value !== "" && !isNaN(number) ? number : value;
    }

    function compare(a, b) {
      if (typeof a === "number" && typeof b === "number") return a - b;
      return String(a).localeCompare(String(b));
    }

    apply();
  });
})();
