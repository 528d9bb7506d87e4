// Wide tables scroll sideways on narrow screens: a table's scroll container (Material's
// .md-typeset__scrollwrap) that overflows becomes a named region in the tab order, so a keyboard
// can reach it and scroll it with the arrow keys; one that fits leaves the tab order again.
(function () {
  "use strict";

  function label(wrap) {
    var heads = wrap.querySelectorAll("thead th");
    var names = Array.prototype.slice.call(heads, 0, 3).map(function (th) { return th.textContent.trim(); });
    return "Table (scrolls sideways): " + names.filter(Boolean).join(", ");
  }

  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".md-typeset__scrollwrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label(wrap));
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  window.addEventListener("resize", mark);
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { mark(); });
  } else {
    document.addEventListener("DOMContentLoaded", mark);
  }
  window.addEventListener("load", mark);
})();
