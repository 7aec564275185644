// Small behaviours the pages share; no inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // On a narrow screen the main menu folds behind its button; without this script it
  // stays open, so nothing is out of reach.
  document.documentElement.classList.add("js");
  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.querySelector(".topbar").classList.toggle("open", open);
    });
  }
  // Forms marked data-confirm ask before they submit (e.g. deactivating a person).
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
      ev.preventDefault();
    }
  }, true);
  // Forms marked data-keep hold what is typed in this tab (sessionStorage, gone when the
  // tab closes) until a save succeeds, so an expired session or a lost connection does
  // not lose a CSIRT member's notes: after signing in again the text comes back.
  function keepKey(f, el) { return "keep:" + location.pathname + ":" + (f.getAttribute("action") || "") + ":" + el.name; }
  document.querySelectorAll("form[data-keep]").forEach(function (f) {
    var savedNow = document.querySelector(".flash") !== null;
    var restored = false;
    f.querySelectorAll("textarea[name], input[name]:not([type=hidden]):not([type=checkbox]):not([type=file])").forEach(function (el) {
      var k = keepKey(f, el);
      if (savedNow) { sessionStorage.removeItem(k); return; }
      var v = sessionStorage.getItem(k);
      if (v !== null && v !== el.value) { el.value = v; restored = true; }
    });
    var note = f.querySelector(".restored-note");
    if (restored && note) { note.hidden = false; }
    f.addEventListener("input", function (ev) {
      var el = ev.target;
      if (el && el.name && el.type !== "hidden") { sessionStorage.setItem(keepKey(f, el), el.value); }
    });
  });
  // A drill's teachable moment and landing page: once the page has been visible and
  // touched, typed on or scrolled (or visible for three seconds), one beacon tells the
  // server a person is here; a link scanner that only fetches never sends it. The landing
  // form's fields have no names, so what is typed never leaves the browser: only how many
  // fields were filled.
  var beacon = document.body.dataset.beacon;
  if (beacon) {
    var sent = false;
    var send = function () {
      if (sent || document.visibilityState !== "visible") { return; }
      sent = true;
      var token = document.querySelector("meta[name=csrf-token]");
      fetch(beacon, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": token ? token.content : "" } });
    };
    ["pointermove", "pointerdown", "keydown", "scroll", "touchstart"].forEach(function (e) { window.addEventListener(e, send, { once: true, passive: true }); });
    setTimeout(send, 3000);
  }
  document.querySelectorAll("form[data-drill-landing]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var n = 0;
      f.querySelectorAll("input:not([type=hidden])").forEach(function (el) { if (el.value !== "") { n += 1; } el.value = ""; });
      f.querySelector("input[name=filled]").value = String(n);
    });
  });
  // After a list refresh, tell assistive technology that the results changed.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var status = ev.detail.target.querySelector("[role=status]");
    if (status) { status.setAttribute("aria-live", "polite"); }
  });
})();
