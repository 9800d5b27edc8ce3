// Seat map niceties: the running count and total of the ticked seats, and
// the live map: seats others take grey out, seats freed open up, counts
// follow (GET /api/v1/events/:id/stream). The map works without this
// script, exactly as served. Its words come from the page (msg, msgN:
// static/messages.js, the seatmap.js.* messages), in the page's language.
(function () {
  "use strict";
  var overview = document.querySelector("[data-testid=overview][data-stream]");
  if (overview) liveCounts(overview);
  zoneFilter(document.querySelector("[data-testid=zones]"),
    document.querySelector("[data-testid=seat-map]") || overview);
  var form = document.querySelector("[data-testid=seat-form]");
  if (!form) return;
  var line = form.querySelector("[data-selection]");
  var currency = line.getAttribute("data-currency");
  var fmt;
  try {
    fmt = new Intl.NumberFormat(pageLang(), { style: "currency", currency: currency });
  } catch (e) {
    fmt = { format: function (v) { return v.toFixed(2) + " " + currency; } };
  }
  var digits = fmt.resolvedOptions ? fmt.resolvedOptions().maximumFractionDigits : 2;
  var initial = line.textContent;
  var max = Number(line.getAttribute("data-max")) || 0;

  function update(e) {
    var ticked = form.querySelectorAll("input[name=ticket_ids]:checked");
    // The limit of a booking, kept as fans tick rather than told after.
    if (max && ticked.length > max && e && e.target && e.target.checked) {
      e.target.checked = false;
      line.textContent = msgN("seatmap.js.limit", max);
      line.classList.add("at-limit");
      return;
    }
    line.classList.remove("at-limit");
    if (ticked.length === 0) {
      line.textContent = initial;
      return;
    }
    var total = 0;
    for (var i = 0; i < ticked.length; i++) total += Number(ticked[i].getAttribute("data-p"));
    var sum = fmt.format(total / Math.pow(10, digits));
    line.textContent = max ? msgN("seatmap.js.picked_of", max, { Picked: localNumber(ticked.length), Total: sum }) :
      msgN("seatmap.js.picked", ticked.length, { Total: sum });
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
  if (scroller) zoom(form, scroller);
  // The live map in a task of its own: on a big hall, one long task to
  // start everything would hold up a fan's first tap.
  setTimeout(function () { live(form, update); }, 0);
})();

// zoom lets fans zoom and pan the map: buttons, and a two-finger pinch.
// On a touch screen the map opens with seats at least 24 CSS px wide, and
// tapping a seat drawn smaller zooms in on it rather than ticking it, so
// every seat is ticked at a size a thumb can hit.
function zoom(form, scroller) {
  "use strict";
  var map = scroller.querySelector(".seatmap");
  var first = map && map.querySelector("input, i");
  if (!first) return;
  var touch = navigator.maxTouchPoints > 0 || (window.matchMedia && window.matchMedia("(any-pointer: coarse)").matches);
  var tapPx = 24, level = 1;
  var base = first.getBoundingClientRect().width || 1; // seat size at zoom 1
  var readable = Math.max(1, tapPx / base); // the zoom where seats reach tapPx
  var most = Math.max(4, readable * 2);

  var bar = document.createElement("div");
  bar.className = "zoom";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", msg("seatmap.js.zoom"));
  function button(what, text, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-zoom", what);
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    bar.appendChild(b);
    return b;
  }
  button("out", "\u2212", msg("seatmap.js.zoom_out"));
  button("in", "+", msg("seatmap.js.zoom_in"));
  button("fit", msg("seatmap.js.whole_map")).className = "zoom-fit";
  var out = document.createElement("output");
  out.setAttribute("aria-live", "polite");
  bar.appendChild(out);
  scroller.parentNode.insertBefore(bar, scroller);
  scroller.classList.add("zoomable");

  // set zooms to z keeping the point (x, y) of the box, in pixels from its
  // top left, where it is.
  function set(z, x, y) {
    z = Math.min(most, Math.max(1, z));
    if (x === undefined) { x = scroller.clientWidth / 2; y = scroller.clientHeight / 2; }
    var fx = (scroller.scrollLeft + x) / map.offsetWidth, fy = (scroller.scrollTop + y) / map.offsetHeight;
    map.style.setProperty("--zoom", z);
    scroller.scrollLeft = fx * map.offsetWidth - x;
    scroller.scrollTop = fy * map.offsetHeight - y;
    shown(z);
  }
  // shown sets the controls for zoom z.
  function shown(z) {
    level = z;
    bar.querySelector("[data-zoom=out]").disabled = z <= 1;
    bar.querySelector("[data-zoom=in]").disabled = z >= most;
    out.textContent = Math.round(z * 100) + "%";
    map.setAttribute("data-zoom", z.toFixed(2));
  }
  bar.addEventListener("click", function (e) {
    var what = e.target.getAttribute("data-zoom");
    if (what === "in") set(level * 1.5);
    if (what === "out") set(level / 1.5);
    if (what === "fit") set(1);
  });
  // The map opens at zoom 1, as served: only a touch screen's needs a
  // second layout (of thousands of seats, on a big hall).
  if (touch && readable > 1) {
    set(readable, scroller.clientWidth / 2, 0);
    scroller.scrollTop = 0; // the front rows, nearest the stage
  } else {
    shown(1);
  }

  // A tap on a seat too small to hit surely zooms in on it first.
  map.addEventListener("click", function (e) {
    var seat = e.target;
    if (!touch || seat.name !== "ticket_ids" || seat.getBoundingClientRect().width >= tapPx - 0.5) return;
    e.preventDefault();
    var box = scroller.getBoundingClientRect(), r = seat.getBoundingClientRect();
    set(readable, r.left + r.width / 2 - box.left, r.top + r.height / 2 - box.top);
  });

  // Pinch: two pointers on the map; one finger still scrolls natively.
  var pointers = {}, start = null;
  function spread() {
    var p = Object.keys(pointers).map(function (k) { return pointers[k]; });
    return { d: Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y), x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2 };
  }
  scroller.addEventListener("pointerdown", function (e) {
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    if (Object.keys(pointers).length === 2) { start = spread(); start.zoom = level; }
  });
  scroller.addEventListener("pointermove", function (e) {
    if (!pointers[e.pointerId]) return;
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    if (!start || Object.keys(pointers).length !== 2) return;
    var now = spread(), box = scroller.getBoundingClientRect();
    set(start.zoom * now.d / start.d, now.x - box.left, now.y - box.top);
  });
  function lift(e) {
    delete pointers[e.pointerId];
    if (Object.keys(pointers).length < 2) start = null;
  }
  scroller.addEventListener("pointerup", lift);
  scroller.addEventListener("pointercancel", lift);
}


// live follows the seats on the map through the event's stream.
function live(form, update) {
  "use strict";
  var map = form.querySelector("[data-stream]");
  if (!map || !window.EventSource) return;
  var seats = {}; // ticket id → its element, input or mark
  var all = map.querySelectorAll("input[name=ticket_ids], i[data-t]");
  for (var i = 0; i < all.length; i++) seats[all[i].value || all[i].getAttribute("data-t")] = all[i];
  // Seats left is the whole event's: only a stream of the whole event
  // (not of one section) can keep it current.
  var whole = map.getAttribute("data-stream").indexOf("section=") < 0;
  var left = whole ? document.querySelector("[data-testid=seats-left]") : null;
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
  // A seat's name with its price: an input's label, or a mark's without
  // the ", sold" or ", on hold" the page's language adds.
  function label(el) {
    var l = el.getAttribute("aria-label");
    return el.tagName === "INPUT" ? l : unwrap(l, statusOf(el) === "sold" ? "seatmap.js.sold" : "seatmap.js.on_hold");
  }
  function swap(el, status) {
    var next;
    if (status === "available") {
      next = document.createElement("input");
      next.type = "checkbox";
      next.name = "ticket_ids";
      next.value = el.getAttribute("data-t");
      next.className = "z" + el.getAttribute("data-z");
      next.setAttribute("aria-label", label(el));
    } else {
      next = document.createElement("i");
      next.className = "s-" + status;
      next.setAttribute("role", "img");
      next.setAttribute("data-t", el.value || el.getAttribute("data-t"));
      next.setAttribute("aria-label", msg(status === "sold" ? "seatmap.js.sold" : "seatmap.js.on_hold", { Name: label(el) }));
    }
    next.setAttribute("data-p", el.getAttribute("data-p"));
    next.setAttribute("data-z", el.getAttribute("data-z"));
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
      left.textContent = seatsLeft(n, left.getAttribute("data-total"));
    }
    if (lost.length > 0) {
      message.textContent = msgN("seatmap.js.taken", lost.length, { Seats: lost.join(msg("seatmap.js.separator")) });
      message.hidden = false;
      update();
    }
  }
  follow(map.getAttribute("data-stream"), { snapshot: apply, seats: apply }, function () {
    map.setAttribute("data-live", "off");
  });
}

// liveCounts keeps a large venue's section overview current: which
// sections are sold out, and the seats left of each and of the event, from
// the counts stream. A section keeps its price colour.
function liveCounts(overview) {
  "use strict";
  if (!window.EventSource) return;
  var left = document.querySelector("[data-testid=seats-left]");
  function apply(e) {
    var data = JSON.parse(e.data);
    overview.setAttribute("data-live", "on");
    for (var i = 0; i < data.sections.length; i++) {
      var s = data.sections[i];
      var poly = overview.querySelector('[data-section-id="' + s.id + '"] polygon');
      if (poly) poly.classList.toggle("sold-out", s.available === 0);
      var row = document.querySelector('[data-testid=section-row][data-section-id="' + s.id + '"]');
      if (row) {
        row.setAttribute("data-available", s.available);
        var cell = row.cells[1];
        cell.textContent = s.available === 0 ? "" : localNumber(s.available);
        if (s.available === 0) {
          var badge = document.createElement("span");
          badge.className = "badge badge-soldout";
          badge.textContent = msg("seatmap.js.sold_out");
          cell.appendChild(badge);
        }
      }
    }
    if (left) {
      left.setAttribute("data-available", data.available);
      left.textContent = seatsLeft(data.available, left.getAttribute("data-total"));
    }
  }
  follow(overview.getAttribute("data-stream"), { counts: apply }, function () {
    overview.setAttribute("data-live", "off");
  });
}

// follow opens an event stream and keeps it open. The browser reconnects
// by itself after a dropped connection but gives up after a refusal (too
// many streams, a restart): then closed is called and it tries again later.
function follow(url, handlers, closed) {
  "use strict";
  var wait = 5000;
  function connect() {
    var source = new EventSource(url);
    for (var name in handlers) source.addEventListener(name, handlers[name]);
    source.addEventListener("open", function () { wait = 5000; });
    source.addEventListener("error", function () {
      if (source.readyState !== EventSource.CLOSED) return;
      closed();
      setTimeout(connect, wait);
      wait = Math.min(wait * 2, 60000);
    });
  }
  connect();
}

// zoneFilter turns the price key into buttons: a fan switches price zones
// off and on, and the map fades the seats (or sections) of those off.
function zoneFilter(key, map) {
  "use strict";
  if (!key || !map) return;
  var items = key.querySelectorAll("li[data-zone]");
  for (var i = 0; i < items.length; i++) {
    var li = items[i], b = document.createElement("button");
    b.type = "button";
    b.setAttribute("aria-pressed", "true");
    b.setAttribute("data-zone", li.getAttribute("data-zone"));
    b.setAttribute("data-testid", "zone-button");
    while (li.firstChild) b.appendChild(li.firstChild);
    b.title = msg("seatmap.js.zone_toggle");
    li.appendChild(b);
  }
  key.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-zone]");
    if (!b) return;
    var on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", on ? "true" : "false");
    map.classList.toggle("off-z" + b.getAttribute("data-zone"), !on);
  });
}

// pageLang is the language the page speaks, for numbers and money.
function pageLang() {
  "use strict";
  return document.documentElement.lang || undefined;
}

// localNumber writes a number the page's language's way: "1,234", "1.234".
function localNumber(n) {
  "use strict";
  return Number(n).toLocaleString(pageLang());
}

// seatsLeft is "38 of 40", as the page writes the seats left.
function seatsLeft(n, total) {
  "use strict";
  return msg("seatmap.js.left_of", { Left: localNumber(n), Total: localNumber(total) });
}

// unwrap takes back the words message id put around a {{.Name}}: a seat's
// name from its label as sold. A label the message did not make stays.
function unwrap(label, id) {
  "use strict";
  var parts = msg(id, { Name: "\u0000" }).split("\u0000");
  if (parts.length !== 2 || label.length < parts[0].length + parts[1].length ||
    label.indexOf(parts[0]) !== 0 || label.slice(label.length - parts[1].length) !== parts[1]) return label;
  return label.slice(parts[0].length, label.length - parts[1].length);
}
