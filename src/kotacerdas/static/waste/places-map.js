/* Map of waste sites and containers: one circle per point, coloured by kind.
 * The features come from the page (json_script "places-features"). Street
 * tiles are added only when the city configured a tile server. */
(function () {
  "use strict";
  var COLOURS = {
    tps: "#2f7d32", tps3r: "#00838f", tpst: "#6a1b9a", tpa: "#5d4037",
    depot: "#37474f", waste_bank: "#f9a825", container: "#1565c0"
  };
  var element = document.querySelector("[data-places-map]");
  var source = document.getElementById("places-features");
  if (!element || !source || typeof L === "undefined") return;

  var center = (element.dataset.center || "0,0").split(",").map(Number);
  var map = L.map(element).setView(center, Number(element.dataset.zoom) || 14);
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      attribution: element.dataset.tileAttribution || "", maxZoom: 19
    }).addTo(map);
  }
  var layer = L.geoJSON(JSON.parse(source.textContent), {
    pointToLayer: function (feature, latlng) {
      var props = feature.properties;
      var colour = props.state === "due" ? "#c62828" : (COLOURS[props.kind] || "#555");
      return L.circleMarker(latlng, {
        radius: props.kind === "container" ? 5 : 8, color: colour, fillColor: colour,
        fillOpacity: 0.7, weight: 1, className: "places-marker places-marker-" + props.kind
      });
    },
    onEachFeature: function (feature, marker) {
      var box = document.createElement("div");
      var name = document.createElement("strong");
      name.textContent = feature.properties.name;
      box.appendChild(name);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(feature.properties.detail));
      marker.bindPopup(box);
    }
  }).addTo(map);
  if (layer.getLayers().length) map.fitBounds(layer.getBounds().pad(0.1));
})();
