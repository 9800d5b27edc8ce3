// A paid booking's ticket codes turn every 30 seconds: at each turn the
// page asks for the new codes and draws them in place. Without script the
// page reloads itself at the turn (a refresh in <noscript>).
(function () {
  "use strict";
  var note = document.querySelector("[data-qr-codes]");
  if (!note || !window.fetch) return;
  var url = note.getAttribute("data-qr-codes");
  function turn() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (out) {
        if (!out) { setTimeout(turn, 5000); return; }
        Object.keys(out.codes).forEach(function (id) {
          var box = document.querySelector('[data-qr="' + id + '"]');
          if (box) box.innerHTML = out.codes[id];
        });
        if (out.next_s > 0) setTimeout(turn, out.next_s * 1000 + 200);
      })
      .catch(function () { setTimeout(turn, 5000); });
  }
  setTimeout(turn, (Number(note.getAttribute("data-qr-next")) || 30) * 1000 + 200);
})();
