// The waiting room page follows the fan's place by itself: it asks the
// API again after the Retry-After the server gives (more often near the
// front), updates the figures, and shows the way in when the fan is
// admitted. Without script the page reloads itself (a refresh in
// <noscript>). Its words are the page's queue.js.* messages (msg, msgN:
// static/messages.js).
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;
  // A countdown to the on-sale, on the event page: at zero the page
  // reloads and the sale (or the draw) has begun.
  // It counts from the seconds left on the server's clock (not the
  // browser's), and reloads once, a moment after, spread over two seconds
  // so that a crowd does not reload at one instant.
  var countdown = document.querySelector("[data-countdown]");
  if (countdown && window.performance) {
    var end = performance.now() + Number(countdown.getAttribute("data-countdown")) * 1000;
    var show = function () {
      var s = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      countdown.textContent = msg(h ? "queue.js.countdown_hms" : m ? "queue.js.countdown_ms" : "queue.js.countdown_s", { H: h, M: m, S: sec });
      if (s > 0) setTimeout(show, 1000);
      else setTimeout(function () { window.location.reload(); }, 500 + Math.random() * 2000);
    };
    show();
  }
  var room = document.querySelector("[data-testid=queue][data-poll]");
  if (!room || !window.fetch) return;
  var state = room.getAttribute("data-state");
  if (state !== "waiting") return;
  function set(id, text) {
    var el = room.querySelector("[data-testid=" + id + "]");
    if (el) el.textContent = text;
  }
  function wait(s) {
    if (s < 60) return msg("queue.js.wait_under_minute");
    return msgN("queue.js.wait_minutes", Math.round(s / 60));
  }
  function look() {
    fetch(room.getAttribute("data-poll"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        var again = Number(res.headers.get("Retry-After")) || 5;
        if (!res.ok) {
          setTimeout(look, Math.max(again, 10) * 1000); // busy or signed out: look later, gently
          return;
        }
        return res.json().then(function (p) {
          if (p.state !== "waiting") {
            window.location.reload();
            return;
          }
          if (p.position > 0 && !room.querySelector("[data-testid=queue-position]")) {
            window.location.reload(); // the place was just given
            return;
          }
          if (p.position > 0) set("queue-position", p.position.toLocaleString(lang));
          set("queue-ahead", p.ahead.toLocaleString(lang));
          set("queue-wait", msg("queue.js.wait", { Wait: wait(p.estimated_wait_s) }));
          setTimeout(look, again * 1000);
        });
      })
      .catch(function () { setTimeout(look, 10000); });
  }
  setTimeout(look, 2000);
})();
