// Seat map niceties: the running count and total of the ticked seats, and
// the live map: seats others take grey out, seats freed open up, counts
// follow (GET /api/v1/events/:id/stream). The map works without this
// script, exactly as served.
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

  live(form, update);
})();

// live follows the seats on the map through the event's stream.
function live(form, update) {
  "use strict";
  var map = form.querySelector("[data-stream]");
  if (!map || !window.EventSource) return;
  var seats = {}; // ticket id → its element, input or mark
  var all = map.querySelectorAll("input[name=ticket_ids], i[data-t]");
  for (var i = 0; i < all.length; i++) seats[all[i].value || all[i].getAttribute("data-t")] = all[i];
  var left = document.querySelector("[data-testid=seats-left]");
  var message = document.createElement("p");
  message.className = "notice";
  message.setAttribute("role", "status");
  message.setAttribute("data-testid", "live-message");
  message.hidden = true;
  form.parentNode.insertBefore(message, form);

  function statusOf(el) {
    if (el.tagName === "INPUT") return "available";
    return el.className.indexOf("s-sold") >= 0 ? "sold" : "reserved";
  }
  function label(el) {
    var l = el.getAttribute("aria-label");
    return el.tagName === "INPUT" ? l : l.slice(0, l.lastIndexOf(", "));
  }
  function swap(el, status) {
    var next;
    if (status === "available") {
      next = document.createElement("input");
      next.type = "checkbox";
      next.name = "ticket_ids";
      next.value = el.getAttribute("data-t");
      next.setAttribute("aria-label", label(el));
    } else {
      next = document.createElement("i");
      next.className = "s-" + status;
      next.setAttribute("role", "img");
      next.setAttribute("data-t", el.value || el.getAttribute("data-t"));
      next.setAttribute("aria-label", label(el) + (status === "sold" ? ", sold" : ", on hold"));
    }
    next.setAttribute("data-p", el.getAttribute("data-p"));
    next.setAttribute("style", el.getAttribute("style"));
    el.parentNode.replaceChild(next, el);
    return next;
  }
  function apply(e) {
    map.setAttribute("data-live", "on");
    var data = JSON.parse(e.data);
    var lost = [], delta = 0;
    for (var i = 0; i < data.tickets.length; i++) {
      var t = data.tickets[i], el = seats[t.id];
      if (!el) continue;
      var was = statusOf(el);
      if (was === t.status) continue;
      if (was === "available") {
        if (el.checked) lost.push(label(el));
        delta--;
      } else if (t.status === "available") {
        delta++;
      }
      seats[t.id] = swap(el, t.status);
    }
    if (left && delta !== 0) {
      var n = Number(left.getAttribute("data-available")) + delta;
      left.setAttribute("data-available", n);
      left.textContent = n.toLocaleString("en-GB") + " of " + Number(left.getAttribute("data-total")).toLocaleString("en-GB");
    }
    if (lost.length > 0) {
      message.textContent = "Someone else just took " + lost.join("; ") + ". We have unticked " +
        (lost.length === 1 ? "it" : "them") + ": pick another seat.";
      message.hidden = false;
      update();
    }
  }
  var source = new EventSource(map.getAttribute("data-stream"));
  source.addEventListener("snapshot", apply);
  source.addEventListener("seats", apply);
}
