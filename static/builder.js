// The venue builder's preview follows the form: a moment after each
// change the page asks the server to draw the design (the "Show the map"
// button's request) and swaps in the new map and problems. Without script
// the button does the same with a reload.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=builder]");
  if (!form || !window.fetch || !window.FormData) return;
  var timer = null, asked = 0;
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    ["[data-testid=builder-preview]", "[data-testid=seatmap-problems]"].forEach(function (sel) {
      var now = document.querySelector(sel), next = doc.querySelector(sel);
      if (now && next) now.replaceWith(next);
      else if (now) now.remove();
      else if (next) form.parentNode.insertBefore(next, form);
    });
  }
  function draw() {
    var data = new FormData(form);
    data.set("do", "preview");
    var mine = ++asked;
    fetch(form.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" })
      .then(function (res) { return res.text(); })
      .then(function (html) { if (mine === asked) swap(html); })
      .catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(draw, 400);
  });
})();
