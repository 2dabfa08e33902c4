// On a phone the site's plain tables are stacked, a row to a card (site.css): each
// cell is given its column's label here, which the card shows above it.
// A box that scrolls sideways (a table or protocol picture too wide for the screen)
// says so: it takes keyboard focus (so arrow keys scroll it), has a name for screen
// readers, and shows a "Scroll sideways" cue and a shadow at its edge. Boxes that fit
// get none of this. Checked again when the window changes size.
(function () {
  "use strict";

  function cueOf(box) {
    var next = box.nextElementSibling;
    if (next && next.classList.contains("scroll-cue")) return next;
    var cue = document.createElement("p");
    cue.className = "scroll-cue";
    cue.setAttribute("aria-hidden", "true");
    cue.textContent = "Scroll sideways for more \u2192";
    box.insertAdjacentElement("afterend", cue);
    return cue;
  }

  function check() {
    // Material wraps tables in .md-typeset__scrollwrap from its own script, after this one runs.
    document.querySelectorAll(".md-typeset__scrollwrap, .protocol-scroll").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      box.setAttribute("data-scrolls", scrolls ? "true" : "false");
      if (scrolls) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (box.getAttribute("data-scroll-label") || "Table") + ", scrolls sideways");
        cueOf(box).hidden = false;
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        var next = box.nextElementSibling;
        if (next && next.classList.contains("scroll-cue")) next.hidden = true;
      }
    });
  }

  document.querySelectorAll("article table:not([class])").forEach(function (table) {
    if (!table.tHead) return;
    var labels = Array.prototype.map.call(table.tHead.rows[0].cells, function (cell) { return cell.textContent.trim(); });
    Array.prototype.forEach.call(table.tBodies[0] ? table.tBodies[0].rows : [], function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        if (labels[index]) cell.setAttribute("data-label", labels[index]);
      });
    });
  });

  if (window.document$) window.document$.subscribe(function () { setTimeout(check, 0); });
  window.addEventListener("load", check);
  window.addEventListener("resize", check);
})();
