/*
 * Live job progress for templates/core/_progress.html.
 *
 * Every [data-job-progress] block polls its data-url (core:job_progress) once a
 * second until the job reports finished, then stops. The bar, the figures and
 * the error list are updated in place; the aria-live line announces the job's
 * status when it changes (not every percent, which would be noise) and its
 * message. Without JavaScript the block stays the static bar the server drew.
 * When the fragment is included several times the script still runs once.
 */
(function () {
  "use strict";
  if (window.ecpProgressStarted) return;
  window.ecpProgressStarted = true;

  var INTERVAL = 1000;
  var MAX_FAILURES = 5;

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function field(block, name) {
    return block.querySelector('[data-field="' + name + '"]');
  }

  function render(block, data, state) {
    var percent = Math.max(0, Math.min(100, Number(data.percent) || 0));
    var bar = field(block, "bar");
    if (bar) {
      bar.value = percent;
      bar.textContent = percent + "%";
    }
    var pct = field(block, "percent");
    if (pct) pct.textContent = String(percent);

    var figures = field(block, "figures");
    if (figures) figures.textContent = fill(block.dataset.textFigures, { done: data.done, total: data.total });

    var errorCount = field(block, "error_count");
    if (errorCount) {
      errorCount.textContent = fill(block.dataset.textErrors, { count: data.error_count });
      errorCount.hidden = !data.error_count;
    }

    var list = field(block, "errors");
    if (list && Array.isArray(data.errors)) {
      list.textContent = "";
      data.errors.forEach(function (error) {
        // Messages and item names are data, often in the other script: <bdi> keeps
        // each one in its own direction inside an Urdu (RTL) page.
        var item = document.createElement("li");
        var hasLine = error && error.line !== undefined && error.line !== null && error.line !== "";
        var hasItem = error && error.item !== undefined && error.item !== null && error.item !== "";
        if (hasLine) {
          item.appendChild(document.createTextNode(fill(block.dataset.textLine, { line: error.line }) + ": "));
        } else if (hasItem) {
          var where = document.createElement("bdi");
          where.textContent = String(error.item);
          item.appendChild(where);
          item.appendChild(document.createTextNode(": "));
        }
        var text = document.createElement("bdi");
        text.textContent = error && error.message ? String(error.message) : String(error);
        item.appendChild(text);
        list.appendChild(item);
      });
      list.hidden = data.errors.length === 0;
    }

    var status = field(block, "status");
    if (status) {
      status.textContent = data.status_display || data.status || "";
      status.setAttribute("data-status", data.status || "");
    }

    // The live line: announced when the status or the message changes.
    var live = field(block, "message");
    var spoken = [data.status !== state.status ? data.status_display : "", data.message || ""]
      .filter(Boolean)
      .join(" — ");
    if (live && (data.status !== state.status || (data.message || "") !== state.message)) {
      live.textContent = spoken || data.status_display || "";
    }
    state.status = data.status;
    state.message = data.message || "";
  }

  function watch(block) {
    var url = block.getAttribute("data-url");
    if (!url) return;
    var statusEl = field(block, "status");
    var messageEl = field(block, "message");
    var state = {
      status: statusEl ? statusEl.getAttribute("data-status") : "",
      message: messageEl ? messageEl.textContent.trim() : "",
      failures: 0,
    };

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          state.failures = 0;
          render(block, data, state);
          if (data.finished) {
            block.setAttribute("data-finished", "true");
            block.dispatchEvent(new CustomEvent("ecp:job-finished", { bubbles: true, detail: data }));
          } else {
            window.setTimeout(poll, INTERVAL);
          }
        })
        .catch(function () {
          state.failures += 1;
          if (state.failures >= MAX_FAILURES) {
            if (messageEl) messageEl.textContent = block.dataset.textStalled || "";
            return;
          }
          window.setTimeout(poll, INTERVAL * Math.pow(2, state.failures)); // back off
        });
    }

    window.setTimeout(poll, INTERVAL);
  }

  function start() {
    document.querySelectorAll("[data-job-progress]").forEach(function (block) {
      if (block.getAttribute("data-finished") === "true" || block.hasAttribute("data-watching")) return;
      block.setAttribute("data-watching", "");
      watch(block);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
