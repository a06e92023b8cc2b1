/* The command center's city map: kelurahan shaded by a chosen figure, with
 * buildings, containers, today's routes and pickups, and open reports as
 * layers. Every layer is GeoJSON from /command/map/layers/; the live ones
 * reload on a timer without moving the map. It needs no internet: Leaflet
 * is served by the city's own server, and street tiles are drawn only when
 * the city configured a tile server.
 *
 * Popups and tooltips are built from text nodes, so no property can inject
 * markup. */
(function () {
  "use strict";

  var OVERLAYS = ["kelurahan", "routes", "containers", "pickups", "reports", "buildings"];
  var REFRESH_S = { kelurahan: 60, routes: 30, containers: 30, pickups: 30, reports: 30 };
  var WALL_ROTATE_S = 30;
  // Five-class palettes: light to dark blue, light to dark red, and red
  // through yellow to green for figures where higher is better.
  var PALETTES = {
    neutral: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    higher_worse: ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    higher_better: ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"],
  };
  var NO_DATA = "#d9d9d9";
  var FILL = { none: "#9e9e9e", low: "#2e7d32", mid: "#f9a825", above: "#c62828" };
  var ROUTE_COLOURS = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#2e7d32", "#ad1457", "#4e342e"];

  /* ---------------------------------------------------------------- text */

  // The same formats as the dashboard (command/display.py): "Rp1.234.567",
  // "53,9 %", kilograms below one tonne and tonnes from there, and times in
  // the city's time zone whatever the viewer's machine is set to.
  function formatters(lang, timeZone) {
    var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var tenth = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    var hundredth = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    var zone = timeZone || undefined;
    return {
      value: function (value, unit, noData) {
        if (value === null || value === undefined) return noData;
        if (unit === "percent") return tenth.format(value / 10) + " %";
        if (unit === "rupiah") return "Rp" + whole.format(value);
        if (unit === "grams") {
          if (Math.abs(value) >= 1000000) return hundredth.format(value / 1000000) + " t";
          return tenth.format(value / 1000) + " kg";
        }
        return whole.format(value);
      },
      time: function (iso) {
        return iso ? new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", timeZone: zone }) : "";
      },
      dateTime: function (iso) {
        return iso ? new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short", timeZone: zone }) : "";
      },
    };
  }

  function box(title) {
    var element = document.createElement("div");
    element.className = "command-map-popup";
    if (title) {
      var heading = document.createElement("strong");
      heading.textContent = title;
      element.appendChild(heading);
    }
    return element;
  }

  function line(parent, label, value, link) {
    var row = document.createElement("div");
    var name = document.createElement("span");
    name.className = "label";
    name.textContent = label + ": ";
    row.appendChild(name);
    if (link) {
      var anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = value;
      anchor.setAttribute("aria-label", label + ": " + value);
      row.appendChild(anchor);
    } else {
      row.appendChild(document.createTextNode(value));
    }
    parent.appendChild(row);
    return row;
  }

  function flag(parent, text) {
    var row = document.createElement("div");
    row.className = "flag";
    row.textContent = text;
    parent.appendChild(row);
  }

  /* ------------------------------------------------------------- classes */

  /* Equal-interval classes of whole numbers between the smallest and the
   * largest value, at most five; each class is {from, to}, both included. */
  function classesOf(values) {
    var known = values.filter(function (v) { return v !== null && v !== undefined; });
    if (!known.length) return [];
    var min = Math.min.apply(null, known);
    var max = Math.max.apply(null, known);
    var result = [];
    if (max - min < 5) {
      for (var v = min; v <= max; v++) result.push({ from: v, to: v });
      return result;
    }
    var step = (max - min) / 5;
    var bounds = [0, 1, 2, 3, 4, 5].map(function (i) { return i === 5 ? max : min + Math.round(i * step); });
    for (var i = 0; i < 5; i++) result.push({ from: i === 0 ? bounds[0] : bounds[i] + 1, to: bounds[i + 1] });
    return result;
  }

  function paletteFor(scale, count) {
    var palette = PALETTES[scale] || PALETTES.neutral;
    if (count === 1) return [palette[scale === "higher_better" ? 4 : 2]];
    return Array.from({ length: count }, function (_, i) { return palette[Math.round((i * 4) / (count - 1))]; });
  }

  function colourOf(value, classes, colours) {
    if (value === null || value === undefined) return NO_DATA;
    for (var i = 0; i < classes.length; i++) if (value <= classes[i].to) return colours[i];
    return colours[colours.length - 1];
  }

  function fillClass(properties) {
    if (properties.fill_percent === null) return "none";
    if (properties.above) return "above";
    return properties.fill_percent < 50 ? "low" : "mid";
  }

  /* ---------------------------------------------------------------- map */

  function CommandMap(element) {
    this.element = element;
    this.labels = element.dataset;
    this.lang = document.documentElement.lang || "id";
    this.format = formatters(this.lang, element.dataset.timeZone);
    this.wall = element.dataset.wall === "1";
    this.panel = element.parentElement;
    this.note = this.panel.querySelector("[data-map-note]");
    this.updated = this.panel.querySelector("[data-map-updated]");
    this.pending = {};
    this.failed = {};
    this.figures = [];
    this.figure = element.dataset.figure || "";
    this.fitted = false;
    this.symbolsOpen = this.wall || element.dataset.fullPage === "1";
    this.buildMap();
    this.buildLayers();
    this.buildControls();
    this.start();
  }

  CommandMap.prototype.buildMap = function () {
    var element = this.element;
    var center = (element.dataset.center || "").split(",").map(Number);
    /* The wall has no zoom buttons, so the city may fill it at a fractional zoom. */
    this.map = L.map(element, {
      zoomControl: !this.wall,
      zoomSnap: this.wall ? 0.25 : 1,
      attributionControl: Boolean(element.dataset.tileUrl),
    });
    if (center.length === 2 && center.every(isFinite)) {
      this.map.setView(center, Number(element.dataset.zoom) || 14);
    } else {
      this.map.setView([0, 0], 2);
    }
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { attribution: element.dataset.tileAttribution || "", maxZoom: 19 }).addTo(this.map);
    }
  };

  CommandMap.prototype.buildLayers = function () {
    var self = this;
    /* Panes keep boundaries under routes and routes under points, whichever
     * layer's response arrives first (the overlay pane is at z-index 400). */
    [["commandAreas", 350], ["commandRoutes", 380], ["commandBuildings", 390]].forEach(function (pane) {
      self.map.createPane(pane[0]).style.zIndex = pane[1];
    });
    this.layers = {
      kelurahan: L.geoJSON(null, {
        pane: "commandAreas",
        style: function (feature) { return self.kelurahanStyle(feature); },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(function () { return self.kelurahanTooltip(layer.feature); }, { sticky: true });
          layer.bindPopup(function () { return self.kelurahanPopup(layer.feature); });
        },
      }),
      routes: L.geoJSON(null, {
        pane: "commandRoutes",
        style: function (feature) {
          return { color: ROUTE_COLOURS[feature.properties.plan_id % ROUTE_COLOURS.length], weight: 4, opacity: 0.85, className: "command-route-line" };
        },
        onEachFeature: function (feature, layer) { layer.bindPopup(function () { return self.routePopup(feature); }); },
      }),
      containers: this.pointLayer(this.containerMarker, this.containerPopup),
      pickups: this.pointLayer(this.pickupMarker, this.pickupPopup),
      reports: this.pointLayer(this.reportMarker, this.reportPopup),
      buildings: this.pointLayer(this.buildingMarker, this.buildingPopup, "commandBuildings"),
    };
    /* Buildings show only from zoom 15, which the wall never reaches. */
    OVERLAYS.forEach(function (name) {
      if (!(self.wall && name === "buildings")) self.layers[name].addTo(self.map);
    });
  };

  CommandMap.prototype.pointLayer = function (marker, popup, pane) {
    var self = this;
    return L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        var layer = marker.call(self, feature.properties, latlng);
        if (pane) layer.options.pane = pane;
        return layer;
      },
      onEachFeature: function (feature, layer) { layer.bindPopup(function () { return popup.call(self, feature.properties); }); },
    });
  };

  CommandMap.prototype.buildControls = function () {
    var self = this;
    this.legend = L.control({ position: "bottomright" });
    this.legend.onAdd = function () {
      var element = L.DomUtil.create("div", "command-map-legend");
      element.setAttribute("data-testid", "map-legend");
      L.DomEvent.disableClickPropagation(element);
      return element;
    };
    this.legend.addTo(this.map);
    if (this.wall) return;

    var overlays = {};
    OVERLAYS.forEach(function (name) {
      overlays[self.labels["labelLayer" + name.charAt(0).toUpperCase() + name.slice(1)]] = self.layers[name];
    });
    L.control.layers(null, overlays, { collapsed: this.element.dataset.fullPage !== "1", position: "topright" }).addTo(this.map);

    this.chooser = L.control({ position: "topleft" });
    this.chooser.onAdd = function () {
      var element = L.DomUtil.create("div", "command-map-chooser");
      var label = L.DomUtil.create("label", "", element);
      label.textContent = self.labels.labelShadeBy;
      self.select = L.DomUtil.create("select", "", element);
      self.select.setAttribute("data-testid", "shading-select");
      label.htmlFor = self.select.id = "command-map-figure";
      self.select.addEventListener("change", function () { self.setFigure(self.select.value); });
      L.DomEvent.disableClickPropagation(element);
      return element;
    };
    this.chooser.addTo(this.map);
  };

  /* ----------------------------------------------------------- kelurahan */

  CommandMap.prototype.figureDef = function () {
    var key = this.figure;
    return this.figures.find(function (f) { return f.key === key; }) || this.figures[0];
  };

  CommandMap.prototype.shading = function () {
    var definition = this.figureDef();
    var values = [];
    this.layers.kelurahan.eachLayer(function (layer) { values.push(layer.feature.properties.values[definition.key]); });
    var classes = classesOf(values);
    return { definition: definition, classes: classes, colours: paletteFor(definition.scale, classes.length) };
  };

  CommandMap.prototype.kelurahanStyle = function (feature) {
    var colour = this.current ? colourOf(feature.properties.values[this.current.definition.key], this.current.classes, this.current.colours) : NO_DATA;
    return { color: "#37474f", weight: 1.5, fillColor: colour, fillOpacity: 0.65, className: "command-kelurahan" };
  };

  CommandMap.prototype.kelurahanTooltip = function (feature) {
    var definition = this.figureDef();
    var element = box(feature.properties.name);
    line(element, definition.label, this.format.value(feature.properties.values[definition.key], definition.unit, this.labels.labelNoData));
    return element;
  };

  CommandMap.prototype.kelurahanPopup = function (feature) {
    var self = this;
    var element = box(feature.properties.name);
    this.figures.forEach(function (definition) {
      var text = self.format.value(feature.properties.values[definition.key], definition.unit, self.labels.labelNoData);
      var row = line(element, definition.label, text, feature.properties.lists[definition.key]);
      if (definition.key === self.figure) row.className = "chosen";
    });
    return element;
  };

  CommandMap.prototype.setFigure = function (key) {
    this.figure = key;
    if (this.select && this.select.value !== key) this.select.value = key;
    this.current = this.shading();
    var self = this;
    this.layers.kelurahan.setStyle(function (feature) { return self.kelurahanStyle(feature); });
    this.drawLegend();
  };

  CommandMap.prototype.showKelurahan = function (collection) {
    this.figures = collection.figures;
    if (!this.figure || !this.figures.some(function (f) { return f.key === this.figure; }, this)) {
      this.figure = collection.default_figure;
    }
    if (this.select && !this.select.options.length) {
      var select = this.select;
      this.figures.forEach(function (definition) { select.add(new Option(definition.label, definition.key)); });
    }
    /* Update in place, so an open popup and the view stay as they are. */
    var byCode = {};
    collection.features.forEach(function (feature) { byCode[feature.properties.code] = feature; });
    var known = 0;
    this.layers.kelurahan.eachLayer(function (layer) {
      var fresh = byCode[layer.feature.properties.code];
      if (fresh) { layer.feature.properties = fresh.properties; known++; }
    });
    if (known !== collection.features.length || known !== this.layers.kelurahan.getLayers().length) {
      this.layers.kelurahan.clearLayers();
      this.layers.kelurahan.addData(collection);
    }
    this.setFigure(this.figure);
    this.fitOnce();
  };

  CommandMap.prototype.fitOnce = function () {
    if (this.fitted || !this.layers.kelurahan.getLayers().length) return;
    var size = this.map.getSize();
    if (!size.x || !size.y) return;
    var legend = this.legend.getContainer();
    this.map.fitBounds(this.layers.kelurahan.getBounds(), {
      paddingTopLeft: [8, 8],
      paddingBottomRight: [Math.min(legend.offsetWidth + 16, size.x / 3), 8],
    });
    this.fitted = true;
  };

  /* ------------------------------------------------------- point layers */

  CommandMap.prototype.containerMarker = function (properties, latlng) {
    var level = fillClass(properties);
    return L.circleMarker(latlng, {
      radius: level === "above" ? 9 : 6,
      color: level === "above" ? "#7f0000" : "#263238",
      weight: level === "above" ? 3 : 1,
      fillColor: FILL[level],
      fillOpacity: 0.9,
      className: "command-container command-container-" + level,
    });
  };

  CommandMap.prototype.containerPopup = function (p) {
    var element = box(p.name);
    line(element, this.labels.labelPlate, p.plate_code);
    line(element, this.labels.labelSite, p.site);
    line(element, this.labels.labelFill, p.fill_percent === null ? this.labels.labelNoReading : p.fill_percent + "%");
    line(element, this.labels.labelThreshold, p.threshold_percent + "%");
    if (p.observed_at) line(element, this.labels.labelObserved, this.format.dateTime(p.observed_at));
    line(element, this.labels.labelStatus, p.status_label);
    this.listLink(element, "containers", { status: p.above ? "above" : "" });
    return element;
  };

  CommandMap.prototype.pickupMarker = function (properties, latlng) {
    var collected = properties.outcome === "collected";
    return L.circleMarker(latlng, {
      radius: properties.flagged ? 7 : 4,
      color: properties.flagged ? "#ff6f00" : "#ffffff",
      weight: properties.flagged ? 3 : 1,
      fillColor: collected ? "#1565c0" : "#6d4c41",
      fillOpacity: 0.9,
      className: "command-pickup" + (properties.flagged ? " command-pickup-flagged" : ""),
    });
  };

  CommandMap.prototype.pickupPopup = function (p) {
    var element = box(p.plate_code);
    line(element, this.labels.labelOutcome, p.outcome_label);
    line(element, this.labels.labelScanned, this.format.time(p.scanned_at));
    if (p.vehicle) line(element, this.labels.labelVehicle, p.vehicle);
    if (p.flagged) flag(element, this.labels.labelFlagged);
    this.listLink(element, "pickups", p.flagged ? { review: "pending" } : { period: "today" });
    return element;
  };

  CommandMap.prototype.reportMarker = function (properties, latlng) {
    /* Leaflet moves the icon with a CSS transform, so the inner span turns. */
    var icon = L.divIcon({
      className: "command-report" + (properties.overdue ? " command-report-overdue" : ""),
      html: "<span></span>",
      iconSize: properties.overdue ? [16, 16] : [12, 12],
    });
    return L.marker(latlng, { icon: icon, keyboard: false, title: properties.kind_label });
  };

  CommandMap.prototype.reportPopup = function (p) {
    var element = box(p.kind_label);
    line(element, this.labels.labelStatus, p.status_label);
    line(element, this.labels.labelFiled, this.format.dateTime(p.filed_at));
    line(element, this.labels.labelAge, String(p.age_hours));
    line(element, this.labels.labelDue, this.format.dateTime(p.sla_due_at));
    if (p.overdue) flag(element, this.labels.labelOverdue);
    this.listLink(element, "reports", { status: p.overdue ? "overdue" : "open" });
    return element;
  };

  CommandMap.prototype.buildingMarker = function (properties, latlng) {
    return L.circleMarker(latlng, { radius: 3, color: "#455a64", weight: 1, fillColor: "#90a4ae", fillOpacity: 0.9, className: "command-building" });
  };

  CommandMap.prototype.buildingPopup = function (p) {
    var element = box(p.plate_code);
    line(element, this.labels.labelRtRw, p.rt + "/" + p.rw);
    line(element, this.labels.labelUse, p.use_label);
    line(element, this.labels.labelLevy, p.levy_class || this.labels.labelNone);
    return element;
  };

  CommandMap.prototype.routePopup = function (feature) {
    var p = feature.properties;
    var element = box(p.vehicle + " · " + p.vehicle_kind);
    line(element, this.labels.labelStatus, p.status_label);
    line(element, this.labels.labelStopsDone, p.stops_done + " / " + p.stops_planned);
    this.listLink(element, "routes", {});
    return element;
  };

  CommandMap.prototype.listLink = function (parent, name, params) {
    var query = new URLSearchParams();
    Object.keys(params).forEach(function (key) { if (params[key]) query.set(key, params[key]); });
    var anchor = document.createElement("a");
    var text = query.toString();
    anchor.href = this.element.dataset["urlList" + name.charAt(0).toUpperCase() + name.slice(1)] + (text ? "?" + text : "");
    anchor.textContent = this.labels.labelOpenList;
    parent.appendChild(anchor);
  };

  /* -------------------------------------------------------------- legend */

  CommandMap.prototype.drawLegend = function () {
    var self = this;
    var element = this.legend.getContainer();
    element.textContent = "";
    if (this.current) this.legendShading(element);
    var symbols = L.DomUtil.create("details", "legend-symbols", element);
    symbols.open = this.symbolsOpen;
    symbols.addEventListener("toggle", function () { self.symbolsOpen = symbols.open; });
    L.DomUtil.create("summary", "", symbols).textContent = this.labels.labelSymbols;
    element = symbols;
    if (this.map.hasLayer(this.layers.containers)) {
      this.legendSection(element, this.labels.labelLayerContainers, [
        ["dot", FILL.low, this.labels.labelFillLow],
        ["dot", FILL.mid, this.labels.labelFillMid],
        ["dot above", FILL.above, this.labels.labelFillAbove],
        ["dot", FILL.none, this.labels.labelNoReading],
      ]);
    }
    if (this.map.hasLayer(this.layers.pickups)) {
      this.legendSection(element, this.labels.labelLayerPickups, [
        ["dot small", "#1565c0", this.labels.labelPickupCollected],
        ["dot small", "#6d4c41", this.labels.labelPickupOther],
        ["dot flagged", "#1565c0", this.labels.labelFlagged],
      ]);
    }
    if (this.map.hasLayer(this.layers.reports)) {
      this.legendSection(element, this.labels.labelLayerReports, [
        ["diamond", "", this.labels.labelReportOpen],
        ["diamond overdue", "", this.labels.labelOverdue],
      ]);
    }
    if (this.map.hasLayer(this.layers.routes)) {
      this.legendSection(element, this.labels.labelLayerRoutes, [["stroke", ROUTE_COLOURS[0], this.labels.labelRoute]]);
    }
  };

  CommandMap.prototype.legendShading = function (element) {
    var self = this;
    var definition = this.current.definition;
    var rows = this.current.classes.map(function (range, i) {
      var from = self.format.value(range.from, definition.unit, "");
      var to = self.format.value(range.to, definition.unit, "");
      return ["box", self.current.colours[i], range.from === range.to ? from : from + " – " + to];
    });
    rows.push(["box", NO_DATA, this.labels.labelNoData]);
    var section = this.legendSection(element, definition.label, rows);
    section.setAttribute("data-testid", "legend-shading");
  };

  CommandMap.prototype.legendSection = function (element, title, rows) {
    var section = L.DomUtil.create("section", "", element);
    var heading = L.DomUtil.create("h3", "", section);
    heading.textContent = title;
    rows.forEach(function (row) {
      var item = L.DomUtil.create("div", "legend-row", section);
      var swatch = L.DomUtil.create("span", "swatch " + row[0], item);
      if (row[1]) swatch.style.background = row[1];
      item.appendChild(document.createTextNode(row[2]));
    });
    return section;
  };

  /* ------------------------------------------------------------- loading */

  CommandMap.prototype.viewQuery = function () {
    var view = this.map.getBounds();
    var bbox = [
      Math.max(-180, view.getWest()), Math.max(-90, view.getSouth()),
      Math.min(180, view.getEast()), Math.min(90, view.getNorth()),
    ].map(function (n) { return n.toFixed(6); }).join(",");
    return "bbox=" + bbox + "&zoom=" + Math.round(this.map.getZoom());
  };

  CommandMap.prototype.load = function (name) {
    var self = this;
    if (name !== "kelurahan" && !this.map.hasLayer(this.layers[name])) return;
    /* A layer with an open popup waits for the next round, so the popup stays. */
    var open = false;
    this.layers[name].eachLayer(function (layer) { open = open || layer.isPopupOpen(); });
    if (open && name !== "kelurahan") return;
    if (this.pending[name]) this.pending[name].abort();
    var controller = (this.pending[name] = new AbortController());
    var query = name === "buildings" ? "?" + this.viewQuery() : "";
    fetch(this.element.dataset["url" + name.charAt(0).toUpperCase() + name.slice(1)] + query, {
      signal: controller.signal,
      credentials: "same-origin",
      headers: { Accept: "application/geo+json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(name + " " + response.status);
        return response.json();
      })
      .then(function (collection) {
        delete self.failed[name];
        self.show(name, collection);
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        self.failed[name] = true;
        self.showStatus();
      });
  };

  CommandMap.prototype.show = function (name, collection) {
    if (name === "kelurahan") {
      this.showKelurahan(collection);
    } else {
      this.layers[name].clearLayers();
      this.layers[name].addData(collection);
    }
    if (name === "buildings") this.buildingsNote(collection);
    this.element.dataset["loaded" + name.charAt(0).toUpperCase() + name.slice(1)] = String(collection.features.length);
    this.lastUpdate = new Date();
    this.showStatus();
  };

  CommandMap.prototype.loadBuildings = function () {
    if (!this.map.hasLayer(this.layers.buildings)) { this.noteText = ""; this.showStatus(); return; }
    if (this.map.getZoom() < 15) {
      if (this.pending.buildings) this.pending.buildings.abort();
      this.layers.buildings.clearLayers();
      this.noteText = this.labels.labelZoomIn;
      this.showStatus();
      return;
    }
    this.load("buildings");
  };

  CommandMap.prototype.buildingsNote = function (collection) {
    if (collection.truncated) this.noteText = this.labels.labelTruncated.replace("{count}", this.format.value(collection.limit, "count", ""));
    else if (!collection.features.length && this.map.getZoom() < collection.min_zoom) this.noteText = this.labels.labelZoomIn;
    else this.noteText = "";
  };

  CommandMap.prototype.showStatus = function () {
    this.note.textContent = this.noteText || "";
    if (Object.keys(this.failed).length) this.updated.textContent = this.labels.labelFailed;
    else if (this.lastUpdate) this.updated.textContent = this.labels.labelUpdated + " " + this.format.time(this.lastUpdate.toISOString());
  };

  CommandMap.prototype.start = function () {
    var self = this;
    ["kelurahan", "routes", "containers", "pickups", "reports"].forEach(function (name) {
      self.load(name);
      self.timers = (self.timers || []).concat(setInterval(function () { self.tick(name); }, REFRESH_S[name] * 1000));
    });
    this.loadBuildings();
    var moved = null;
    this.map.on("moveend", function () { clearTimeout(moved); moved = setTimeout(function () { self.loadBuildings(); }, 250); });
    this.map.on("overlayadd", function (event) {
      var name = OVERLAYS.find(function (key) { return self.layers[key] === event.layer; });
      if (name === "buildings") self.loadBuildings();
      else if (name) self.load(name);
      self.drawLegend();
    });
    this.map.on("overlayremove", function (event) {
      if (event.layer === self.layers.buildings) self.loadBuildings();
      self.drawLegend();
    });
    if (this.wall) {
      this.timers.push(setInterval(function () { self.rotateFigure(); }, WALL_ROTATE_S * 1000));
    }
    /* A panel that was hidden or resized needs Leaflet to measure it again. */
    if (window.ResizeObserver) {
      new ResizeObserver(function () { self.map.invalidateSize(); self.fitOnce(); }).observe(this.element);
    }
  };

  CommandMap.prototype.tick = function (name) {
    if (!document.contains(this.element)) { this.stop(); return; }
    if (document.hidden && !this.wall) return;
    this.load(name);
  };

  CommandMap.prototype.rotateFigure = function () {
    if (!this.figures.length) return;
    var index = this.figures.indexOf(this.figureDef());
    this.setFigure(this.figures[(index + 1) % this.figures.length].key);
  };

  CommandMap.prototype.stop = function () {
    (this.timers || []).forEach(clearInterval);
    this.map.remove();
  };

  function startAll(root) {
    if (typeof L === "undefined") return;
    root.querySelectorAll("[data-command-map]").forEach(function (element) {
      if (element.commandMap) return;
      element.commandMap = new CommandMap(element);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { startAll(document); });
  } else {
    startAll(document);
  }
  /* The dashboard may swap the panel in with HTMX. */
  document.addEventListener("htmx:load", function (event) { startAll(event.target); });
})();
