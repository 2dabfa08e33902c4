// The citations page lists every reference; a long list is shown 50 at a time.
(function () {
  "use strict";
  var first = document.querySelector("article ol li > span[id^='ref-']");
  if (!first || !window.paginate) return;
  var list = first.closest("ol");
  window.paginate({
    items: function () { return Array.prototype.slice.call(list.children); },
    size: 50, before: list, itemSelector: "li", label: "Pages of the reference list",
  });
})();
