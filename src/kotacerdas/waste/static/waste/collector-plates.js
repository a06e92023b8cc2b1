/*
 * Checking a scanned plate on the collector's phone, with no network.
 *
 * The same rules as kotacerdas/scan.js and the server's registry/plates.py
 * and codes.py: a plate URL /p/<code>?k=<key id>&s=<signature> carries an
 * Ed25519 signature over "<domain>\n<key id>\n<code>\n", and a plate code is
 * Crockford base-32 with an ISO 7064 MOD 33,32 check character. Building
 * plates have kind letter B and container plates kind letter C.
 *
 *   KotaCerdasPlates.check(text, plateKeys) -> Promise<{verdict, code}>
 *   verdict: genuine, forged, malformed, unsigned (typed) or unsupported
 */
(function () {
  "use strict";

  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var PLATE_SHAPE = new RegExp(
    "^([" + ALPHABET + "]{2,5})([A-Z])([" + ALPHABET + "]{7})$"
  );

  function checksum(compact) {
    var modulus = ALPHABET.length;
    var check = modulus / 2;
    for (var i = 0; i < compact.length; i++) {
      var value = ALPHABET.indexOf(compact.charAt(i));
      if (value < 0) {
        return -1;
      }
      check = ((((check || modulus) * 2) % (modulus + 1)) + value) % modulus;
    }
    return check;
  }

  /* Return the display form of a plate code, or null when it is not one. */
  function normalizeCode(typed) {
    var compact = typed
      .trim()
      .toUpperCase()
      .replace(/[\s.\-_/]/g, "")
      .replace(/O/g, "0")
      .replace(/[IL]/g, "1");
    var match = PLATE_SHAPE.exec(compact);
    if (!match || checksum(compact) !== 1) {
      return null;
    }
    var rest = match[3];
    return match[1] + "-" + match[2] + "-" + rest.slice(0, 6) + "-" + rest.slice(6);
  }

  function base64urlBytes(text) {
    var base64 = text.replace(/[^A-Za-z0-9\-_]/g, "").replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  var importedKeys = {};

  function publicKey(plateKeys, keyId) {
    if (!Object.prototype.hasOwnProperty.call(plateKeys.keys, keyId)) {
      return Promise.resolve(null);
    }
    if (!importedKeys[keyId]) {
      importedKeys[keyId] = crypto.subtle.importKey(
        "raw",
        base64urlBytes(plateKeys.keys[keyId]),
        { name: "Ed25519" },
        false,
        ["verify"]
      );
    }
    return importedKeys[keyId];
  }

  async function check(text, plateKeys) {
    text = (text || "").trim();
    if (text.indexOf("://") < 0 && text.indexOf("?") < 0) {
      var typed = normalizeCode(text);
      return { verdict: typed ? "unsigned" : "malformed", code: typed };
    }
    var url;
    try {
      url = new URL(text, window.location.origin);
    } catch (error) {
      return { verdict: "malformed", code: null };
    }
    var segments = url.pathname.split("/").filter(Boolean);
    if (segments.length < 2 || segments[segments.length - 2] !== "p") {
      return { verdict: "malformed", code: null };
    }
    var code = normalizeCode(segments[segments.length - 1]);
    if (!code) {
      return { verdict: "malformed", code: null };
    }
    var keyId = url.searchParams.get("k");
    var signature = url.searchParams.get("s");
    if (!keyId || !signature) {
      return { verdict: "forged", code: code };
    }
    if (!window.crypto || !window.crypto.subtle) {
      return { verdict: "unsupported", code: code };
    }
    var key;
    try {
      key = await publicKey(plateKeys, keyId);
    } catch (error) {
      delete importedKeys[keyId];
      return { verdict: "unsupported", code: code };
    }
    if (key === null) {
      return { verdict: "forged", code: code };
    }
    var message = new TextEncoder().encode(
      plateKeys.domain + "\n" + keyId + "\n" + code + "\n"
    );
    var valid = false;
    try {
      valid = await crypto.subtle.verify({ name: "Ed25519" }, key, base64urlBytes(signature), message);
    } catch (error) {
      valid = false;
    }
    return { verdict: valid ? "genuine" : "forged", code: code };
  }

  /* Read the first QR code in an image file with jsQR; resolves to its text or null. */
  function readImageFile(file) {
    return new Promise(function (resolve) {
      if (typeof window.jsQR !== "function") {
        resolve(null);
        return;
      }
      var image = new Image();
      var address = URL.createObjectURL(file);
      image.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(image.naturalWidth, image.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(image.naturalWidth * scale);
        canvas.height = Math.round(image.naturalHeight * scale);
        var context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(address);
        var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(pixels.data, canvas.width, canvas.height);
        resolve(found ? found.data : null);
      };
      image.onerror = function () {
        URL.revokeObjectURL(address);
        resolve(null);
      };
      image.src = address;
    });
  }

  window.KotaCerdasPlates = { check: check, normalizeCode: normalizeCode, readImageFile: readImageFile };
})();
