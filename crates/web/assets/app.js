// Small behaviours the pages share; no inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // Forms marked data-confirm ask before they submit (e.g. deactivating a person).
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
      ev.preventDefault();
    }
  }, true);
  // After a list refresh, tell assistive technology that the results changed.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var status = ev.detail.target.querySelector("[role=status]");
    if (status) { status.setAttribute("aria-live", "polite"); }
  });
})();
