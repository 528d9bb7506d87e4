// What scrolls sideways is reachable by keyboard, on every device and with either site engine.
// A table's scroll container (.md-typeset__scrollwrap) that overflows becomes a named region in
// the tab order; a code block (pre > code) that overflows joins the tab order as the theme's own
// blocks do. Material does that for code only where (hover) matches, so phones and touch screens
// would otherwise get code blocks that no keyboard reaches. Anything that stops overflowing (a
// wider window) leaves the tab order again. Sizes are watched per element, so a block that a tab
// or an open <details> shows is marked when it appears.
(function () {
  "use strict";

  var SCROLLERS = ".md-typeset__scrollwrap, .md-typeset pre > code";

  function label(wrap) {
    var heads = wrap.querySelectorAll("thead th");
    var names = Array.prototype.slice.call(heads, 0, 3).map(function (th) { return th.textContent.trim(); });
    return "Table (scrolls sideways): " + names.filter(Boolean).join(", ");
  }

  function mark(element) {
    var table = element.classList.contains("md-typeset__scrollwrap");
    if (element.scrollWidth > element.clientWidth + 1) {
      element.setAttribute("tabindex", "0");
      if (table) {
        element.setAttribute("role", "region");
        element.setAttribute("aria-label", label(element));
      }
    } else {
      element.removeAttribute("tabindex");
      if (table) {
        element.removeAttribute("role");
        element.removeAttribute("aria-label");
      }
    }
  }

  var watched = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { mark(entry.target); });
  });

  function markAll() {
    Array.prototype.forEach.call(document.querySelectorAll(SCROLLERS), function (element) {
      mark(element);
      if (watched !== null) {
        watched.observe(element);
      }
    });
  }

  window.addEventListener("resize", markAll);
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { markAll(); });
  } else {
    document.addEventListener("DOMContentLoaded", markAll);
  }
  window.addEventListener("load", markAll);
})();
