/*
 * Scan page: read a plate's QR code with the phone camera, check its
 * signature on the phone, then ask the server what the user may see.
 *
 * qr-camera.js, loaded before this file, reads the camera. The signature is
 * checked with WebCrypto Ed25519 against the public keys embedded in the page,
 * so a forged plate is flagged with no network. The signed message and the
 * plate code rules mirror kotacerdas/registry/plates.py and codes.py.
 */
(function () {
  "use strict";

  var root = document.getElementById("scan");
  var keysElement = document.getElementById("plate-keys");
  if (!root || !keysElement || !window.KotaCerdasQrCamera) {
    return;
  }
  var plateKeys = JSON.parse(keysElement.textContent);
  var texts = JSON.parse(document.getElementById("scan-texts").textContent);
  var resolveUrl = document.getElementById("scan-script").dataset.resolveUrl;

  var cameraSection = document.getElementById("camera");
  var statusLine = document.getElementById("camera-status");
  var offlineLine = document.getElementById("offline-check");
  var resultPanel = document.getElementById("scan-result");

  // Plate codes: Crockford base-32 with an ISO 7064 MOD 33,32 check character.
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

  function publicKey(keyId) {
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

  /*
   * Check a QR text on this phone. Resolves to {verdict, code}, where the
   * verdict is genuine, forged, malformed, unsigned (a typed code) or
   * unsupported (this browser has no Ed25519 in WebCrypto).
   */
  async function checkOffline(text) {
    text = text.trim();
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
      key = await publicKey(keyId);
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
      valid = await crypto.subtle.verify(
        { name: "Ed25519" },
        key,
        base64urlBytes(signature),
        message
      );
    } catch (error) {
      valid = false;
    }
    return { verdict: valid ? "genuine" : "forged", code: code };
  }

  function showOffline(verdict) {
    var message = texts[verdict];
    offlineLine.hidden = !message || verdict === "unsigned";
    offlineLine.textContent = message || "";
    offlineLine.dataset.verdict = verdict;
    offlineLine.className = "verdict " + (verdict === "genuine" ? "ok" : "bad");
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function askServer(text) {
    var body = new FormData();
    body.append("text", text);
    var response = await fetch(resolveUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error("resolve returned " + response.status);
    }
    return response.text();
  }

  async function handleText(text) {
    showOffline((await checkOffline(text)).verdict);
    statusLine.textContent = texts.checking;
    try {
      resultPanel.innerHTML = await askServer(text);
      statusLine.textContent = "";
      // The server's verdict (revoked, unknown) outranks "genuine signature":
      // a revoked plate was really signed, but a collector must not read the
      // green line as "valid".
      var verdict = resultPanel.querySelector("[data-testid=scan-message]");
      if (verdict && verdict.classList.contains("bad")) {
        offlineLine.hidden = true;
      }
    } catch (error) {
      statusLine.textContent = texts.offline;
    }
  }

  // Camera -------------------------------------------------------------------

  window.KotaCerdasQrCamera.attach(cameraSection, {
    statusLine: statusLine,
    texts: texts,
    onStart: function () {
      offlineLine.hidden = true;
    },
    onText: handleText,
  });
})();
