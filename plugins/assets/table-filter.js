/* crmdocs table filter: a filter row under the header of every table.crm-filter.
   Columns marked data-filter="select" get a drop-down of their values,
   data-filter="text" a text box. No dependencies, no network; cell text is
   read with textContent and options are made with createElement (never
   innerHTML), so record text cannot become markup. */
(function () {
  "use strict";

  function setup(table) {
    if (table.dataset.crmFilterReady) return;
    table.dataset.crmFilterReady = "1";
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    var body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var controls = [];
    var filterRow = document.createElement("tr");
    filterRow.className = "crm-filter-row";
    Array.prototype.forEach.call(heads, function (th, col) {
      var cell = document.createElement("th");
      var kind = th.getAttribute("data-filter");
      var control = null;
      if (kind === "select") {
        control = document.createElement("select");
        var all = document.createElement("option");
        all.value = "";
        all.textContent = "全部";
        control.appendChild(all);
        var seen = {};
        rows.forEach(function (row) {
          var v = (row.cells[col] ? row.cells[col].textContent : "").trim();
          seen[v] = true;
        });
        Object.keys(seen).sort(function (a, b) { return a.localeCompare(b, "zh-CN", { numeric: true }); })
          .forEach(function (v) {
            var o = document.createElement("option");
            o.value = v;
            o.textContent = v || "（空）";
            control.appendChild(o);
          });
      } else if (kind === "text") {
        control = document.createElement("input");
        control.type = "search";
        control.placeholder = "筛选…";
      }
      if (control) {
        control.setAttribute("aria-label", "筛选 " + th.textContent);
        control.addEventListener(kind === "select" ? "change" : "input", apply);
        cell.appendChild(control);
      }
      controls.push({ kind: kind, el: control });
      filterRow.appendChild(cell);
    });
    table.tHead.appendChild(filterRow);
    var counter = document.createElement("p");
    counter.className = "crm-filter-count";
    // above the table's frame: a long table scrolls inside it (.crm-tall)
    var frame = table.parentNode.classList.contains("crm-table-wrap") ? table.parentNode : table;
    frame.parentNode.insertBefore(counter, frame);

    function apply() {
      var shown = 0;
      rows.forEach(function (row) {
        var ok = controls.every(function (c, col) {
          if (!c.el || !c.el.value) return true;
          var text = (row.cells[col] ? row.cells[col].textContent : "").trim();
          if (c.kind === "select") return text === c.el.value;
          return text.toLowerCase().indexOf(c.el.value.trim().toLowerCase()) !== -1;
        });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      counter.textContent = "显示 " + shown + " / " + rows.length + " 行";
    }
    apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.crm-filter"), setup);
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
