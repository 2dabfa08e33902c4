// Copy buttons for the "Cite this page" box. The buttons stay hidden without
// JavaScript; the citations are plain text and can be selected by hand.
(function () {
  "use strict";

  var status = document.querySelector(".cite-status");

  function copied(button) {
    if (status) status.textContent = button.textContent.replace("Copy", "Copied") + ".";
  }

  function fallback(text, button) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try {
      if (document.execCommand("copy")) copied(button);
    } finally {
      document.body.removeChild(area);
    }
  }

  document.querySelectorAll(".cite-copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { fallback(text, button); });
      } else {
        fallback(text, button);
      }
    });
  });
})();
