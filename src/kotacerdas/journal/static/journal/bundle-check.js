/*
 * Checks a receipt bundle (kotacerdas-bundle/v1) against the published keys
 * (kotacerdas-keys/v1) with WebCrypto, as window.KotaCerdasBundle.
 *
 * The checks mirror kotacerdas/verify/bundle.py step by step and in the same
 * order, so both report the same first failure code:
 *   1. bundle format and origin, against the published keys;
 *   2. the log's Ed25519 signature on the checkpoint note (C2SP signed-note);
 *   3. the checkpoint body (origin, size, root, prev and time lines), and
 *      that the signing key's range in the key history covers its size;
 *   4. each known witness's cosignature/v1 line (C2SP tlog-cosignature),
 *      a retired witness key only up to its last size;
 *   5. the entry's index against its body's seq and the tree size;
 *   6. the RFC 9162 inclusion proof from the leaf to the checkpoint's root.
 * A failure is thrown as a KotaCerdasBundle.Failure whose `code` names the
 * check; the page turns codes into translated messages.
 */
(function () {
  "use strict";

  var BUNDLE_FORMAT = "kotacerdas-bundle/v1";
  var KEYS_FORMAT = "kotacerdas-keys/v1";
  var PAYLOAD_PREFIX = "KCB1:";
  var ED25519_TYPE = 0x01;
  var COSIGNATURE_TYPE = 0x04;
  var SIGNATURE_PREFIX = "\u2014 ";
  var ENTRY_URL = /^https?:\/\/[^?#\s]+\/verify\/\?(?:.*&)?entry=(\d+)(?:&.*)?$/;
  // The other QR code on a printed receipt: the receipt page's own address.
  var RECEIPT_URL = /^https?:\/\/[^?#\s]+\/receipts\/[^\/?#\s]+\/?(?:[?#]\S*)?$/;

  /* A failed check or unusable input; `code` selects the translated text. */
  function Failure(code, values) {
    this.code = code;
    this.values = values || {};
  }

  function fail(code, values) {
    throw new Failure(code, values);
  }

  // Encodings -------------------------------------------------------------

  var BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

  /* Decode strict, padded base64 (as Python's b64decode with validate=True); null if invalid. */
  function base64Bytes(text) {
    if (typeof text !== "string" || !BASE64_SHAPE.test(text)) {
      return null;
    }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  var BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  /* Decode base45 (RFC 9285): three characters carry two bytes, two carry the last one. */
  function base45Bytes(text) {
    if (text.length % 3 === 1) {
      fail("payload");
    }
    var values = [];
    for (var i = 0; i < text.length; i++) {
      var value = BASE45_ALPHABET.indexOf(text.charAt(i));
      if (value < 0) {
        fail("payload");
      }
      values.push(value);
    }
    var bytes = [];
    for (var start = 0; start < values.length; start += 3) {
      var number = values[start] + values[start + 1] * 45;
      if (start + 2 < values.length) {
        number += values[start + 2] * 45 * 45;
        if (number > 0xffff) {
          fail("payload");
        }
        bytes.push(number >> 8, number & 0xff);
      } else {
        if (number > 0xff) {
          fail("payload");
        }
        bytes.push(number);
      }
    }
    return new Uint8Array(bytes);
  }

  /* Inflate zlib data, stopping with "too_large" past `maxBytes` of output. */
  async function inflate(compressed, maxBytes) {
    if (typeof DecompressionStream !== "function") {
      fail("no_decompression");
    }
    var stream = new Blob([compressed])
      .stream()
      .pipeThrough(new DecompressionStream("deflate"));
    var reader = stream.getReader();
    var chunks = [];
    var total = 0;
    try {
      for (;;) {
        var step = await reader.read();
        if (step.done) {
          break;
        }
        total += step.value.length;
        if (total > maxBytes) {
          reader.cancel();
          fail("too_large");
        }
        chunks.push(step.value);
      }
    } catch (error) {
      if (error instanceof Failure) {
        throw error;
      }
      fail("payload");
    }
    var output = new Uint8Array(total);
    var offset = 0;
    chunks.forEach(function (chunk) {
      output.set(chunk, offset);
      offset += chunk.length;
    });
    return output;
  }

  function utf8(text) {
    return new TextEncoder().encode(text);
  }

  function concat(parts) {
    var length = parts.reduce(function (sum, part) {
      return sum + part.length;
    }, 0);
    var output = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (part) {
      output.set(part, offset);
      offset += part.length;
    });
    return output;
  }

  function equalBytes(left, right) {
    if (left.length !== right.length) {
      return false;
    }
    for (var i = 0; i < left.length; i++) {
      if (left[i] !== right[i]) {
        return false;
      }
    }
    return true;
  }

  function hex(bytes) {
    return Array.prototype.map
      .call(bytes, function (byte) {
        return byte.toString(16).padStart(2, "0");
      })
      .join("");
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // Input: a bundle file, pasted JSON, a KCB1 payload or a verify URL --------

  /*
   * Turn text into {bundle} or {entry} (a QR code that contains the verify URL).
   * Throws Failure for text that is none of the accepted forms or longer
   * than `maxBytes` (also once a KCB1 payload is inflated).
   */
  async function readInput(text, maxBytes) {
    text = text.trim();
    if (!text) {
      fail("empty");
    }
    if (utf8(text).length > maxBytes) {
      fail("too_large");
    }
    var url = ENTRY_URL.exec(text);
    if (url) {
      return { entry: Number(url[1]) };
    }
    if (RECEIPT_URL.test(text)) {
      fail("receipt_url");
    }
    var json = text;
    if (text.indexOf(PAYLOAD_PREFIX) === 0) {
      var raw = await inflate(base45Bytes(text.slice(PAYLOAD_PREFIX.length)), maxBytes);
      try {
        json = new TextDecoder("utf-8", { fatal: true }).decode(raw);
      } catch (error) {
        fail("payload");
      }
    }
    var bundle;
    try {
      bundle = JSON.parse(json);
    } catch (error) {
      fail(json === text ? "not_json" : "payload");
    }
    if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) {
      fail("format");
    }
    return { bundle: bundle };
  }

  // Signed notes and keys (C2SP signed-note, tlog-checkpoint, tlog-cosignature)

  /* Parse a verifier key `name+hexid+base64(type||key)`, checking its type and key id. */
  async function parseVerifierKey(vkey, keyType) {
    var first = vkey.indexOf("+");
    var second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
    if (second < 0) {
      fail("keys");
    }
    var name = vkey.slice(0, first);
    var keyId = vkey.slice(first + 1, second);
    var raw = base64Bytes(vkey.slice(second + 1));
    if (raw === null || raw.length !== 33 || raw[0] !== keyType) {
      fail("keys");
    }
    var expected = (await sha256(concat([utf8(name + "\n"), raw]))).slice(0, 4);
    if (hex(expected) !== keyId) {
      fail("keys");
    }
    var key = await crypto.subtle.importKey(
      "raw",
      raw.slice(1),
      { name: "Ed25519" },
      false,
      ["verify"]
    );
    return { name: name, keyId: expected, key: key };
  }

  async function parseKeys(keys) {
    if (!keys || keys.format !== KEYS_FORMAT) {
      fail("keys");
    }
    if (typeof keys.origin !== "string" || !Array.isArray(keys.witnesses)) {
      fail("keys");
    }
    if (!Number.isInteger(keys.quorum) || keys.quorum < 1) {
      fail("keys");
    }
    var log = await parseVerifierKey(String(keys.log), ED25519_TYPE);
    if (log.name !== keys.origin) {
      fail("keys");
    }
    var logKeys = await parseLogKeys(keys, log);
    var witnesses = [];
    var names = [];
    for (var i = 0; i < keys.witnesses.length; i++) {
      var item = keys.witnesses[i];
      var entries = [{ vkey: item.vkey, last_size: null }].concat(
        item.retired_keys === undefined || item.retired_keys === null ? [] : item.retired_keys
      );
      if (!Array.isArray(entries)) {
        fail("keys");
      }
      for (var j = 0; j < entries.length; j++) {
        var lastSize = entries[j] ? entries[j].last_size : undefined;
        if (j > 0 && !isSize(lastSize)) {
          fail("keys");
        }
        var verifier = await parseVerifierKey(String(entries[j].vkey), COSIGNATURE_TYPE);
        if (verifier.name !== item.name) {
          fail("keys");
        }
        witnesses.push({
          name: item.name,
          verifier: verifier,
          lastSize: j > 0 ? BigInt(lastSize) : null,
        });
      }
      if (names.indexOf(item.name) < 0) {
        names.push(item.name);
      }
    }
    return {
      origin: keys.origin,
      log: log,
      logKeys: logKeys,
      witnesses: witnesses,
      witnessNames: names,
      quorum: keys.quorum,
    };
  }

  function isSize(value) {
    return Number.isInteger(value) && value >= 0;
  }

  /*
   * Parse the key history `log_keys` (each key with the tree sizes it signs),
   * or make one key for every size from `log` when the keys have no history.
   */
  async function parseLogKeys(keys, log) {
    if (keys.log_keys === undefined) {
      return [{ verifier: log, first: 0n, last: null }];
    }
    if (!Array.isArray(keys.log_keys) || keys.log_keys.length === 0) {
      fail("keys");
    }
    var history = [];
    var previousLast = -1n;
    var hasLog = false;
    for (var i = 0; i < keys.log_keys.length; i++) {
      var item = keys.log_keys[i];
      if (!item || typeof item.vkey !== "string") {
        fail("keys");
      }
      var first = item.first_size;
      var last = item.last_size;
      if ((first !== null && !isSize(first)) || (last !== null && !isSize(last))) {
        fail("keys");
      }
      var verifier = await parseVerifierKey(item.vkey, ED25519_TYPE);
      if (verifier.name !== keys.origin) {
        fail("keys");
      }
      var key = {
        verifier: verifier,
        first: first === null ? null : BigInt(first),
        last: last === null ? null : BigInt(last),
      };
      if (key.first !== null) {
        if (key.first <= previousLast || (key.last !== null && key.last < key.first)) {
          fail("keys");
        }
        previousLast = key.last === null ? 2n ** 63n : key.last;
      }
      hasLog = hasLog || equalBytes(verifier.keyId, log.keyId);
      history.push(key);
    }
    if (!hasLog) {
      fail("keys");
    }
    return history;
  }

  function covers(key, size) {
    return key.first !== null && size >= key.first && (key.last === null || size <= key.last);
  }

  /* Split a note into its text (ending in a newline) and its signature lines. */
  function splitNote(note) {
    var separator = note.lastIndexOf("\n\n");
    if (separator < 0 || note.charAt(note.length - 1) !== "\n") {
      fail("signature");
    }
    var text = note.slice(0, separator) + "\n";
    var block = note.slice(separator + 2, -1);
    var signatures = block.split("\n").map(function (line) {
      if (line.indexOf(SIGNATURE_PREFIX) !== 0) {
        fail("signature");
      }
      var rest = line.slice(SIGNATURE_PREFIX.length);
      var space = rest.lastIndexOf(" ");
      var raw = base64Bytes(rest.slice(space + 1));
      if (raw === null || raw.length < 5) {
        fail("signature");
      }
      return {
        name: space < 0 ? "" : rest.slice(0, space),
        keyId: raw.slice(0, 4),
        value: raw.slice(4),
      };
    });
    return { text: text, signatures: signatures };
  }

  function findSignature(signatures, verifier) {
    for (var i = 0; i < signatures.length; i++) {
      var signature = signatures[i];
      if (signature.name === verifier.name && equalBytes(signature.keyId, verifier.keyId)) {
        return signature;
      }
    }
    return null;
  }

  async function ed25519Verify(key, signature, message) {
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (error) {
      return false;
    }
  }

  function parseCheckpoint(text) {
    var lines = text.split("\n");
    if (lines.length !== 6 || lines[5] !== "") {
      fail("checkpoint");
    }
    var size = lines[1];
    if (!/^(0|[1-9][0-9]*)$/.test(size)) {
      fail("checkpoint");
    }
    if (lines[3].indexOf("prev ") !== 0 || lines[4].indexOf("time ") !== 0) {
      fail("checkpoint");
    }
    var rootHash = base64Bytes(lines[2]);
    var prevHash = base64Bytes(lines[3].slice(5));
    if (!/^[0-9]+$/.test(lines[4].slice(5))) {
      fail("checkpoint");
    }
    if (!rootHash || !prevHash || rootHash.length !== 32 || prevHash.length !== 32) {
      fail("checkpoint");
    }
    return { origin: lines[0], size: BigInt(size), root: rootHash };
  }

  /*
   * Check the log's signature and every known witness's cosignature on the
   * note. The log key must be the one whose range in the history covers the
   * checkpoint's size, so a checkpoint an old key signed after its rotation fails.
   */
  async function checkSignatures(note, keys) {
    var split = splitNote(note);
    var signers = [];
    for (var k = 0; k < keys.logKeys.length; k++) {
      var logKey = keys.logKeys[k];
      var logSignature = findSignature(split.signatures, logKey.verifier);
      if (!logSignature) {
        continue;
      }
      if (!(await ed25519Verify(logKey.verifier.key, logSignature.value, utf8(split.text)))) {
        fail("signature");
      }
      signers.push(logKey);
    }
    if (signers.length === 0) {
      fail("signature");
    }
    var checkpoint = parseCheckpoint(split.text);
    if (!signers.some(function (signer) { return covers(signer, checkpoint.size); })) {
      fail("signature");
    }
    if (checkpoint.origin !== keys.origin) {
      fail("origin", { origin: keys.origin });
    }
    var cosigners = [];
    for (var i = 0; i < keys.witnesses.length; i++) {
      var witness = keys.witnesses[i];
      var line = findSignature(split.signatures, witness.verifier);
      if (!line) {
        continue;
      }
      // A line carrying a known witness's name and key id that does not
      // verify is damage or forgery, so it fails the bundle (as in Python).
      if (line.value.length !== 8 + 64) {
        fail("cosignature", { witness: witness.name });
      }
      var timestamp = new DataView(line.value.buffer, line.value.byteOffset, 8).getBigUint64(0);
      var message = utf8("cosignature/v1\ntime " + timestamp.toString() + "\n" + split.text);
      if (!(await ed25519Verify(witness.verifier.key, line.value.slice(8), message))) {
        fail("cosignature", { witness: witness.name });
      }
      if (witness.lastSize !== null && checkpoint.size > witness.lastSize) {
        fail("cosignature", { witness: witness.name });
      }
      if (cosigners.indexOf(witness.name) < 0) {
        cosigners.push(witness.name);
      }
    }
    return { checkpoint: checkpoint, cosigners: cosigners };
  }

  // Merkle tree (RFC 9162) ---------------------------------------------------

  async function leafHash(body) {
    return sha256(concat([new Uint8Array([0]), utf8(body)]));
  }

  async function nodeHash(left, right) {
    return sha256(concat([new Uint8Array([1]), left, right]));
  }

  /* Verify an inclusion proof with the algorithm of RFC 9162 section 2.1.3.2. */
  async function verifyInclusion(leaf, index, size, proof, rootHash) {
    if (index >= size) {
      return false;
    }
    var fn = index;
    var sn = size - 1n;
    var r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0n) {
        return false;
      }
      if (fn & 1n || fn === sn) {
        r = await nodeHash(p, r);
        if (!(fn & 1n)) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equalBytes(r, rootHash);
  }

  // The whole check --------------------------------------------------------

  function checkEntry(bundle, size) {
    var entry = bundle.entry;
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) {
      fail("entry");
    }
    var index = entry.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
      fail("index");
    }
    if (typeof entry.body !== "string") {
      fail("body");
    }
    if (BigInt(index) >= size) {
      fail("index");
    }
    var envelope;
    try {
      envelope = JSON.parse(entry.body);
    } catch (error) {
      fail("body");
    }
    if (!envelope || typeof envelope !== "object" || envelope.seq !== index) {
      fail("index");
    }
    return { index: index, body: entry.body, envelope: envelope };
  }

  function proofHashes(proof) {
    if (!Array.isArray(proof)) {
      fail("proof");
    }
    return proof.map(function (item) {
      var value = base64Bytes(item);
      if (value === null || value.length !== 32) {
        fail("proof");
      }
      return value;
    });
  }

  /* Verify a parsed bundle against the published keys; resolve to a result object. */
  async function verifyBundle(bundle, rawKeys) {
    var keys = await parseKeys(rawKeys);
    var result = { ok: false, quorum: keys.quorum, witnesses_known: keys.witnessNames.length };
    if (bundle.format !== BUNDLE_FORMAT) {
      fail("format");
    }
    if (bundle.origin !== keys.origin) {
      fail("origin", { origin: keys.origin });
    }
    if (typeof bundle.checkpoint !== "string") {
      fail("checkpoint");
    }
    var signed = await checkSignatures(bundle.checkpoint, keys);
    var entry = checkEntry(bundle, signed.checkpoint.size);
    var proof = proofHashes(bundle.proof);
    var leaf = await leafHash(entry.body);
    var included = await verifyInclusion(
      leaf,
      BigInt(entry.index),
      signed.checkpoint.size,
      proof,
      signed.checkpoint.root
    );
    if (!included) {
      fail("proof");
    }
    result.ok = true;
    result.tree_size = signed.checkpoint.size.toString();
    result.index = entry.index;
    result.event_type = String(entry.envelope.type || "");
    result.at = String(entry.envelope.at || "");
    result.witnesses = signed.cosigners;
    result.witnessed = signed.cosigners.length >= keys.quorum;
    result.anchor =
      bundle.anchor && typeof bundle.anchor === "object" ? bundle.anchor : null;
    return result;
  }

  // RFC 8032 test 1: the public key and signature of the empty message.
  var PROBE_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  var PROBE_SIGNATURE =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

  function fromHex(text) {
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    }
    return bytes;
  }

  var ed25519Support = null;

  /* Resolve to true when WebCrypto here verifies a known Ed25519 signature. */
  function browserChecksEd25519() {
    if (ed25519Support === null) {
      ed25519Support = (async function () {
        if (!window.crypto || !window.crypto.subtle) {
          return false;
        }
        try {
          var key = await crypto.subtle.importKey(
            "raw",
            fromHex(PROBE_KEY),
            { name: "Ed25519" },
            false,
            ["verify"]
          );
          return await crypto.subtle.verify(
            { name: "Ed25519" },
            key,
            fromHex(PROBE_SIGNATURE),
            new Uint8Array(0)
          );
        } catch (error) {
          return false;
        }
      })();
    }
    return ed25519Support;
  }

  window.KotaCerdasBundle = {
    Failure: Failure,
    readInput: readInput,
    verifyBundle: verifyBundle,
    browserChecksEd25519: browserChecksEd25519,
  };
})();
