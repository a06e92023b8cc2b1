/* The registry's maps: the building map and the location picker of the
 * building form. Both run with no internet, because Leaflet is served from
 * the city's own server and the kelurahan boundaries come embedded in the
 * page. Street tiles are added only when the city configured a tile server. */
(function () {
  "use strict";

  function readBoundaries() {
    var script = document.getElementById("kelurahan-boundaries");
    return script ? JSON.parse(script.textContent) : null;
  }

  function baseMap(element) {
    var center = (element.dataset.center || "0,0").split(",").map(Number);
    var map = L.map(element, { preferCanvas: false }).setView(center, Number(element.dataset.zoom) || 14);
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, {
        attribution: element.dataset.tileAttribution || "",
        maxZoom: 19,
      }).addTo(map);
    }
    var boundaries = readBoundaries();
    var layer = null;
    if (boundaries && boundaries.features.length) {
      layer = L.geoJSON(boundaries, {
        interactive: false,
        style: function (feature) {
          var focused = feature.properties.code === element.dataset.focus;
          return { color: focused ? "#0b6e4f" : "#5b6875", weight: focused ? 3 : 1.5, fillOpacity: focused ? 0.08 : 0.03 };
        },
      }).addTo(map);
      layer.eachLayer(function (area) {
        var center = area.getBounds().getCenter();
        L.tooltip({ permanent: true, direction: "center", className: "area-label", interactive: false })
          .setLatLng(center).setContent(area.feature.properties.name).addTo(map);
      });
    }
    return { map: map, boundaries: layer };
  }

  function focusBounds(element, layer) {
    if (!layer) return null;
    var focused = null;
    layer.eachLayer(function (area) {
      if (area.feature.properties.code === element.dataset.focus) focused = area.getBounds();
    });
    return focused || layer.getBounds();
  }

  /* A popup built from DOM nodes, so an address can never inject markup. */
  function popupContent(element, properties) {
    var box = document.createElement("div");
    box.className = "building-popup";
    function line(label, value) {
      var row = document.createElement("div");
      var name = document.createElement("strong");
      name.textContent = label + ": ";
      row.appendChild(name);
      row.appendChild(document.createTextNode(value));
      box.appendChild(row);
    }
    line(element.dataset.labelPlate, properties.plate_code);
    if (properties.address) {
      var address = document.createElement("div");
      address.textContent = properties.address;
      box.appendChild(address);
    }
    line(element.dataset.labelUse, properties.use_label);
    line(element.dataset.labelLevy, properties.levy_class || element.dataset.labelNone);
    var link = document.createElement("a");
    link.href = element.dataset.detailUrl.replace(/0\/$/, properties.id + "/");
    link.textContent = element.dataset.labelOpen;
    box.appendChild(link);
    return box;
  }

  function buildingMap(element) {
    var made = baseMap(element);
    var map = made.map;
    var markers = L.layerGroup().addTo(map);
    var status = document.getElementById("map-status");
    var filters = document.getElementById("map-filters");
    var pending = null;
    var bounds = focusBounds(element, made.boundaries);
    if (bounds) map.fitBounds(bounds);

    function show(features) {
      markers.clearLayers();
      var clustered = false;
      features.forEach(function (feature) {
        var latlng = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
        var properties = feature.properties;
        if (properties.kind === "cluster") {
          clustered = true;
          var size = Math.round(Math.min(48, 22 + 4 * Math.log(properties.count)));
          var icon = L.divIcon({
            className: "registry-cluster-marker",
            html: String(properties.count),
            iconSize: [size, size],
          });
          L.marker(latlng, { icon: icon, keyboard: false, title: properties.count + " " + element.dataset.labelCluster })
            .on("click", function () { map.setView(latlng, map.getZoom() + 2); })
            .addTo(markers);
        } else {
          L.circleMarker(latlng, { radius: 6, className: "registry-building-marker", color: "#0b6e4f", fillColor: "#1fa37a", fillOpacity: 0.9, weight: 1 })
            .bindPopup(popupContent(element, properties))
            .addTo(markers);
        }
      });
      element.dataset.loaded = String(features.length);
      status.textContent = clustered ? element.dataset.labelGrouped : features.length + " " + element.dataset.labelShown;
    }

    function hasFilters() {
      if (!filters) return false;
      return Array.from(new FormData(filters).values()).some(function (value) { return value !== ""; });
    }

    /* With filters set, the first load requests every match and fits the map
     * to them. After that, each move loads what is in view. */
    function load(fitToResults) {
      var query = new URLSearchParams(filters ? new FormData(filters) : undefined);
      if (fitToResults !== true) {
        var view = map.getBounds();
        query.set("bbox", [view.getWest(), view.getSouth(), view.getEast(), view.getNorth()].map(function (n) { return n.toFixed(6); }).join(","));
      }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(element.dataset.source + "?" + query.toString(), { signal: pending.signal, headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (collection) {
          show(collection.features);
          if (fitToResults === true && collection.features.length) {
            var found = L.featureGroup(markers.getLayers()).getBounds();
            map.fitBounds(found, { maxZoom: 17, padding: [20, 20] });
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") status.textContent = element.dataset.labelFailed;
        });
    }

    map.on("moveend", function () { load(false); });
    if (filters) {
      filters.addEventListener("submit", function (event) {
        event.preventDefault();
        var query = new URLSearchParams(new FormData(filters));
        history.replaceState(null, "", "?" + query.toString());
        load(hasFilters());
      });
    }
    load(hasFilters());
  }

  function locationPicker(element) {
    var made = baseMap(element);
    var map = made.map;
    var lat = document.getElementById(element.dataset.latInput);
    var lng = document.getElementById(element.dataset.lngInput);
    var kelurahan = document.getElementById(element.dataset.kelurahanInput);
    var marker = null;

    function place(latlng, pan) {
      if (marker) marker.setLatLng(latlng);
      else marker = L.circleMarker(latlng, { radius: 8, className: "registry-picked-point", color: "#b3261e", fillOpacity: 0.8 }).addTo(map);
      if (pan) map.panTo(latlng);
    }

    function fromInputs() {
      var y = parseFloat((lat.value || "").replace(",", "."));
      var x = parseFloat((lng.value || "").replace(",", "."));
      if (isFinite(y) && isFinite(x)) { place([y, x], true); return true; }
      return false;
    }

    function focusKelurahan() {
      if (!kelurahan || !made.boundaries) return;
      element.dataset.focus = kelurahan.value;
      made.boundaries.resetStyle();
      var bounds = focusBounds(element, made.boundaries);
      if (bounds && !marker) map.fitBounds(bounds);
    }

    map.on("click", function (event) {
      place(event.latlng, false);
      lat.value = event.latlng.lat.toFixed(6);
      lng.value = event.latlng.lng.toFixed(6);
    });
    [lat, lng].forEach(function (input) { input.addEventListener("change", fromInputs); });
    if (kelurahan) kelurahan.addEventListener("change", focusKelurahan);
    if (!fromInputs()) focusKelurahan();
    // The picker sits in a grid column that may still be resizing on load.
    setTimeout(function () { map.invalidateSize(); }, 0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") return;
    document.querySelectorAll("[data-building-map]").forEach(buildingMap);
    document.querySelectorAll("[data-map-picker]").forEach(locationPicker);
  });
})();
