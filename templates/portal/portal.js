(function () {
  "use strict";
  // Live progress: each [data-status-url] polls its upload's JSON status until it is finished.
  document.querySelectorAll("[data-status-url]").forEach(function (box) {
    if (box.dataset.finished === "true") return;
    var bar = box.querySelector(".progress > span");
    var text = box.querySelector("[data-status-text]");
    var timer = null;
    function poll() {
      fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (s) {
          if (bar) { bar.style.width = s.percent + "%"; bar.parentNode.setAttribute("aria-valuenow", s.percent); }
          if (text) { text.textContent = s.finished ? s.status_display : s.status_display + " · " + s.percent + "%"; }
          var report = document.getElementById("report");
          if (report && box.hasAttribute("data-report")) { report.textContent = s.report; }
          if (s.finished) {
            box.dataset.finished = "true";
            box.querySelector(".progress").classList.add("finished");
            clearInterval(timer);
            if (box.hasAttribute("data-reload-on-finish")) window.location.reload();
          }
        })
        .catch(function () { clearInterval(timer); });
    }
    timer = setInterval(poll, 1000);
    poll();
  });
  // Drag and drop onto the upload form; the plain file input works without any of this.
  document.querySelectorAll(".dropzone").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    var label = zone.querySelector("[data-file-name]");
    function show() { if (label && input.files.length) label.textContent = input.files[0].name; }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
    });
  });
  // "Select all" for the entries table.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=" + box.dataset.selectAll + "]").forEach(function (c) { c.checked = box.checked; });
    });
  });
})();
