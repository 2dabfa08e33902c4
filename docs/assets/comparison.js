// Sorting and filtering for the comparison table. Without JavaScript the table is
// readable; this script only adds controls. Rows
// keep their ids (compare-<study>), so a link to a row works in any order and under
// any filter that shows it. Filters are described by the table's data-filters
// attribute, which lists only the options some row has.
// Written here, not taken from a library: sorting by each cell's data-sort value
// is a few lines, and the filters, the row count and the sort state announced to
// screen readers (aria-sort) must agree; tablesort (which Material's docs suggest)
// sorts only, and would be one more vendored file to keep current.
(function () {
  "use strict";

  document.querySelectorAll("table.comparison").forEach(function (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);  // every row at hand, in the page's order
    var total = rows.length;
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

    function apply() {
      rows.forEach(function (row) { row.hidden = !matches(row); });
      var shown = rows.filter(matches).length;
      status.textContent = shown === total ? "Showing all " + total + " studies." : "Showing " + shown + " of " + total + " studies.";
    }

    // --- Sorting -------------------------------------------------------------------
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (header, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.innerHTML = header.innerHTML;
      button.setAttribute("aria-label", "Sort by " + header.textContent.trim());
      // Print shows the plain label: Chromium leaves a button blank in a header row it repeats on a new page.
      var printed = document.createElement("span");
      printed.className = "print-only";
      printed.setAttribute("aria-hidden", "true");
      printed.innerHTML = header.innerHTML;
      header.textContent = "";
      header.appendChild(button);
      header.appendChild(printed);
      button.addEventListener("click", function () { sort(header, column); });
    });

    function sort(header, column) {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var keyed = rows.map(function (row, index) { return { row: row, key: sortKey(row.cells[column]), index: index }; });
      keyed.sort(function (a, b) {
        var order = compare(a.key, b.key) || a.index - b.index;
        return ascending ? order : -order;
      });
      keyed.forEach(function (item) { body.appendChild(item.row); });
      status.textContent = "Sorted by " + header.textContent.trim() + (ascending ? ", ascending." : ", descending.");
    }

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
