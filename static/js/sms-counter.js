/*
 * SMS staff screens, small enhancements over pages that work without JavaScript:
 *
 * 1. The live counter under every compose box (textarea[data-sms-counter] in a form[data-sms-compose]):
 *    characters, encoding (GSM-7 / UCS-2), SMS segments and what is left in the last one. It is computed
 *    by the server's sms/encoding.py (POST to the form's data-segments-url, ~150 ms after the last key),
 *    so the screen and the dispatcher never disagree. The line is an aria-live="polite" region; its
 *    words come from the form's data-text-* attributes (translated by the template).
 * 2. The campaign form's placeholder buttons: the placeholders the chosen audience offers
 *    (#sms-audience-fields), each inserting {name} at the cursor of the message box typed in last.
 *    Typing a send time chooses "At a time".
 * 3. The campaign page's counts by status, refreshed every 2 s while the campaign can still move.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var POLL_MS = 2000;
  var MAX_FAILURES = 5;

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- 1. the live counter ------------------------------------------------------------------------------

  function watchBox(form, box) {
    var out = document.getElementById(box.id + "_counter");
    var url = form.getAttribute("data-segments-url");
    if (!out || !url) return;
    var max = Number(form.getAttribute("data-max-segments")) || 0;
    var timer = null;
    var asked = 0;
    var controller = null;

    function show(data) {
      var text = fill(form.getAttribute("data-text-counter"), data);
      var over = max && data.segments > max;
      if (over) text += " — " + form.getAttribute("data-text-over");
      out.classList.toggle("sms-counter--over", Boolean(over));
      if (out.textContent.trim() !== text) out.textContent = text; // unchanged text is not announced again
    }

    function ask() {
      var mine = ++asked;
      if (controller && window.AbortController) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url, {
        method: "POST",
        body: new URLSearchParams({ text: box.value }),
        headers: { "X-CSRFToken": csrfToken(form), Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (data && mine === asked) show(data);
        })
        .catch(function () {
          /* the counter is a help: the form and the server's checks work without it */
        });
    }

    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DEBOUNCE_MS);
    });
  }

  // --- 2. placeholders and the send time ---------------------------------------------------------------

  function insertAt(box, text) {
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : start;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + text.length, start + text.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function placeholders(form) {
    var block = form.querySelector("[data-placeholders]");
    var list = block && block.querySelector("[data-placeholder-list]");
    var audience = form.querySelector("select[name=audience]");
    var source = document.getElementById("sms-audience-fields");
    if (!block || !list || !audience || !source) return;
    var offered = JSON.parse(source.textContent || "{}");
    var boxes = form.querySelectorAll("textarea[data-sms-counter]");
    var last = boxes[0];
    boxes.forEach(function (box) {
      box.addEventListener("focus", function () {
        last = box;
      });
    });

    function render() {
      list.textContent = "";
      var names = offered[audience.value];
      if (!audience.value || !names || !names.length) {
        var note = document.createElement("span");
        note.className = "sms-muted";
        note.textContent = block.getAttribute(audience.value ? "data-text-none" : "data-text-choose");
        list.appendChild(note);
        return;
      }
      names.forEach(function (name) {
        var token = "{" + name + "}";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button--secondary";
        button.textContent = token;
        button.setAttribute("aria-label", fill(block.getAttribute("data-text-insert"), { name: token }));
        button.addEventListener("click", function () {
          if (last) insertAt(last, token);
        });
        list.appendChild(button);
      });
    }

    audience.addEventListener("change", render);
    render();
  }

  function sendTime(form) {
    var at = form.querySelector("input[name=send_at]");
    var later = form.querySelector("input[name=when][value=later]");
    if (!at || !later) return;
    at.addEventListener("input", function () {
      if (at.value) later.checked = true;
    });
  }

  document.querySelectorAll("form[data-sms-compose]").forEach(function (form) {
    form.querySelectorAll("textarea[data-sms-counter]").forEach(function (box) {
      watchBox(form, box);
    });
    placeholders(form);
    sendTime(form);
  });

  // --- 3. the campaign page's counts -------------------------------------------------------------------

  var panel = document.querySelector("[data-campaign-counts][data-live=true]");
  if (panel) {
    var url = panel.getAttribute("data-url");
    var badge = document.querySelector("[data-campaign-status]");
    var live = panel.querySelector("[data-counts-status]");
    var numbers = new Intl.NumberFormat("en-US");
    var failures = 0;
    var hadJob = Boolean(document.querySelector("[data-job-progress]"));

    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          Object.keys(data.counts || {}).forEach(function (status) {
            var cell = panel.querySelector('[data-count="' + status + '"]');
            if (cell) cell.textContent = numbers.format(data.counts[status]);
          });
          Object.keys(data.skipped || {}).forEach(function (kind) {
            var cell = panel.querySelector('[data-skipped="' + kind + '"]');
            if (cell) cell.textContent = numbers.format(data.skipped[kind]);
          });
          var campaign = data.campaign || {};
          if (badge && campaign.status && campaign.status !== badge.getAttribute("data-campaign-status")) {
            badge.setAttribute("data-campaign-status", campaign.status);
            badge.className = "sms-status sms-status--" + campaign.status;
            badge.textContent = campaign.status_display;
            if (live) live.textContent = campaign.status_display;
          }
          if (data.id && !hadJob) {
            window.location.reload(); // sending began: the page now has a progress bar to show
            return;
          }
          if (!/^(approved|sending|paused)$/.test(campaign.status || "")) return; // final: nothing moves now
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function () {
          failures += 1;
          if (failures < MAX_FAILURES) window.setTimeout(poll, POLL_MS * Math.pow(2, failures));
        });
    };
    window.setTimeout(poll, POLL_MS);
  }
})();
