/*
 * Verify page: read a receipt bundle from a file, pasted text, a photo of the
 * QR code (decoded on the server), the camera or ?entry=N, and check it.
 *
 * bundle-check.js does the check in the browser when WebCrypto here verifies
 * Ed25519. Otherwise the bundle is posted to the server, which runs the
 * Python verifier. The result panel names which one checked it. Every user-facing
 * text comes from the page (`verify-texts`), translated there; this file
 * holds only message keys.
 */
(function () {
  "use strict";

  var root = document.getElementById("verify");
  var keysElement = document.getElementById("verify-keys");
  var textsElement = document.getElementById("verify-texts");
  var script = document.getElementById("verify-script");
  if (!root || !keysElement || !textsElement || !script || !window.KotaCerdasBundle) {
    return;
  }
  var publishedKeys = JSON.parse(keysElement.textContent);
  var texts = JSON.parse(textsElement.textContent);
  var checkUrl = script.dataset.checkUrl;
  var bundleUrlTemplate = script.dataset.bundleUrl;
  var MAX_BUNDLE_BYTES = Number(script.dataset.maxBundleBytes);
  var MAX_PHOTO_BYTES = Number(script.dataset.maxPhotoBytes);

  var resultPanel = document.getElementById("verify-result");
  var statusLine = document.getElementById("verify-status");

  var checker = window.KotaCerdasBundle;
  var Failure = checker.Failure;

  // Shows an entry's UTC time in the city's zone, in the page's language.
  function localTime(iso) {
    var moment = new Date(iso);
    if (!iso || isNaN(moment.getTime())) {
      return iso;
    }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        dateStyle: "medium",
        timeStyle: "medium",
        timeZone: texts.time_zone,
      }).format(moment);
    } catch (error) {
      return iso;
    }
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name])
        : whole;
    });
  }

  // Talking to the server ----------------------------------------------------

  function csrfToken() {
    var field = root.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function postForm(body) {
    var response = await fetch(checkUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      credentials: "same-origin",
    });
    var data = null;
    try {
      data = await response.json();
    } catch (error) {
      throw new Failure("server_failed");
    }
    return data;
  }

  /* Ask the server to verify the bundle text (the fallback without Ed25519). */
  async function checkOnServer(text) {
    var body = new FormData();
    body.append("text", text);
    var data = await postForm(body);
    if (data.error) {
      throw new Failure(data.error.code, data.error.values);
    }
    return data.result;
  }

  async function fetchBundle(entry) {
    var response;
    try {
      response = await fetch(bundleUrlTemplate.replace("/0/", "/" + entry + "/"), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch (error) {
      throw new Failure("fetch_failed", { entry: entry });
    }
    if (response.status === 404) {
      var code = "not_found";
      try {
        code = (await response.json()).error.code === "not_sealed" ? "not_sealed" : code;
      } catch (error) {
        code = "not_found";
      }
      throw new Failure(code, { entry: entry });
    }
    if (!response.ok) {
      throw new Failure("fetch_failed", { entry: entry });
    }
    return response.text();
  }

  // Showing the result -------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function reasonText(failure) {
    var template = texts.reasons[failure.code] || texts.reasons.unknown;
    return format(template, failure.values);
  }

  function showFailure(failure, checkedBy) {
    resultPanel.textContent = "";
    var panel = element("div", "verify-panel bad");
    panel.dataset.testid = "verify-result";
    panel.dataset.valid = "false";
    panel.dataset.code = failure.code;
    panel.dataset.checkedBy = checkedBy || "";
    var headline = element(
      "p",
      "verdict bad",
      format(texts.invalid, { reason: reasonText(failure) })
    );
    headline.setAttribute("role", "alert");
    headline.dataset.testid = "verify-headline";
    panel.appendChild(headline);
    if (checkedBy) {
      panel.appendChild(checkedByLine(checkedBy));
    }
    resultPanel.appendChild(panel);
  }

  function checkedByLine(checkedBy) {
    var line = element(
      "p",
      "checked-by",
      checkedBy === "browser" ? texts.checked_browser : texts.checked_server
    );
    line.dataset.testid = "verify-checked-by";
    return line;
  }

  function anchorLine(anchor, checkedBy) {
    if (!anchor) {
      return element("p", "anchor", texts.no_anchor);
    }
    var line = element(
      "p",
      "anchor",
      format(texts.anchor, {
        chain: anchor.chain_id,
        tx: anchor.tx,
        block: anchor.block_number,
        state: anchor.final ? texts.anchor_final : texts.anchor_pending,
      })
    );
    line.appendChild(document.createTextNode(" "));
    line.appendChild(
      element(
        "em",
        "",
        checkedBy === "browser" ? texts.anchor_unchecked_browser : texts.anchor_unchecked_server
      )
    );
    line.dataset.testid = "verify-anchor";
    return line;
  }

  function showResult(result, checkedBy) {
    resultPanel.textContent = "";
    var panel = element("div", "verify-panel ok");
    panel.dataset.testid = "verify-result";
    panel.dataset.valid = "true";
    panel.dataset.checkedBy = checkedBy;
    var headline = element(
      "p",
      "verdict ok",
      format(texts.valid, {
        size: result.tree_size,
        count: result.witnesses.length,
        total: result.witnesses_known,
      })
    );
    headline.setAttribute("role", "status");
    headline.dataset.testid = "verify-headline";
    panel.appendChild(headline);

    var facts = element("dl", "facts");
    [
      [texts.label_event, result.event_type],
      [texts.label_entry, String(result.index)],
      [texts.label_time, localTime(result.at)],
      [texts.label_witnesses, result.witnesses.join(", ") || texts.no_witnesses],
    ].forEach(function (row) {
      facts.appendChild(element("dt", "", row[0]));
      var value = element("dd", "", row[1]);
      facts.appendChild(value);
    });
    panel.appendChild(facts);
    if (!result.witnessed) {
      var pending = element(
        "p",
        "not-witnessed",
        format(texts.not_witnessed, { count: result.witnesses.length, quorum: result.quorum })
      );
      pending.dataset.testid = "verify-not-witnessed";
      panel.appendChild(pending);
    }
    panel.appendChild(anchorLine(result.anchor, checkedBy));
    panel.appendChild(checkedByLine(checkedBy));
    resultPanel.appendChild(panel);
  }

  // Flows --------------------------------------------------------------------

  /* Verify text (bundle JSON, KCB1 payload or verify URL), in the browser when it can. */
  function checkText(text) {
    return check(function () {
      return checker.readInput(text, MAX_BUNDLE_BYTES);
    });
  }

  /* Fetch the bundle of a ledger entry from the server and verify it. */
  function checkEntryNumber(entry) {
    return check(function () {
      return Promise.resolve({ entry: entry });
    });
  }

  async function check(read) {
    statusLine.textContent = texts.checking;
    var checkedBy = null;
    try {
      var input = await read();
      if (input.entry !== undefined) {
        input = await checker.readInput(await fetchBundle(input.entry), MAX_BUNDLE_BYTES);
      }
      if (await checker.browserChecksEd25519()) {
        checkedBy = "browser";
        showResult(await checker.verifyBundle(input.bundle, publishedKeys), checkedBy);
      } else {
        checkedBy = "server";
        showResult(await checkOnServer(JSON.stringify(input.bundle)), checkedBy);
      }
    } catch (error) {
      if (!(error instanceof Failure)) {
        console.error("verify failed", error);
        error = new Failure("unknown");
      }
      showFailure(error, checkedBy);
    }
    statusLine.textContent = "";
  }

  function readFile(file) {
    if (file.size > MAX_BUNDLE_BYTES) {
      showFailure(new Failure("too_large"));
      return;
    }
    file.text().then(checkText, function () {
      showFailure(new Failure("not_json"));
    });
  }

  async function decodePhoto(file) {
    if (file.size > MAX_PHOTO_BYTES) {
      showFailure(new Failure("photo_too_large"));
      return;
    }
    statusLine.textContent = texts.reading_photo;
    var body = new FormData();
    body.append("photo", file);
    body.append("decode", "1");
    try {
      var data = await postForm(body);
      if (data.error) {
        statusLine.textContent = "";
        showFailure(new Failure(data.error.code, data.error.values));
        return;
      }
      await checkText(data.text);
    } catch (error) {
      statusLine.textContent = "";
      showFailure(error instanceof Failure ? error : new Failure("server_failed"));
    }
  }

  function enhanceForm(formId, handler) {
    var form = document.getElementById(formId);
    if (!form) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      handler(form);
    });
  }

  enhanceForm("bundle-form", function (form) {
    var file = form.querySelector("input[type=file]").files[0];
    if (!file) {
      showFailure(new Failure("empty"));
      return;
    }
    readFile(file);
  });
  enhanceForm("text-form", function (form) {
    checkText(form.querySelector("textarea").value);
  });
  enhanceForm("photo-form", function (form) {
    var file = form.querySelector("input[type=file]").files[0];
    if (!file) {
      showFailure(new Failure("empty"));
      return;
    }
    decodePhoto(file);
  });

  // Camera: qr-camera.js, loaded before this file, reads the QR code.

  var cameraSection = document.getElementById("camera");
  if (cameraSection && window.KotaCerdasQrCamera) {
    window.KotaCerdasQrCamera.attach(cameraSection, {
      statusLine: statusLine,
      texts: texts,
      onText: checkText,
    });
  }

  if (script.dataset.entry) {
    checkEntryNumber(Number(script.dataset.entry));
  }
})();
