/* The page frame's only script (docs/frontend.md): everything works without it.
   - registers the service worker (/sw.js, scope /) that makes the app installable and shows
     the offline page;
   - closes an open staff menu (<details>) on Escape or a click elsewhere. */
(function () {
  "use strict";
  var script = document.currentScript;
  var worker = script && script.getAttribute("data-service-worker");
  if (worker && "serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(worker, { scope: "/" }).catch(function () {});
    });
  }

  function openMenus() {
    return document.querySelectorAll("details.navgroup[open], details.account-menu[open]");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) summary.focus();
    });
  });
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
})();
