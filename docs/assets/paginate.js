// Paging for long lists: the comparison table and the citations list. A list longer
// than its page size (data-page-size) is shown a page at a time, with Previous and
// Next buttons, so that a thousand studies are not one wall, and only the page shown
// is in the document: a phone lays out 25 rows, not 1,000. The items past the first
// page wait outside the document, either in the page as an inert
// <template class="more-rows"> (the citations list, whose entries every page links
// to) or, for the comparison table, in a script (data-more-rows) that is loaded only
// once a reader pages, sorts, filters or follows a link to a row on a later page.
// Without JavaScript the first page is shown, with a note saying where the rest is.
(function () {
  "use strict";

  window.paginate = function (options) {
    var container = options.container;  // the element whose children are the items
    var holder = container.closest("[data-page-size]");
    var size = Number(holder.getAttribute("data-page-size"));
    var items = Array.prototype.slice.call(container.children).filter(function (item) {
      return item.tagName !== "TEMPLATE";
    });
    var template = holder.querySelector("template.more-rows");
    if (template) items = items.concat(Array.prototype.slice.call(template.content.children));
    var script = holder.getAttribute("data-more-rows");  // rows to load on demand
    var total = Number(holder.getAttribute("data-total")) || items.length;
    var waiting = null;  // actions to run once the script has loaded
    var visible = options.visible || function () { return true; };  // filters
    var page = 0;
    var nav = document.createElement("nav");
    nav.className = "pager";
    nav.setAttribute("aria-label", options.label);
    var previous = button("Previous page", function () { show(page - 1); });
    var next = button("Next page", function () { complete(function () { show(page + 1); }); });
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

    // Run `action` once every item is at hand (at once, unless rows are still to load).
    function complete(action) {
      if (!script) return action();
      if (waiting) return waiting.push(action);
      waiting = [action];
      where.textContent = "Loading every row…";
      var element = document.createElement("script");
      element.src = script;
      element.onload = function () {
        var parser = document.createElement("template");
        parser.innerHTML = (window.MORE_ROWS || []).join("");
        var added = Array.prototype.slice.call(parser.content.children);
        items = items.concat(added);
        script = null;
        holder.dispatchEvent(new CustomEvent("itemsadded", { detail: added }));  // copy.js adds its buttons
        waiting.forEach(function (queued) { queued(); });
      };
      element.onerror = function () { where.textContent = "The other rows could not be loaded."; };
      document.head.appendChild(element);
    }

    function matching() { return items.filter(visible); }

    function place(shown) {
      Array.prototype.slice.call(container.children).forEach(function (child) {
        if (child.tagName !== "TEMPLATE") container.removeChild(child);
      });
      var fragment = document.createDocumentFragment();
      shown.forEach(function (item) { fragment.appendChild(item); });
      container.insertBefore(fragment, container.querySelector(":scope > template"));
    }

    function show(number) {
      var shown = matching();
      var count = script ? total : shown.length;  // until rows load, no filter applies
      var pages = Math.max(1, Math.ceil(count / size));
      page = Math.min(Math.max(number, 0), pages - 1);
      place(shown.slice(page * size, (page + 1) * size));
      nav.hidden = count <= size;
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
      where.textContent = "Page " + (page + 1) + " of " + pages + " (" + count + " in all)";
    }

    // Open the page holding the item a link (#compare-x, #ref-x) points to.
    function reveal() {
      var id = location.hash && decodeURIComponent(location.hash.slice(1));
      if (!id) return false;
      var shown = matching();
      for (var index = 0; index < shown.length; index++) {
        if (shown[index].id === id || shown[index].querySelector("#" + CSS.escape(id))) {
          show(Math.floor(index / size));
          document.getElementById(id).scrollIntoView();
          return true;
        }
      }
      if (script && !document.getElementById(id)) {  // on a page still to load
        complete(reveal);
        return true;
      }
      return false;
    }

    window.addEventListener("hashchange", reveal);
    // A printed handout holds every item at hand, not one page.
    window.addEventListener("beforeprint", function () { place(matching()); });
    window.addEventListener("afterprint", function () { show(page); });
    if (!reveal()) show(0);
    return {
      // Every item, in the current order, passed to `action` once all are at hand.
      items: function (action) { complete(function () { action(items.slice()); }); },
      // Show the first page again (or the one a link points to), as filters now select.
      refresh: function () { if (!reveal()) show(0); },
      order: function (sorted) { items = sorted; if (!reveal()) show(0); },
    };
  };
})();
