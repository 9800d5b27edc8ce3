// The door page reads ticket codes with the phone's camera where the
// browser has a barcode reader (BarcodeDetector), and checks each one by
// sending the page's form: the answer comes back as the page, green or
// red. When the network is gone the page keeps working: it checks codes
// itself with the event's public key (kept from the last visit, with the
// bookings no longer good and the tickets already in), answers at once,
// keeps the scans, and sends them when the network is back; scans another
// gate made first come back as duplicates. Without script, codes are
// typed and the form sent by hand. Its words come from the page
// (msg, msgN: static/messages.js).
(function () {
  "use strict";
  var door = document.querySelector("[data-testid=door]");
  var form = document.querySelector("[data-testid=door-form]");
  if (!door || !form) return;
  var eventID = Number(door.getAttribute("data-event"));
  var store = "boxoffice-door-" + eventID;
  var answer = document.querySelector("[data-door-answer]");
  var offlineNote = document.querySelector("[data-testid=door-offline]");
  var waiting = document.querySelector("[data-testid=door-waiting]");
  var waitingLabel = document.querySelector("[data-door-waiting-label]");
  var report = document.querySelector("[data-testid=door-report]");

  function load() {
    try { return JSON.parse(localStorage.getItem(store)) || {}; } catch (e) { return {}; }
  }
  function save(s) { localStorage.setItem(store, JSON.stringify(s)); }
  var state = load();
  state.queue = state.queue || [];
  state.inside = state.inside || [];

  function showWaiting() {
    waiting.textContent = String(state.queue.length);
    if (waitingLabel) waitingLabel.textContent = msgN("door.js.scans_waiting", state.queue.length);
    offlineNote.hidden = navigator.onLine && state.queue.length === 0;
  }

  // The gate's data, kept for when the network goes.
  function refresh() {
    if (!window.fetch || !navigator.onLine) return;
    fetch(door.getAttribute("data-gate-data"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (g) {
        if (!g) return;
        state.gate = g;
        var inside = {};
        g.checked_in.concat(state.inside).forEach(function (id) { inside[id] = true; });
        state.inside = Object.keys(inside).map(Number);
        save(state);
      })
      .catch(function () {});
  }

  function bytes(b64url) {
    var s = atob(b64url.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function number(b, at, n) { // big-endian, n bytes
    var v = 0;
    for (var i = 0; i < n; i++) v = v * 256 + b[at + i];
    return v;
  }

  function say(ok, title, text, reason) {
    answer.textContent = "";
    var box = document.createElement("div");
    box.className = "door-answer " + (ok ? "ok" : "refused");
    box.setAttribute("data-testid", ok ? "door-ok" : "door-refused");
    box.setAttribute("role", ok ? "status" : "alert");
    if (reason) box.setAttribute("data-reason", reason);
    var word = document.createElement("p");
    word.className = "door-word";
    word.textContent = title;
    var line = document.createElement("p");
    line.textContent = text;
    box.appendChild(word);
    box.appendChild(line);
    answer.appendChild(box);
    var old = document.querySelector(".door-answer:not([data-door-answer] *)");
    if (old) old.remove();
  }

  // checkHere checks a code as a gate does, with the kept key.
  function checkHere(code) {
    var g = state.gate;
    if (!g || !window.crypto || !crypto.subtle) {
      say(false, msg("door.js.no"), msg("door.js.no_key"), "no_key");
      return Promise.resolve();
    }
    var raw;
    try {
      if (code.indexOf("BX1.") !== 0) throw new Error();
      raw = bytes(code.slice(4));
      if (raw.length !== 28 + 64) throw new Error();
    } catch (e) {
      say(false, msg("door.js.no"), msg("door.js.not_a_code"), "invalid_code");
      return Promise.resolve();
    }
    return crypto.subtle.importKey("raw", bytes(g.public_key), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(28), raw.slice(0, 28)); })
      .then(function (good) {
        var ticket = number(raw, 0, 8), booking = number(raw, 8, 8), event = number(raw, 16, 8), win = number(raw, 24, 4);
        var now = Math.floor(Date.now() / 1000 / g.window_s);
        var no = msg("door.js.no");
        if (!good) return say(false, no, msg("door.js.forged"), "invalid_code");
        if (event !== eventID) return say(false, no, msg("door.js.other_event"), "not_valid");
        if (win !== 0 && win !== now && win + 1 !== now) return say(false, no, msg("door.js.expired"), "invalid_code");
        if (g.cancelled || g.revoked_bookings.indexOf(booking) >= 0) return say(false, no, msg("door.js.refunded"), "not_valid");
        if (state.inside.indexOf(ticket) >= 0) return say(false, no, msg("door.js.already_in"), "already_checked_in");
        state.inside.push(ticket);
        state.queue.push({ code: code, at: new Date().toISOString() });
        save(state);
        showWaiting();
        say(true, msg("door.js.in"), msg("door.js.checked_here", { Ticket: ticket }), "");
      })
      .catch(function () { say(false, msg("door.js.no"), msg("door.js.cannot_check"), "no_key"); });
  }

  // send sends the kept scans (one send at a time) and lists those
  // another gate had first.
  var sending = false;
  function send() {
    if (sending || !state.queue.length || !navigator.onLine) return;
    sending = true;
    var scans = state.queue.slice();
    var body = new URLSearchParams();
    body.set("_csrf", form.querySelector("[name=_csrf]").value);
    body.set("gate", form.querySelector("[name=gate]").value);
    body.set("scans", JSON.stringify(scans));
    fetch(door.getAttribute("data-sync"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (out) {
        sending = false;
        if (!out) return;
        // Only what was sent leaves the queue: scans made meanwhile stay.
        var sent = {};
        scans.forEach(function (sc) { sent[sc.code + "@" + sc.at] = true; });
        state = load();
        state.queue = (state.queue || []).filter(function (sc) { return !sent[sc.code + "@" + sc.at]; });
        save(state);
        showWaiting();
        out.results.forEach(function (r) {
          if (r.result === "admitted") return;
          var li = document.createElement("li");
          var id = "door.js.result." + r.result;
          var result = msg(id);
          if (result === id) result = r.result.replace(/_/g, " ");
          var vars = { Ticket: r.ticket_id || "?", Result: result, Message: r.message };
          li.textContent = msg(r.message ? "door.js.report_message" : "door.js.report", vars);
          li.setAttribute("data-result", r.result);
          report.appendChild(li);
        });
      })
      .catch(function () { sending = false; });
  }

  form.addEventListener("submit", function (ev) {
    if (navigator.onLine) return; // the server answers
    ev.preventDefault();
    var input = form.querySelector("[name=code]");
    checkHere(input.value.trim()).then(function () { input.value = ""; input.focus(); });
  });
  window.addEventListener("online", function () { showWaiting(); send(); refresh(); });
  window.addEventListener("offline", showWaiting);
  setInterval(send, 15000);
  refresh();
  send();
  showWaiting();

  // The camera, where the browser reads barcodes.
  var video = document.querySelector("[data-testid=door-camera]");
  if (!video || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
    video.srcObject = stream;
    video.hidden = false;
    return video.play();
  }).then(function () {
    // The code just checked stays in view while the fan walks on: read
    // again within ten seconds (across the page's reload) it is ignored.
    function recent(code) {
      try {
        var last = JSON.parse(sessionStorage.getItem(store + "-last")) || {};
        return last.code === code && Date.now() - last.at < 10000;
      } catch (e) { return false; }
    }
    function look() {
      detector.detect(video).then(function (codes) {
        var code = codes.length && codes[0].rawValue;
        if (code && code.indexOf("BX1.") === 0 && !recent(code)) {
          sessionStorage.setItem(store + "-last", JSON.stringify({ code: code, at: Date.now() }));
          form.querySelector("[name=code]").value = code;
          if (navigator.onLine) { form.submit(); return; }
          checkHere(code);
        }
        requestAnimationFrame(look);
      }).catch(function () { setTimeout(look, 250); });
    }
    look();
  }).catch(function () { /* no camera, or not allowed: type the code */ });
})();
