{% load static %}/*
 * Service worker of the collector's page: keeps the page and its assets so
 * the page opens and records pickups with no signal. The page is fetched
 * from the network first (a fresh route when there is signal) and from the
 * cache otherwise; assets come from the cache first. API requests are not
 * touched: collector-queue.js keeps unsent pickups in IndexedDB.
 */
"use strict";

var CACHE = "{{ cache_version }}";
var PAGE = "{{ page_url }}";
var ASSETS = [
  "{% static 'kotacerdas/site.css' %}",
  "{% static 'vendor/leaflet/leaflet.css' %}",
  "{% static 'vendor/leaflet/leaflet.js' %}",
  "{% static 'kotacerdas/vendor/jsqr/jsQR.js' %}",
  "{% static 'kotacerdas/qr-camera.js' %}",
  "{% static 'waste/collector-plates.js' %}",
  "{% static 'waste/collector-queue.js' %}",
  "{% static 'waste/collector.js' %}",
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS.concat([PAGE]));
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(
        names.filter(function (name) {
          return name.indexOf("collector-") === 0 && name !== CACHE;
        }).map(function (name) {
          return caches.delete(name);
        })
      );
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname === PAGE) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) {
            cache.put(PAGE, copy);
          });
        }
        return response;
      }).catch(function () {
        return caches.match(PAGE);
      })
    );
    return;
  }
  if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(
      caches.match(request).then(function (cached) {
        return cached || fetch(request);
      })
    );
  }
});
