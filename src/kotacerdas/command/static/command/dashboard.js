// Draws the command center's charts with the vendored Chart.js and keeps them
// drawn when HTMX replaces the live fragments. The server sends each chart's
// labels, data and axis units as JSON (json_script) next to its canvas.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "id";
  var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var oneDecimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

  function formatValue(unit, value) {
    if (value === null || value === undefined) {
      return "–";
    }
    if (unit === "rupiah") {
      return "Rp" + whole.format(value);
    }
    if (unit === "percent") {
      return oneDecimal.format(value) + " %";
    }
    if (unit === "kg") {
      return oneDecimal.format(value) + " kg";
    }
    return whole.format(value);
  }

  function cssColor(name, fallback) {
    var value = getComputedStyle(document.body).getPropertyValue(name).trim();
    return value || fallback;
  }

  function scalesFor(spec) {
    var scales = {};
    var horizontal = spec.indexAxis === "y";
    var grid = cssColor("--line", "#d7dde3");
    scales[horizontal ? "y" : "x"] = {
      stacked: !!spec.stacked,
      grid: { color: grid },
      // Every kelurahan keeps its label; the box is sized to fit them.
      ticks: { autoSkip: !horizontal },
    };
    Object.keys(spec.units).forEach(function (axis) {
      var unit = spec.units[axis];
      scales[axis] = {
        beginAtZero: true,
        stacked: axis !== "y1" && !!spec.stacked,
        position: axis === "y1" ? "right" : undefined,
        grid: { color: grid, drawOnChartArea: axis !== "y1" },
        title: { display: true, text: spec.axisTitles[axis] },
        ticks: {
          callback: function (value) {
            return formatValue(unit, value);
          },
        },
      };
    });
    return scales;
  }

  function datasetsFor(spec) {
    var horizontal = spec.indexAxis === "y";
    return spec.data.datasets.map(function (dataset) {
      var line = dataset.type === "line";
      var result = {
        type: dataset.type,
        label: dataset.label,
        data: dataset.data,
        backgroundColor: dataset.color,
        borderColor: dataset.color,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2 : 0,
        order: line ? 0 : 1,
      };
      if (!horizontal) {
        result.yAxisID = dataset.yAxisID;
      }
      return result;
    });
  }

  function unitOf(spec, dataset) {
    if (spec.indexAxis === "y") {
      return spec.units.x;
    }
    return spec.units[dataset.yAxisID || "y"];
  }

  function configFor(spec) {
    return {
      type: spec.type,
      data: { labels: spec.data.labels, datasets: datasetsFor(spec) },
      options: {
        // Charts are redrawn on every refresh; animating each one would flicker.
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.indexAxis || "x",
        interaction: { mode: "index", intersect: false },
        scales: scalesFor(spec),
        plugins: {
          legend: { labels: { color: cssColor("--ink", "#1b2733") } },
          tooltip: {
            callbacks: {
              label: function (context) {
                var unit = unitOf(spec, context.dataset);
                var value = spec.indexAxis === "y" ? context.parsed.x : context.parsed.y;
                return context.dataset.label + ": " + formatValue(unit, value);
              },
            },
          },
        },
      },
    };
  }

  function drawCharts(root) {
    if (typeof Chart === "undefined") {
      return;
    }
    Chart.defaults.color = cssColor("--muted", "#5b6875");
    if (document.body.classList.contains("wall")) {
      Chart.defaults.font.size = 16;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (Chart.getChart(canvas)) {
        return;
      }
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) {
        return;
      }
      new Chart(canvas, configFor(JSON.parse(source.textContent)));
    });
  }

  function destroyCharts(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = Chart.getChart(canvas);
      if (chart) {
        chart.destroy();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var asked = new URL(event.detail.requestConfig.path, window.location.href);
    if (xhr.responseURL && new URL(xhr.responseURL).pathname !== asked.pathname) {
      // A poll was redirected, most likely to the sign-in page after the
      // session ended: reload the whole page instead of nesting that page here.
      event.detail.shouldSwap = false;
      window.location.reload();
      return;
    }
    if (event.detail.shouldSwap && typeof Chart !== "undefined") {
      destroyCharts(event.detail.target);
    }
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    drawCharts(document);
  });
})();
