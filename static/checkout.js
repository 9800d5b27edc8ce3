// Checkout: count the hold down to zero, then say it has run out. The page
// states the time without this script; it only keeps it ticking. Its words
// come from the page (static/messages.js).
(function () {
  "use strict";
  var el = document.querySelector("[data-testid=countdown]");
  if (!el) return;
  var expires = Date.parse(el.getAttribute("data-expires"));
  function tick() {
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left === 0) {
      var hold = document.querySelector("[data-testid=hold]");
      if (hold) hold.textContent = msg("checkout.js.hold_ran_out");
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }
  tick();
})();
