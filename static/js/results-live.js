/*
 * Public live results pages (templates/results/live/*.html) without reloads.
 *
 * Every data-poll-ms milliseconds the page asks its regions.json, sending the ETag of what it
 * shows in If-None-Match: a 304 means nothing changed and costs no body. A 200 carries the
 * page's regions rendered by the server in the page's language (the same templates that drew
 * the page, escaped there) and each [data-live-region=<name>] is replaced with its new HTML.
 * Polling pauses while the tab is hidden and backs off after errors; the status line says when
 * the figures were last updated, or that they may be old. Without this script the page is
 * complete; it only keeps it current.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-page]");
  if (!root || !window.fetch) return;
  var url = root.dataset.url;
  var etag = root.dataset.etag || null;
  var interval = parseInt(root.dataset.pollMs, 10) || 3000;
  var status = root.querySelector("[data-live-status]");
  var failures = 0;
  var timer = null;

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  function apply(body) {
    Object.keys(body.regions || {}).forEach(function (name) {
      var region = root.querySelector("[data-live-region='" + name + "']");
      if (region && region.innerHTML !== body.regions[name]) {
        region.innerHTML = body.regions[name];
        region.classList.remove("rms-flash");
        void region.offsetWidth; // restart the animation
        region.classList.add("rms-flash");
      }
    });
    if (status && body.updated_text) {
      status.textContent = body.updated_text;
      status.dataset.state = "live";
    }
  }

  function poll() {
    if (document.hidden) return; // resumed by visibilitychange
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-cache" })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag") || etag;
        return response.json();
      })
      .then(function (body) {
        failures = 0;
        if (body) apply(body);
        if (status && status.dataset.state === "stale") status.dataset.state = "live";
        schedule(interval);
      })
      .catch(function () {
        failures += 1;
        if (status && failures >= 2) {
          status.textContent = root.dataset.tStale;
          status.dataset.state = "stale";
        }
        schedule(Math.min(interval * Math.pow(2, failures), 60000));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedule(0);
  });
  schedule(interval);
})();
