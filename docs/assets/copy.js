// Copying to the clipboard: the "Cite this page" buttons, and a "Copy link" button
// beside every study section and comparison row, which copies the section's
// permanent address (the page's canonical URL plus its anchor) for a slide or a
// handout. A preview build has no canonical URL (its address is not decided), so
// there the link is the address the page was opened at. Feedback shows beside the
// button pressed, and is announced to screen readers. Without JavaScript none of
// the buttons appear.
// Not Material's clipboard helper (data-clipboard-text): it copies text fixed at
// build time, and a preview has no permanent address to fix there; and it
// confirms in a toast at the foot of the screen, away from the button pressed.
(function () {
  "use strict";

  var status = document.createElement("p");
  status.className = "copy-status sr-only";
  status.setAttribute("role", "status");
  document.body.appendChild(status);

  function announce(message, button) {
    status.textContent = message;
    if (button.classList.contains("copy-link")) {
      var visible = button.parentNode.querySelector(".copy-feedback");
      if (!visible) {
        visible = document.createElement("span");
        visible.className = "copy-feedback";
        visible.setAttribute("aria-hidden", "true");
        button.insertAdjacentElement("afterend", visible);
      }
      visible.textContent = "Copied";
    } else {
      var box = button.closest(".cite-page").querySelector(".cite-status");
      if (box) box.textContent = message;
    }
  }

  function copy(text, message, button) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try {
        if (document.execCommand("copy")) announce(message, button);
      } finally {
        document.body.removeChild(area);
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { announce(message, button); }, fallback);
    } else {
      fallback();
    }
  }

  // --- Cite this page ----------------------------------------------------------------
  document.querySelectorAll(".cite-copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      copy(text, button.textContent.replace("Copy", "Copied") + ".", button);
    });
  });

  // A printed handout shows everything: open anything collapsed before printing.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) { details.open = true; });
  });

  // --- Copy link -------------------------------------------------------------------
  var canonical = document.querySelector('link[rel="canonical"]');
  var pageUrl = (canonical ? canonical.href : location.href).split("#")[0];

  function linkButton(id, what) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-link";
    button.textContent = "Copy link";
    button.setAttribute("aria-label", "Copy link to " + what);
    button.addEventListener("click", function () {
      copy(pageUrl + "#" + id, "Copied the link to " + what + ".", button);
    });
    return button;
  }

  if (document.querySelector("[data-study-page]")) {
    document.querySelectorAll("article h2[id]").forEach(function (heading) {
      var title = heading.firstChild ? heading.firstChild.textContent.trim() : heading.id;
      heading.appendChild(linkButton(heading.id, "the section " + title));
    });
  }
  function rowButton(row) {
    var name = row.querySelector("th a").textContent.trim();
    row.querySelector("th").appendChild(linkButton(row.id, "the " + name + " row"));
  }
  document.querySelectorAll("table.comparison").forEach(function (table) {
    Array.prototype.slice.call(table.tBodies[0].rows).forEach(rowButton);
  });
})();
