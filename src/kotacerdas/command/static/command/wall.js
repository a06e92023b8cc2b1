// Rotates the wall's panels and shows the clock. The body lists the panels in
// rotation order (data-panels) and the seconds each stays (data-rotate-s).
// HTMX replaces some panels on every refresh, so each step looks them up again
// by name, and every swap marks the current panel again.
(function () {
  "use strict";

  var body = document.body;
  var names = body.dataset.panels.split(" ");
  var rotateMs = Math.max(Number(body.dataset.rotateS) || 20, 1) * 1000;
  var current = 0;
  var nameLabel = document.querySelector(".wall-panel-name");
  var clock = document.querySelector(".wall-clock");
  var lang = document.documentElement.lang || "id";
  // The clock shows the city's time, whatever the zone of the wall's computer.
  var timeFormat = new Intl.DateTimeFormat(lang, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: body.dataset.timeZone || undefined,
  });

  function panels() {
    return Array.prototype.slice.call(document.querySelectorAll(".wall-panel"));
  }

  function show() {
    var name = names[current];
    panels().forEach(function (panel) {
      var active = panel.dataset.panel === name;
      panel.classList.toggle("is-current", active);
      if (active && nameLabel) {
        nameLabel.textContent = panel.dataset.title || "";
      }
    });
    body.dataset.currentPanel = name;
    // A map or chart drawn while hidden has no size; a resize event makes
    // Leaflet and Chart.js measure their containers again.
    window.dispatchEvent(new Event("resize"));
  }

  function next() {
    current = (current + 1) % names.length;
    show();
  }

  function tick() {
    if (clock) {
      clock.textContent = timeFormat.format(new Date());
    }
  }

  body.classList.add("wall-rotating");
  show();
  tick();
  window.setInterval(next, rotateMs);
  window.setInterval(tick, 1000);
  body.addEventListener("htmx:afterSwap", show);
})();
