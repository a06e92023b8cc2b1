/*
 * Pay by QR: read a merchant's QR code with the phone camera and open its
 * payment page. The server parses and checks the code, so this file only
 * reads the text and passes it on in the `qr` query parameter.
 *
 * Frames are decoded by BarcodeDetector where the browser has one for QR
 * codes, and by the vendored jsQR otherwise (Chromium on Linux, Firefox).
 */
(function () {
  "use strict";

  var root = document.getElementById("wallet-scan");
  var textsElement = document.getElementById("wallet-scan-texts");
  var cameraSection = document.getElementById("camera");
  if (!root || !textsElement || !cameraSection) {
    return;
  }
  var texts = JSON.parse(textsElement.textContent);
  var confirmUrl = document.getElementById("wallet-scan-script").dataset.confirmUrl;

  var video = document.getElementById("camera-video");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var statusLine = document.getElementById("camera-status");

  var FRAME_INTERVAL_MS = 200;
  var MAX_FRAME_WIDTH_PX = 1024;

  var stream = null;
  var running = false;
  var detector = null;
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  async function qrDetector() {
    if (!("BarcodeDetector" in window)) {
      return null;
    }
    try {
      var formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.indexOf("qr_code") >= 0
        ? new window.BarcodeDetector({ formats: ["qr_code"] })
        : null;
    } catch (error) {
      return null;
    }
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      statusLine.textContent = texts.no_camera;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch (error) {
      statusLine.textContent = texts.camera_denied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    detector = await qrDetector();
    cameraSection.dataset.decoder = detector ? "barcode-detector" : "jsqr";
    running = true;
    startButton.hidden = true;
    stopButton.hidden = false;
    statusLine.textContent = texts.looking;
    scanFrame();
  }

  function stopCamera() {
    running = false;
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    video.hidden = true;
    startButton.hidden = false;
    stopButton.hidden = true;
  }

  async function decodeFrame() {
    if (video.readyState < 2 || !video.videoWidth) {
      return null;
    }
    if (detector) {
      var codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    if (typeof window.jsQR !== "function") {
      return null;
    }
    var scale = Math.min(1, MAX_FRAME_WIDTH_PX / video.videoWidth);
    var width = Math.round(video.videoWidth * scale);
    var height = Math.round(video.videoHeight * scale);
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    var pixels = context.getImageData(0, 0, width, height);
    var found = window.jsQR(pixels.data, width, height, {
      inversionAttempts: "dontInvert",
    });
    return found ? found.data : null;
  }

  async function scanFrame() {
    if (!running) {
      return;
    }
    var text = null;
    try {
      text = await decodeFrame();
    } catch (error) {
      text = null;
    }
    if (text) {
      stopCamera();
      statusLine.textContent = texts.opening;
      window.location.assign(confirmUrl + "?qr=" + encodeURIComponent(text));
      return;
    }
    window.setTimeout(scanFrame, FRAME_INTERVAL_MS);
  }

  cameraSection.hidden = false;
  startButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () {
    stopCamera();
    statusLine.textContent = "";
  });
})();
