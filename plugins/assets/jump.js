/* crmdocs short links (see SiteData.jump). A diary month page links the shops
   of the manager's own territory through the manager's diary index
   ("../#r-04896" instead of "../../../retailers/<dept>/<manager>/#r-04896":
   a city's 700,000 visit rows). Two steps, no dependencies, no network:
   1. a page whose element says data-jump-from / data-jump-to gets those links
      back as direct links when it loads (a click goes straight to the archive,
      "copy link" gives the archive's address);
   2. on the index, a link that arrives with the id of a listed shop goes on
      to the shop's archive (location.replace: Back returns to the diary).
   Without JavaScript the index shows the shop's entry: one more click. */
(function () {
  "use strict";

  function forward() {
    var id = location.hash ? decodeURIComponent(location.hash.slice(1)) : "";
    var item = id ? document.getElementById(id) : null;
    if (!item || !item.parentNode || !item.parentNode.classList || !item.parentNode.classList.contains("crm-jump")) return;
    var a = item.querySelector("a[href]");
    if (a) location.replace(a.href);
  }

  function rewrite() {
    var marks = document.querySelectorAll("[data-jump-from][data-jump-to]");
    if (!marks.length) return;
    var links = document.querySelectorAll("article a[href]");
    Array.prototype.forEach.call(marks, function (mark) {
      var from = mark.getAttribute("data-jump-from");
      var to = mark.getAttribute("data-jump-to");
      Array.prototype.forEach.call(links, function (a) {
        var href = a.getAttribute("href");
        if (href.lastIndexOf(from, 0) === 0) a.setAttribute("href", to + href.slice(from.length));
      });
    });
  }

  forward();
  rewrite();
})();
