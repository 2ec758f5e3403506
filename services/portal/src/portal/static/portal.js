// After htmx swaps part of a page: keep the keyboard user's place and tell screen readers what
// changed. Focus stays where it was when that element survived the swap; only when it was inside
// the swapped part (a button that replaced itself) does it move to the new part. A swap nobody
// was working in (a poll refreshing figures) never moves focus or scrolls. A swapped element's
// data-announce text is read out through the page's live region.
(function () {
  "use strict";
  var focusWasInside = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var active = document.activeElement;
    focusWasInside = !!(target && active && active !== document.body && target.contains(active));
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.elt;
    if (!target || !target.isConnected) { return; }
    var active = document.activeElement;
    if (focusWasInside && (!active || active === document.body || !active.isConnected)) {
      var focusable = target.querySelector("[data-focus-after-swap]") || target;
      if (!focusable.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(focusable.tagName)) {
        focusable.setAttribute("tabindex", "-1");
      }
      focusable.focus();
    }
    focusWasInside = false;
    var announced = target.closest("[data-announce]") || target.querySelector("[data-announce]");
    var region = document.getElementById("bc-announce");
    if (announced && region) {
      region.textContent = "";
      window.setTimeout(function () { region.textContent = announced.getAttribute("data-announce"); }, 50);
    }
  });
})();
