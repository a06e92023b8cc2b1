/*
 * The collector's phone page: today's route, scanning plates and recording
 * pickups, with or without signal.
 *
 * qr-camera.js reads the camera, collector-plates.js checks a plate's
 * signature on the phone and collector-queue.js keeps pickups in IndexedDB.
 * Every saved pickup goes into the queue first and is then sent to the
 * pickups API. A failed send is retried with exponential backoff (1 s
 * doubling up to 60 s), and at once when the browser reports it is online.
 */
(function () {
  "use strict";

  var root = document.getElementById("collector");
  if (!root || !window.KotaCerdasPlates || !window.KotaCerdasPickupQueue) {
    return;
  }
  var texts = JSON.parse(document.getElementById("collector-texts").textContent);
  var plateKeys = JSON.parse(document.getElementById("plate-keys").textContent);
  var route = JSON.parse(document.getElementById("collector-route").textContent);
  var apiUrl = root.dataset.apiUrl;

  var MIN_RETRY_MS = 1000;
  var MAX_RETRY_MS = 60000;
  var GPS_TIMEOUT_MS = 10000;
  // A position cached by the phone for longer could come from the previous
  // house: a collector walks about 7 m in 5 s.
  var GPS_MAX_AGE_MS = 5000;

  var pickupSection = document.getElementById("pickup");
  var form = document.getElementById("pickup-form");
  var problemLine = document.getElementById("scan-problem");
  var formProblem = document.getElementById("form-problem");
  var offlineLine = document.getElementById("offline-check");
  var lastResult = document.getElementById("last-result");
  var connection = document.getElementById("connection");

  var queue = null;
  var current = null;
  var syncing = false;
  var retryDelay = MIN_RETRY_MS;
  var retryTimer = null;

  // Service worker -----------------------------------------------------------

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      .register(root.dataset.swUrl, { scope: root.dataset.scope })
      .catch(function () {
        // Without a service worker the page still records while it stays open.
      });
  }

  // Route and map ------------------------------------------------------------

  function stopElements() {
    return Array.prototype.slice.call(root.querySelectorAll("[data-testid=stop]"));
  }

  function findStop(code) {
    return stopElements().filter(function (element) {
      return element.dataset.plate === code;
    });
  }

  function markStop(code, statusKey) {
    findStop(code).forEach(function (element) {
      var status = element.querySelector("[data-testid=stop-status]");
      status.textContent = texts[statusKey];
      status.className = statusKey.replace("stop_", "");
    });
  }

  function drawMaps() {
    if (!window.L) {
      return;
    }
    root.querySelectorAll("[data-collector-map]").forEach(function (element) {
      var plan = route.plans.filter(function (candidate) {
        return String(candidate.id) === element.dataset.plan;
      })[0];
      if (!plan || !plan.stops.length) {
        element.hidden = true;
        return;
      }
      var points = plan.stops.map(function (stop) {
        return [Number(stop.lat), Number(stop.lng)];
      });
      var map = window.L.map(element);
      if (element.dataset.tileUrl) {
        window.L.tileLayer(element.dataset.tileUrl, {
          attribution: element.dataset.tileAttribution || "",
          maxZoom: 19,
        }).addTo(map);
      }
      window.L.polyline(points, { color: "#5b6875", weight: 2 }).addTo(map);
      plan.stops.forEach(function (stop, index) {
        var unload = stop.kind === "unload";
        window.L.circleMarker(points[index], {
          radius: unload ? 9 : 6,
          color: unload ? "#b3261e" : "#0b6e4f",
        })
          .bindTooltip(String(index + 1) + " " + stop.label)
          .addTo(map);
      });
      map.fitBounds(window.L.latLngBounds(points).pad(0.2));
      // Leaflet measures its box once; a list closed and opened again resizes it.
      document.getElementById("route").addEventListener("toggle", function () {
        map.invalidateSize();
      });
    });
  }

  // Counts and connection ----------------------------------------------------

  async function showCounts() {
    if (!queue) {
      return;
    }
    var counts = await queue.counts();
    document.getElementById("count-queued").textContent = counts.queued;
    document.getElementById("count-synced").textContent = counts.synced;
    document.getElementById("count-failed").textContent = counts.failed;
    var list = document.getElementById("failed-list");
    list.textContent = "";
    (await queue.failed()).forEach(function (record) {
      var item = document.createElement("li");
      item.textContent = texts.sync_failed + " " + record.code + ": " + record.problem;
      list.appendChild(item);
    });
  }

  function showConnection() {
    connection.hidden = navigator.onLine;
    connection.textContent = navigator.onLine ? "" : texts.offline_now;
  }

  window.addEventListener("offline", showConnection);
  window.addEventListener("online", function () {
    showConnection();
    lastResult.textContent = texts.online_now;
    retryDelay = MIN_RETRY_MS;
    sync();
  });

  // Reading a plate ----------------------------------------------------------

  function showProblem(message) {
    problemLine.hidden = !message;
    problemLine.textContent = message || "";
  }

  function showGps(state, accuracy) {
    var line = document.getElementById("pickup-gps");
    line.dataset.state = state;
    line.textContent = line.dataset[state] + (accuracy ? " (±" + accuracy + " m)" : "");
  }

  // Ask for a fresh fix for this scan. The promise resolves once the fix
  // arrives or fails, at the latest after GPS_TIMEOUT_MS. Without a fix the
  // pickup is saved without a position.
  function capturePosition(target) {
    if (!navigator.geolocation) {
      showGps("none");
      return Promise.resolve();
    }
    showGps("waiting");
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(
        function (position) {
          target.lat = position.coords.latitude.toFixed(6);
          target.lng = position.coords.longitude.toFixed(6);
          target.accuracy_m = String(Math.ceil(position.coords.accuracy));
          if (target === current) {
            showGps("found", target.accuracy_m);
          }
          resolve();
        },
        function () {
          target.noGps = true;
          if (target === current) {
            showGps("none");
          }
          resolve();
        },
        { enableHighAccuracy: true, timeout: GPS_TIMEOUT_MS, maximumAge: GPS_MAX_AGE_MS }
      );
    });
  }

  async function plateRead(text) {
    var checked = await window.KotaCerdasPlates.check(text, plateKeys);
    if (checked.verdict === "forged" || checked.verdict === "malformed") {
      showProblem(texts[checked.verdict]);
      pickupSection.hidden = true;
      return;
    }
    showProblem("");
    current = {
      plate: text.trim(),
      code: checked.code,
      scanned_at: new Date().toISOString(),
    };
    current.positionReady = capturePosition(current);

    offlineLine.hidden = checked.verdict !== "genuine";
    offlineLine.textContent = checked.verdict === "genuine" ? texts.genuine : "";
    offlineLine.className = "verdict ok";
    document.getElementById("pickup-code").textContent = checked.code;
    var stops = findStop(checked.code);
    document.getElementById("pickup-point").textContent = stops.length
      ? stops[0].querySelector("[data-testid=stop-label]").textContent
      : texts.unknown_point;
    form.reset();
    showOutcomeFields();
    formProblem.hidden = true;
    pickupSection.hidden = false;
    pickupSection.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  window.KotaCerdasQrCamera.attach(document.getElementById("camera"), {
    statusLine: document.getElementById("camera-status"),
    texts: texts,
    onText: plateRead,
  });

  document.getElementById("plate-photo").addEventListener("change", async function (event) {
    var file = event.target.files[0];
    if (!file) {
      return;
    }
    var text = await window.KotaCerdasPlates.readImageFile(file);
    event.target.value = "";
    if (text === null) {
      showProblem(texts.read_photo_failed);
      return;
    }
    plateRead(text);
  });

  document.getElementById("plate-code-use").addEventListener("click", function () {
    plateRead(document.getElementById("plate-code").value);
  });

  // The pickup form -----------------------------------------------------------

  function chosenOutcome() {
    var checked = form.querySelector("input[name=outcome]:checked");
    return checked || form.querySelector("input[name=outcome]");
  }

  function showOutcomeFields() {
    var exception = chosenOutcome().dataset.exception === "1";
    document.getElementById("reason-field").hidden = !exception;
    document.getElementById("amount-fields").hidden = exception;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "outcome") {
      showOutcomeFields();
    }
  });

  document.getElementById("pickup-cancel").addEventListener("click", function () {
    current = null;
    pickupSection.hidden = true;
  });

  function newClientId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map
      .call(bytes, function (value) {
        return value.toString(16).padStart(2, "0");
      })
      .join("");
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!current) {
      return;
    }
    var outcome = chosenOutcome();
    var exception = outcome.dataset.exception === "1";
    var reason = document.getElementById("pickup-reason").value.trim();
    if (exception && !reason) {
      formProblem.hidden = false;
      formProblem.textContent = texts.reason_needed;
      return;
    }
    var scan = current;
    var saveButton = document.getElementById("pickup-save");
    saveButton.disabled = true;
    // Wait for a fix still on its way, so the pickup carries this house's position.
    await scan.positionReady;
    saveButton.disabled = false;
    if (current !== scan) {
      return;
    }
    var photo = document.getElementById("pickup-photo").files[0] || null;
    var record = {
      client_id: newClientId(),
      plate: current.plate,
      code: current.code,
      outcome: outcome.value,
      scanned_at: current.scanned_at,
      category: exception ? "mixed" : document.getElementById("pickup-category").value,
      weight_kg: exception ? "" : document.getElementById("pickup-weight").value.trim(),
      volume_l: exception ? "" : document.getElementById("pickup-volume").value.trim(),
      reason: exception ? reason : "",
      lat: current.lat || "",
      lng: current.lng || "",
      accuracy_m: current.accuracy_m || "",
      photo: photo,
    };
    await queue.add(record);
    markStop(record.code, "stop_queued");
    lastResult.textContent = texts.queued + (current.lat ? "" : " " + texts.no_gps);
    current = null;
    pickupSection.hidden = true;
    await showCounts();
    sync();
  });

  // Sending the queue --------------------------------------------------------

  function csrfToken() {
    var field = root.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function formData(record) {
    var body = new FormData();
    [
      "client_id", "plate", "outcome", "scanned_at", "category", "weight_kg",
      "volume_l", "reason", "lat", "lng", "accuracy_m",
    ].forEach(function (name) {
      if (record[name]) {
        body.append(name, record[name]);
      }
    });
    if (record.photo) {
      body.append("photo", record.photo, record.photo.name || "photo.jpg");
    }
    return body;
  }

  function retryLater() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(sync, retryDelay);
    retryDelay = Math.min(MAX_RETRY_MS, retryDelay * 2);
  }

  /* Send one record; resolve to true when the server settled it either way. */
  async function send(record) {
    var response;
    try {
      response = await fetch(apiUrl, {
        method: "POST",
        body: formData(record),
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
    } catch (error) {
      return false;
    }
    if (response.status === 200 || response.status === 201) {
      var stored = await response.json();
      await queue.remove(record.client_id);
      markStop(record.code, stored.outcome === "collected" ? "stop_done" : "stop_exception");
      lastResult.textContent = texts.synced;
      return true;
    }
    if (response.status === 409 || response.status === 422) {
      var body = await response.json().catch(function () {
        return {};
      });
      var message = body.error ? body.error.message : String(response.status);
      await queue.fail(record.client_id, message);
      lastResult.textContent = texts.sync_failed + " " + message;
      return true;
    }
    // Signed out (401/403) or a server error: keep it and try again later.
    return false;
  }

  async function sync() {
    if (syncing || !queue) {
      return;
    }
    syncing = true;
    window.clearTimeout(retryTimer);
    try {
      var records = await queue.pending();
      records.sort(function (a, b) {
        return a.scanned_at < b.scanned_at ? -1 : 1;
      });
      for (var i = 0; i < records.length; i++) {
        if (!(await send(records[i]))) {
          retryLater();
          return;
        }
      }
      retryDelay = MIN_RETRY_MS;
    } finally {
      syncing = false;
      await showCounts();
    }
  }

  // Start --------------------------------------------------------------------

  showConnection();
  showOutcomeFields();
  drawMaps();
  window.KotaCerdasPickupQueue.open().then(function (opened) {
    queue = opened;
    root.dataset.ready = "1";
    showCounts();
    sync();
  });
})();
