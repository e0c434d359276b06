/*
 * The RO dashboard (templates/results/dashboard.html) without page reloads.
 *
 * Every 5 seconds it asks results:dashboard_json, sending the ETag of the last answer in
 * If-None-Match; a 304 means nothing changed. A new answer updates the page in place:
 * every [data-field=<key>] gets data.text[<key>], the standings, findings and awaited
 * lists are rebuilt (textContent only, never HTML from the server), and the deadline
 * clocks count down between polls using the server's clock. The page is complete without
 * this script; it only keeps it current.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-rms-dashboard]");
  if (!root || !window.fetch) return;
  var t = root.dataset;
  var url = t.url;
  var etag = null;
  var offset = 0; // server time - client time, in ms
  var INTERVAL = 5000;
  var live = root.querySelector("[data-live]");

  if (t.now) offset = Date.parse(t.now) - Date.now();

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? values[key] : "";
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function flash(node) {
    node.classList.remove("rms-flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("rms-flash");
  }

  function setText(node, text) {
    if (node.textContent !== text) {
      node.textContent = text;
      flash(node);
    }
  }

  function ur(text) {
    var span = el("span", { lang: "ur", dir: "rtl" }, text);
    return span;
  }

  function renderStandings(candidates) {
    var body = root.querySelector("[data-list='standings']");
    if (!body) return;
    var rows = candidates.map(function (c) {
      var tr = el("tr", { "data-rank": c.rank, "data-ballot": c.ballot_order });
      tr.appendChild(el("td", { className: "num", dir: "ltr" }, String(c.rank)));
      var who = el("th", { scope: "row" });
      who.appendChild(el("bdi", {}, c.name));
      if (c.name_ur) {
        who.appendChild(document.createTextNode(" "));
        who.appendChild(ur(c.name_ur));
      }
      tr.appendChild(who);
      var party = el("td");
      party.appendChild(el("bdi", {}, c.party || t.tIndependent));
      if (c.party_ur) {
        party.appendChild(document.createTextNode(" "));
        party.appendChild(ur(c.party_ur));
      }
      tr.appendChild(party);
      tr.appendChild(el("td", { className: "num", dir: "ltr" }, c.votes_text));
      tr.appendChild(el("td", { className: "num", dir: "ltr" }, c.share_text));
      var barCell = el("td");
      var bar = el("span", { className: "rms-bar", "aria-hidden": "true" });
      var fillBar = el("span");
      fillBar.style.width = c.bar + "%";
      bar.appendChild(fillBar);
      barCell.appendChild(bar);
      tr.appendChild(barCell);
      return tr;
    });
    var before = body.textContent;
    body.replaceChildren.apply(body, rows);
    if (body.textContent !== before) flash(body);
  }

  function renderFindings(findings) {
    var list = root.querySelector("[data-list='findings']");
    if (!list) return;
    var items = findings.map(function (f) {
      var li = el("li", { className: "rms-finding rms-finding--" + f.severity, "data-rule": f.rule });
      li.appendChild(el("span", { className: "rms-finding__sev" }, f.severity_text));
      if (f.station !== null && f.station !== undefined) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", { className: "rms-finding__station", dir: "ltr" }, "PS-" + f.station));
      }
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", { dir: "ltr" }, f.message));
      return li;
    });
    if (!items.length) items = [el("li", { className: "empty" }, t.tNoFindings)];
    list.replaceChildren.apply(list, items);
  }

  function renderAwaited(awaited) {
    var list = root.querySelector("[data-list='awaited']");
    if (!list) return;
    var items = awaited.map(function (s) {
      var li = el("li");
      li.appendChild(el("b", { dir: "ltr" }, "PS-" + s.number));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("bdi", {}, s.name));
      if (s.name_ur) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(ur(s.name_ur));
      }
      return li;
    });
    if (!items.length) items = [el("li", { className: "empty" }, t.tNoneAwaited)];
    list.replaceChildren.apply(list, items);
  }

  function render(data) {
    Object.keys(data.text).forEach(function (key) {
      root.querySelectorAll("[data-field='" + key + "']").forEach(function (node) {
        setText(node, data.text[key]);
      });
    });
    var progress = root.querySelector("[data-progress]");
    if (progress) {
      progress.max = Math.max(data.stations_total, 1);
      progress.value = data.stations_reported;
    }
    var recount = root.querySelector("[data-recount]");
    if (recount) recount.classList.toggle("rms-margin--attention", !!data.recount_eligible);
    var mismatches = root.querySelector("[data-kpi='mismatches']");
    if (mismatches) mismatches.classList.toggle("rms-kpi--warn", data.mismatches > 0);
    renderStandings(data.candidates);
    renderFindings(data.findings);
    renderAwaited(data.awaited);
    Object.keys(data.deadlines).forEach(function (key) {
      var clock = root.querySelector("[data-clock='" + key + "']");
      if (!clock) return;
      clock.dataset.due = data.deadlines[key].due_at;
      clock.dataset.state = data.deadlines[key].state;
    });
    root.dataset.allReported = String(data.stations_total > 0 && data.stations_reported === data.stations_total);
    if (data.now) offset = Date.parse(data.now) - Date.now();
  }

  /* Between polls the clocks count down on their own, on the server's time. */
  function tickClocks() {
    var now = Date.now() + offset;
    root.querySelectorAll("[data-clock]").forEach(function (clock) {
      var due = Date.parse(clock.dataset.due);
      if (isNaN(due)) return;
      var text;
      var state;
      if (root.dataset.allReported === "true" || clock.dataset.state === "met") {
        state = "met";
        text = t.tMet;
      } else {
        var seconds = Math.trunc((due - now) / 1000);
        var minutes = Math.floor(Math.abs(seconds) / 60);
        var values = { h: Math.floor(minutes / 60), m: minutes % 60 };
        state = seconds > 0 ? "left" : "passed";
        text = fill(state === "left" ? t.tLeft : t.tPassed, values);
      }
      clock.dataset.state = state;
      var out = clock.querySelector("[data-field]");
      if (out && out.textContent !== text) out.textContent = text;
    });
  }

  function markLive(ok) {
    if (!live) return;
    live.dataset.state = ok ? "live" : "stale";
    live.textContent = ok
      ? fill(t.tUpdated, { time: new Date(Date.now() + offset).toLocaleTimeString("en-GB", { timeZone: "Asia/Karachi" }) })
      : t.tStale;
  }

  var timer = null;
  function poll() {
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (data) render(data);
        tickClocks();
        markLive(true);
      })
      .catch(function () {
        markLive(false);
      })
      .then(function () {
        timer = document.hidden ? null : window.setTimeout(poll, INTERVAL);
      });
  }

  document.addEventListener("visibilitychange", function () {
    // A hidden tab stops asking; it catches up at once when shown again.
    if (document.hidden) {
      window.clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      poll();
    }
  });

  window.setInterval(tickClocks, 10000);
  poll();
})();
