// sundial-migrate HTML report: the index's process table, drawn from its rows (JSON in
// the page) as the filters leave them, a few hundred at a time.  Text goes in as text
// (textContent); nothing from the data becomes markup.
(function () {
  "use strict";
  var table = document.getElementById("table");
  var data = document.getElementById("rows");
  if (!table || !data) return;
  var SEVERITIES = ["exact", "approximated", "unsupported", "manual"];
  var STEP = 300;
  var items = JSON.parse(data.textContent).map(function (r) {
    return {
      name: r[0], dag: r[1], worst: SEVERITIES[r[2]], counts: r[3],
      executors: r[4] ? r[4].split(" ") : [], tasks: r[5], kinds: r[6],
      page: r.length > 7 ? r[7] : "processes/" + r[1] + ".html",
      file: r.length > 7 ? r[8] : "../dags/" + r[1] + ".py",
      text: (r[0] + " " + r[1]).toLowerCase(),
    };
  });
  var body = table.tBodies[0];
  var query = document.getElementById("q");
  var executor = document.getElementById("executor");
  var worstBoxes = Array.prototype.slice.call(document.querySelectorAll('input[name="worst"]'));
  var kindBox = document.getElementById("kind-filter");
  var kindName = document.getElementById("kind-name");
  var shown = document.getElementById("shown");
  var more = document.getElementById("more");
  var kind = null;
  var matching = [];
  var limit = STEP;

  function cell(row, content, href, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    // every value isolated (bdi), so a right-to-left name never reorders its neighbours
    var bdi = document.createElement("bdi");
    bdi.textContent = content;
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.appendChild(bdi);
      td.appendChild(a);
    } else {
      td.appendChild(bdi);
    }
    row.appendChild(td);
  }

  function draw() {
    var rows = document.createDocumentFragment();
    matching.slice(0, limit).forEach(function (item) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-w", item.worst);
      tr.setAttribute("data-x", item.executors.join(" "));
      cell(tr, item.name, item.page);
      cell(tr, item.dag, item.file);
      cell(tr, item.worst, null, "sev-" + item.worst);
      item.counts.forEach(function (n) { cell(tr, String(n)); });
      cell(tr, item.executors.join(" "));
      cell(tr, String(item.tasks));
      rows.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(rows);
    shown.textContent = matching.length + " of " + items.length;
    more.hidden = matching.length <= limit;
    more.textContent = "show " + Math.min(STEP, matching.length - limit) + " more";
  }

  function apply() {
    var q = query.value.trim().toLowerCase();
    var ex = executor.value;
    var worst = {};
    worstBoxes.forEach(function (box) { worst[box.value] = box.checked; });
    var k = kind === null ? null : Number(kind);
    matching = items.filter(function (item) {
      return (!q || item.text.indexOf(q) !== -1) &&
        worst[item.worst] !== false &&
        (!ex || item.executors.indexOf(ex) !== -1) &&
        (k === null || item.kinds.indexOf(k) !== -1);
    });
    limit = STEP;
    draw();
  }

  query.addEventListener("input", apply);
  executor.addEventListener("change", apply);
  worstBoxes.forEach(function (box) { box.addEventListener("change", apply); });
  more.addEventListener("click", function () { limit += STEP; draw(); });
  document.querySelectorAll("button[data-worst]").forEach(function (button) {
    button.addEventListener("click", function () {
      var only = button.getAttribute("data-worst");
      worstBoxes.forEach(function (box) { box.checked = box.value === only; });
      apply();
      table.scrollIntoView();
    });
  });
  document.querySelectorAll("button[data-kind]").forEach(function (button) {
    button.addEventListener("click", function () {
      kind = button.getAttribute("data-kind");
      var row = button.closest("tr");
      kindName.textContent = row ? row.cells[row.cells.length - 2].textContent : kind;
      kindBox.hidden = false;
      apply();
      table.scrollIntoView();
    });
  });
  document.getElementById("kind-clear").addEventListener("click", function () {
    kind = null;
    kindBox.hidden = true;
    apply();
  });
  document.querySelector("form.filters").addEventListener("submit", function (e) {
    e.preventDefault();
  });
  apply();
})();
