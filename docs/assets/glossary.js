// Glossary tooltips. The first use of each glossary term on a page becomes a link to
// its glossary entry; its definition shows on hover and on keyboard focus, is read
// out by screen readers (aria-describedby), and Escape hides it. The terms come from
// glossary-terms.js, which build.py generates from data/glossary.yaml. Without
// JavaScript the page is unchanged and the glossary page still has every term.
// On a touch screen, which has no hover, the first tap on a term shows its definition
// in place; a second tap follows the link to the glossary. Terms inside quotations
// and titles are left unmarked: they are someone else's words.
(function () {
  "use strict";

  var terms = window.GLOSSARY_TERMS || [];
  var article = document.querySelector(".md-content article");
  var config = document.getElementById("__config");
  if (!article || !config || !terms.length || document.querySelector("[data-glossary-page]")) return;
  var base = JSON.parse(config.textContent).base || ".";
  // The offline copy has file URLs (glossary.html); the published site has glossary/.
  var glossaryPage = /\.html$/.test(location.pathname) ? "/glossary.html" : "/glossary/";

  var byMatch = {};
  var patterns = [];
  terms.forEach(function (term) {
    term.matches.forEach(function (text) {
      byMatch[text.toLowerCase()] = term;
      patterns.push(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    });
  });
  patterns.sort(function (a, b) { return b.length - a.length; });
  var pattern = new RegExp("(^|[^\\w-])(" + patterns.join("|") + ")(?![\\w-])", "gi");
  // Not in links, code, headings, quotations, pictures, controls, references, the
  // dense comparison table (where the marks would crowd the cells) or the long lists
  // drawn only when near (site.css), whose items would clip a tip.
  var skip = "a, button, code, pre, h1, h2, h3, h4, h5, h6, thead, caption, .comparison-caption, script, style, q, cite, blockquote, svg, " +
    ".glossary, .headerlink, .level, .reference, .cite-page, table.comparison, .long-list";
  var used = {};

  function makeTerm(term, text) {
    var wrapper = document.createElement("span");
    wrapper.className = "glossary";
    var link = document.createElement("a");
    link.className = "glossary-term";
    link.href = base + glossaryPage + "#" + term.id;
    link.textContent = text;
    link.setAttribute("aria-describedby", "glossary-tip-" + term.id);
    var tip = document.createElement("span");
    tip.className = "glossary-tip";
    tip.id = "glossary-tip-" + term.id;
    tip.setAttribute("role", "tooltip");
    tip.textContent = term.term + ": " + term.definition;
    wrapper.appendChild(link);
    wrapper.appendChild(tip);
    return wrapper;
  }

  // True if `index` falls inside “...” or "..." in this piece of text.
  function insideQuotation(text, index) {
    var before = text.slice(0, index);
    var opened = (before.match(/“/g) || []).length - (before.match(/”/g) || []).length;
    var straight = (before.match(/"/g) || []).length;
    return opened > 0 || straight % 2 === 1;
  }

  function mark(node) {
    var text = node.nodeValue;
    pattern.lastIndex = 0;
    var found;
    while ((found = pattern.exec(text)) !== null) {
      // The pattern matches case-insensitively, which can pair letters that
      // toLowerCase() does not (final sigma ς and Σ): skip what has no entry.
      var term = byMatch[found[2].toLowerCase()];
      if (!term || used[term.id] || insideQuotation(text, found.index)) continue;
      used[term.id] = true;
      var start = found.index + found[1].length;
      var rest = node.splitText(start);
      rest.nodeValue = rest.nodeValue.slice(found[2].length);
      node.parentNode.insertBefore(makeTerm(term, found[2]), rest);
      mark(rest);
      return;
    }
  }

  // A skipped element is rejected whole, so its text is never visited: the comparison
  // table at 100 studies holds thousands of text nodes, each tested in turn before.
  var walker = document.createTreeWalker(article, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode: function (node) {
      if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      return node.matches(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
    }
  });
  var nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  nodes.forEach(mark);

  var touch = window.matchMedia && window.matchMedia("(hover: none)").matches;
  function closeAll(except) {
    document.querySelectorAll(".glossary-open").forEach(function (open) {
      if (open !== except) open.classList.remove("glossary-open");
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.glossary-term");
    if (!link) { closeAll(null); return; }
    var wrapper = link.parentNode;
    if (!touch || wrapper.classList.contains("glossary-open")) return;  // a second tap follows the link
    event.preventDefault();
    closeAll(wrapper);
    wrapper.classList.add("glossary-open");
    document.body.classList.remove("glossary-dismissed");
    var tip = wrapper.querySelector(".glossary-tip");
    tip.style.left = "0";
    var overflow = tip.getBoundingClientRect().right - (document.documentElement.clientWidth - 8);
    if (overflow > 0) tip.style.left = -overflow + "px";
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") document.body.classList.add("glossary-dismissed");
  });
  document.addEventListener("focusin", function () { document.body.classList.remove("glossary-dismissed"); });
  document.addEventListener("mouseover", function (event) {
    if (event.target.closest && event.target.closest(".glossary")) document.body.classList.remove("glossary-dismissed");
  });
})();
