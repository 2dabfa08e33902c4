// The citations page lists every reference; a long list is shown a page at a time
// (see paginate.js and data-page-size in templates/citations.md.j2).
(function () {
  "use strict";
  var list = document.querySelector("article ol.reference-list");
  if (!list || !window.paginate) return;
  window.paginate({ container: list, before: list, label: "Pages of the reference list" });
})();
