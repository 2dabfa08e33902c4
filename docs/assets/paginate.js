// Paging for long lists: the comparison table and the citations list. A list longer
// than its page size is shown a page at a time, with Previous and Next buttons, so
// that a thousand studies are not one wall. A link to an item (#compare-x, #ref-x)
// opens the page that holds it. Without JavaScript every item is shown.
(function () {
  "use strict";

  window.paginate = function (options) {
    var items = options.items;         // every item, in its current order
    var size = options.size;
    var visible = options.visible || function () { return true; };  // filters
    var page = 0;
    var nav = document.createElement("nav");
    nav.className = "pager";
    nav.setAttribute("aria-label", options.label);
    var previous = button("Previous page", function () { show(page - 1); });
    var next = button("Next page", function () { show(page + 1); });
    var where = document.createElement("span");
    where.setAttribute("aria-live", "polite");
    nav.appendChild(previous);
    nav.appendChild(where);
    nav.appendChild(next);
    options.before.parentNode.insertBefore(nav, options.before);

    function button(text, action) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      element.addEventListener("click", action);
      return element;
    }

    function matching() { return items().filter(visible); }

    function show(number) {
      var shown = matching();
      var pages = Math.max(1, Math.ceil(shown.length / size));
      page = Math.min(Math.max(number, 0), pages - 1);
      items().forEach(function (item) { item.hidden = true; });
      shown.slice(page * size, (page + 1) * size).forEach(function (item) { item.hidden = false; });
      nav.hidden = shown.length <= size;
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
      where.textContent = "Page " + (page + 1) + " of " + pages + " (" + shown.length + " in all)";
    }

    function reveal() {
      var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
      var index = target ? matching().indexOf(target.closest(options.itemSelector)) : -1;
      if (index < 0) return false;
      show(Math.floor(index / size));
      target.scrollIntoView();
      return true;
    }

    window.addEventListener("hashchange", reveal);
    // A printed handout holds every item, not one page.
    window.addEventListener("beforeprint", function () {
      matching().forEach(function (item) { item.hidden = false; });
    });
    window.addEventListener("afterprint", function () { show(page); });
    if (!reveal()) show(0);
    return { refresh: function () { if (!reveal()) show(0); } };
  };
})();
