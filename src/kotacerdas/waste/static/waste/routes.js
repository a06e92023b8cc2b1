/* The route page's map: stops as numbered markers joined in visiting order.
 * It works with no internet, because Leaflet is served by the city's own
 * server and the stops come embedded in the page. Street tiles are added only
 * when the city configured a tile server. */
(function () {
  "use strict";

  var element = document.querySelector("[data-route-map]");
  var data = document.getElementById("route-stops");
  if (!element || !data || typeof L === "undefined") return;
  var stops = JSON.parse(data.textContent);

  var center = (element.dataset.center || "0,0").split(",").map(Number);
  var map = L.map(element).setView(center, 14);
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      attribution: element.dataset.tileAttribution || "",
      maxZoom: 19,
    }).addTo(map);
  }
  if (!stops.length) return;

  var line = stops.map(function (stop) { return [stop.lat, stop.lng]; });
  L.polyline(line, { color: "#0b6e4f", weight: 3, className: "route-line" }).addTo(map);
  stops.forEach(function (stop) {
    var unload = stop.kind === "unload";
    var marker = L.circleMarker([stop.lat, stop.lng], {
      radius: unload ? 8 : 6,
      color: unload ? "#c83c28" : "#0b6e4f",
      fillOpacity: stop.status === "planned" ? 0.3 : 0.9,
      className: "route-stop-marker",
    }).addTo(map);
    /* Text nodes only, so an address can never inject markup. */
    var box = document.createElement("div");
    box.textContent = stop.sequence + ". " + stop.arrival + " " + stop.label +
      (unload ? " (" + element.dataset.labelUnload + ")" : "");
    marker.bindPopup(box);
  });
  map.fitBounds(L.latLngBounds(line), { padding: [20, 20] });
})();
