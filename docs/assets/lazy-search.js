// Holds back the search index until the reader opens search.
// Material 9.8's bundle requests search/search_index.json (with XMLHttpRequest) as
// soon as a page loads, 224 KB on every first visit, and has no setting to wait;
// Zensical's bundle does the same with search.json at the site's root (328 KB).
// This script runs before the bundle and delays that one request's send() until
// the search box gets focus or the search toggle changes (a click or tap on the
// magnifier, or the "/", "s" or "f" shortcut, which focus the box). Material then
// indexes as usual; a query typed meanwhile runs once the index is in.
(() => {
  "use strict";
  const INDEX = /(^|\/)(search\/search_index|search)\.json$/;
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  const held = new WeakSet();
  const waiting = [];
  let released = false;

  const release = () => {
    if (released) return;
    released = true;
    for (const go of waiting.splice(0)) go();
  };

  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    if (INDEX.test(new URL(String(url), location.href).pathname)) held.add(this);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...body) {
    if (released || !held.has(this)) return send.apply(this, body);
    waiting.push(() => send.apply(this, body));
  };

  document.addEventListener("focusin", (event) => {
    if (event.target instanceof Element && event.target.closest(".md-search")) release();
  });
  document.addEventListener("change", (event) => {
    if (event.target instanceof Element && event.target.id === "__search") release();
  });
})();
