// Seat map niceties: the running count and total of the ticked seats.
// The map works without this script; it only adds the summary line.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=seat-form]");
  if (!form) return;
  var line = form.querySelector("[data-selection]");
  var currency = line.getAttribute("data-currency");
  var fmt;
  try {
    fmt = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
  } catch (e) {
    fmt = { format: function (v) { return v.toFixed(2) + " " + currency; } };
  }
  var digits = fmt.resolvedOptions ? fmt.resolvedOptions().maximumFractionDigits : 2;
  var initial = line.textContent;

  function update() {
    var ticked = form.querySelectorAll("input[name=ticket_ids]:checked");
    if (ticked.length === 0) {
      line.textContent = initial;
      return;
    }
    var total = 0;
    for (var i = 0; i < ticked.length; i++) total += Number(ticked[i].getAttribute("data-p"));
    line.textContent = ticked.length + (ticked.length === 1 ? " seat · " : " seats · ") +
      fmt.format(total / Math.pow(10, digits));
  }
  form.addEventListener("change", update);
  // A tooltip with the seat's name and price, made on first hover rather
  // than sent with each of thousands of seats.
  form.addEventListener("mouseover", function (e) {
    var t = e.target;
    if (t.name === "ticket_ids" && !t.title) t.title = t.getAttribute("aria-label");
  });
  update();

  // A map wider than the screen opens at its middle, facing the stage.
  var scroller = form.querySelector(".map-scroll");
  if (scroller && scroller.scrollWidth > scroller.clientWidth) {
    scroller.scrollLeft = (scroller.scrollWidth - scroller.clientWidth) / 2;
  }
})();
