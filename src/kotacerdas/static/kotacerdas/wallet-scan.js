/*
 * Pay by QR: read a merchant's QR code with the phone camera and open its
 * payment page. The server parses and checks the code, so this file only
 * reads the text and passes it on in the `qr` query parameter.
 *
 * qr-camera.js, loaded before this file, reads the camera.
 */
(function () {
  "use strict";

  var root = document.getElementById("wallet-scan");
  var textsElement = document.getElementById("wallet-scan-texts");
  var cameraSection = document.getElementById("camera");
  if (!root || !textsElement || !cameraSection || !window.KotaCerdasQrCamera) {
    return;
  }
  var texts = JSON.parse(textsElement.textContent);
  var confirmUrl = document.getElementById("wallet-scan-script").dataset.confirmUrl;
  var statusLine = document.getElementById("camera-status");

  window.KotaCerdasQrCamera.attach(cameraSection, {
    statusLine: statusLine,
    texts: texts,
    onText: function (text) {
      statusLine.textContent = texts.opening;
      window.location.assign(confirmUrl + "?qr=" + encodeURIComponent(text));
    },
  });
})();
