// An event's management page follows its sales live: when the event's
// seat stream says seats changed (and every 15 seconds, for the door's
// check-ins), it fetches the sales panel again (at most once every two
// seconds) and swaps it in. Without script the page
// shows the figures of when it was loaded.
(function () {
  "use strict";
  var panel = document.querySelector("[data-sales][data-stream]");
  if (!panel || !window.EventSource || !window.fetch) return;
  var url = panel.getAttribute("data-sales");
  var waiting = false;
  function refresh() {
    if (waiting) return;
    waiting = true;
    setTimeout(function () {
      fetch(url, { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) {
          waiting = false;
          if (!html) return;
          var fresh = document.createElement("div");
          fresh.innerHTML = html;
          var next = fresh.querySelector("[data-sales]");
          if (next) {
            panel.replaceWith(next);
            panel = next;
          }
        })
        .catch(function () { waiting = false; });
    }, 2000);
  }
  var stream = new EventSource(panel.getAttribute("data-stream"));
  stream.onmessage = refresh;
  stream.addEventListener("seats", refresh);
  // Check-ins at the door move no seat: look again now and then.
  setInterval(refresh, 15000);
})();
