/*
 * The collector's offline queue: pickups wait in IndexedDB until the pickups
 * API accepts them. Each pickup carries the client id chosen when it was
 * saved, so sending it again after a lost reply is recorded once.
 *
 *   KotaCerdasPickupQueue.open() -> Promise<queue>
 *   queue.add(pickup), queue.pending(), queue.remove(clientId),
 *   queue.fail(clientId, message), queue.failed(), queue.counts()
 */
(function () {
  "use strict";

  var DATABASE = "kotacerdas-collector";
  var VERSION = 1;

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function open() {
    var request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = function () {
      var db = request.result;
      // pending: waiting to be sent; failed: rejected by the server (4xx);
      // meta: the count of pickups sent, kept across page loads.
      db.createObjectStore("pending", { keyPath: "client_id" });
      db.createObjectStore("failed", { keyPath: "client_id" });
      db.createObjectStore("meta");
    };
    return promised(request).then(function (db) {
      function store(name, mode) {
        return db.transaction(name, mode).objectStore(name);
      }
      return {
        add: function (pickup) {
          return promised(store("pending", "readwrite").put(pickup));
        },
        pending: function () {
          return promised(store("pending", "readonly").getAll());
        },
        failed: function () {
          return promised(store("failed", "readonly").getAll());
        },
        remove: function (clientId) {
          var transaction = db.transaction(["pending", "meta"], "readwrite");
          var meta = transaction.objectStore("meta");
          transaction.objectStore("pending").delete(clientId);
          var read = meta.get("synced");
          read.onsuccess = function () {
            meta.put((read.result || 0) + 1, "synced");
          };
          return new Promise(function (resolve, reject) {
            transaction.oncomplete = resolve;
            transaction.onerror = function () {
              reject(transaction.error);
            };
          });
        },
        fail: function (clientId, message) {
          var transaction = db.transaction(["pending", "failed"], "readwrite");
          var pending = transaction.objectStore("pending");
          var read = pending.get(clientId);
          read.onsuccess = function () {
            if (read.result) {
              var record = read.result;
              record.problem = message;
              transaction.objectStore("failed").put(record);
              pending.delete(clientId);
            }
          };
          return new Promise(function (resolve, reject) {
            transaction.oncomplete = resolve;
            transaction.onerror = function () {
              reject(transaction.error);
            };
          });
        },
        counts: function () {
          return Promise.all([
            promised(store("pending", "readonly").count()),
            promised(store("meta", "readonly").get("synced")),
            promised(store("failed", "readonly").count()),
          ]).then(function (values) {
            return { queued: values[0], synced: values[1] || 0, failed: values[2] };
          });
        },
      };
    });
  }

  window.KotaCerdasPickupQueue = { open: open };
})();
