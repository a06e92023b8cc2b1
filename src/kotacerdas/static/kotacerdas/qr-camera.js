/*
 * Reading QR codes with the phone camera, shared by the plate scan page, the
 * wallet's pay-by-QR page and the receipt verify page.
 *
 * Frames are decoded by BarcodeDetector where the browser has one for QR
 * codes, and by the vendored jsQR otherwise (Chromium on Linux, Firefox), so
 * a page loads vendor/jsqr/jsQR.js before this file. Pages keep their own
 * messages, and this file contains only message keys.
 *
 *   KotaCerdasQrCamera.start(video, onText, onError) -> {stop, started}
 *   KotaCerdasQrCamera.attach(section, {statusLine, texts, onText, onStart})
 */
(function () {
  "use strict";

  var FRAME_INTERVAL_MS = 200;
  var MAX_FRAME_WIDTH_PX = 1024;

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

  function jsqrDecoder() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return {
      detect: async function (video) {
        if (typeof window.jsQR !== "function") {
          return [];
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
        return found ? [{ rawValue: found.data }] : [];
      },
    };
  }

  /*
   * Open the back camera in `video` and read its frames until one contains a
   * QR code, then stop the camera and call onText(text). When the camera does
   * not open, onError(code) is called with "no_camera" or "camera_denied".
   *
   * Returns {stop, started}: stop() closes the camera at any time, also
   * before it has opened, and `started` resolves to the decoder's name
   * ("barcode-detector" or "jsqr") once frames are read, or to null when
   * the camera did not open or was stopped first.
   */
  function start(video, onText, onError) {
    var stream = null;
    var stopped = false;
    var timer = null;

    function stop() {
      stopped = true;
      window.clearTimeout(timer);
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
      }
      stream = null;
      video.hidden = true;
    }

    async function readFrame(decoder) {
      if (video.readyState < 2 || !video.videoWidth) {
        return null;
      }
      var codes = await decoder.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }

    async function scanFrame(decoder) {
      if (stopped) {
        return;
      }
      var text = null;
      try {
        text = await readFrame(decoder);
      } catch (error) {
        text = null;
      }
      if (stopped) {
        return;
      }
      if (text) {
        stop();
        onText(text);
        return;
      }
      timer = window.setTimeout(scanFrame, FRAME_INTERVAL_MS, decoder);
    }

    async function open() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        onError("no_camera");
        return null;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: { ideal: "environment" } },
          audio: false,
        });
        if (stopped) {
          stop();
          return null;
        }
        video.srcObject = stream;
        video.hidden = false;
        await video.play();
      } catch (error) {
        stop();
        onError("camera_denied");
        return null;
      }
      var detector = await qrDetector();
      if (stopped) {
        return null;
      }
      // The first frame is read in a task of its own. The code awaiting
      // `started` runs in microtasks before it, so a page shows its camera
      // as running before onText can be called.
      timer = window.setTimeout(scanFrame, 0, detector || jsqrDecoder());
      return detector ? "barcode-detector" : "jsqr";
    }

    return { stop: stop, started: open() };
  }

  /*
   * Wire a page's camera section: #camera-video, and the #camera-start and
   * #camera-stop buttons. `texts` contains the page's translated messages under
   * the keys no_camera, camera_denied and looking, shown in `statusLine`.
   * onStart() runs once the camera is reading frames; onText(text) gets the
   * first QR code read, after the camera has stopped.
   */
  function attach(section, options) {
    var video = section.querySelector("#camera-video");
    var startButton = section.querySelector("#camera-start");
    var stopButton = section.querySelector("#camera-stop");
    var statusLine = options.statusLine;
    var camera = null;

    function showStopped() {
      startButton.hidden = false;
      stopButton.hidden = true;
    }

    async function startCamera() {
      camera = start(
        video,
        function (text) {
          showStopped();
          options.onText(text);
        },
        function (code) {
          statusLine.textContent = options.texts[code];
        }
      );
      var decoder = await camera.started;
      if (!decoder) {
        return;
      }
      section.dataset.decoder = decoder;
      startButton.hidden = true;
      stopButton.hidden = false;
      if (options.onStart) {
        options.onStart();
      }
      statusLine.textContent = options.texts.looking;
    }

    section.hidden = false;
    startButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", function () {
      if (camera) {
        camera.stop();
      }
      showStopped();
      statusLine.textContent = "";
    });
  }

  window.KotaCerdasQrCamera = { start: start, attach: attach };
})();
