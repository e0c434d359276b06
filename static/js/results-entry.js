/*
 * Form-45 entry (templates/results/entry.html) and the supervisor's corrected figures
 * (templates/results/mismatch_detail.html): live totals and keyboard flow.
 *
 * Progressive enhancement only: the form posts and is checked by the server without this.
 * What it adds:
 * - the station's name, type and registered voters as its number is typed;
 * - male + female beside the typed total, and the check "candidates + excluded = total polled"
 *   in green or red, with turnout;
 * - Enter moves to the next box (on the Save button it saves), so a tired operator
 *   never sends a half-typed form by accident;
 * - a second click on Save does nothing (the server would recognise it anyway: idempotency key).
 * Strings come from the form's data-t-* attributes (translated by the template).
 */
(function () {
  "use strict";

  var DIGITS = /[\u06F0-\u06F9\u0660-\u0669]/g;

  function toLatin(text) {
    return String(text || "")
      .replace(DIGITS, function (d) {
        var code = d.charCodeAt(0);
        return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
      })
      .trim();
  }

  function numberOf(input) {
    if (!input) return null;
    var text = toLatin(input.value);
    return /^\d+$/.test(text) ? parseInt(text, 10) : null;
  }

  var grouping = new Intl.NumberFormat("en-US");
  function fmt(n) {
    return n === null || n === undefined ? "—" : grouping.format(n);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? values[key] : "";
    });
  }

  /* Enter moves on: to the next input, select or the submit button, in document (= tab) order. */
  function enterMovesOn(form, beforeMove) {
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey) return;
      var el = event.target;
      if (el.tagName === "BUTTON" || el.tagName === "TEXTAREA" || el.type === "submit") return;
      var order = Array.prototype.filter.call(
        form.querySelectorAll("input, select, button[type=submit], textarea"),
        function (x) {
          return x.type !== "hidden" && !x.disabled && x.offsetParent !== null && x.tabIndex >= 0;
        }
      );
      var i = order.indexOf(el);
      if (i < 0) return;
      event.preventDefault();
      if (beforeMove && beforeMove(el) === false) return;
      var next = order[i + 1];
      if (next) {
        next.focus();
        if (typeof next.select === "function" && next.tagName === "INPUT") next.select();
      }
    });
  }

  function guardDoubleSubmit(form) {
    var button = form.querySelector("[data-save]");
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.sending = "true";
      if (button) {
        button.setAttribute("aria-disabled", "true");
        var label = button.querySelector("span");
        if (label && form.dataset.tSending) label.textContent = form.dataset.tSending;
      }
      // If the network fails the page stays: allow another try after a while.
      window.setTimeout(function () {
        form.dataset.sending = "false";
        if (button) button.removeAttribute("aria-disabled");
      }, 8000);
    });
    // Back from the next page (bfcache): the form is usable again.
    window.addEventListener("pageshow", function () {
      form.dataset.sending = "false";
      if (button) button.removeAttribute("aria-disabled");
    });
  }

  /* The sums panel: shared by the entry form and the supervisor's corrected column. */
  function sums(form) {
    var get = function (name) {
      return numberOf(form.querySelector("[name='" + name + "']"));
    };
    var votes = Array.prototype.map.call(form.querySelectorAll("input.rms-vote"), numberOf);
    var allVotes = votes.every(function (v) {
      return v !== null;
    });
    var votesSum = votes.reduce(function (a, v) {
      return a + (v || 0);
    }, 0);
    var male = get("polled_male");
    var female = get("polled_female");
    var total = get("polled_total");
    var excluded = get("excluded");
    return {
      male: male,
      female: female,
      total: total,
      excluded: excluded,
      genderSum: male === null && female === null ? null : (male || 0) + (female || 0),
      votesSum: votesSum,
      counted: votesSum + (excluded || 0),
      complete: allVotes && total !== null && excluded !== null,
    };
  }

  function setOut(root, key, text) {
    var el = root.querySelector("[data-out='" + key + "']");
    if (el) el.textContent = text;
  }

  function entryScreen(form) {
    var t = form.dataset;
    var stations = {};
    var dataScript = document.getElementById("rms-station-data");
    if (dataScript) {
      try {
        stations = JSON.parse(dataScript.textContent) || {};
      } catch (e) {
        stations = {};
      }
    }
    var stationInput = form.querySelector("[name='station']");
    var info = form.querySelector("[data-station-info]");
    var infoDefault = info ? info.innerHTML : "";
    var rule = form.querySelector("[data-station-rule]");
    var check = form.querySelector("[data-check]");
    var verdict = form.querySelector("[data-verdict]");
    var genderMark = form.querySelector("[data-gender-mark]");

    function station() {
      var key = toLatin(stationInput.value).replace(/^PS-?/i, "");
      return key ? { key: key, data: stations[String(parseInt(key, 10))] || null } : null;
    }

    function showStation() {
      var s = station();
      info.classList.remove("rms-station-info--bad");
      rule.hidden = true;
      if (!s) {
        info.innerHTML = infoDefault;
        return;
      }
      info.textContent = "";
      if (!s.data) {
        info.classList.add("rms-station-info--bad");
        info.textContent = t.tUnknown;
        return;
      }
      var name = document.createElement("bdi");
      name.textContent = s.data.name;
      info.appendChild(name);
      if (s.data.name_ur) {
        var ur = document.createElement("span");
        ur.lang = "ur";
        ur.dir = "rtl";
        ur.textContent = " " + s.data.name_ur;
        info.appendChild(document.createTextNode(" "));
        info.appendChild(ur);
      }
      var meta = document.createElement("span");
      meta.className = "rms-muted";
      meta.textContent = [s.data.type_text, fill(t.tRegistered, { n: fmt(s.data.registered) })].join(" · ");
      info.appendChild(document.createElement("br"));
      info.appendChild(meta);
      if (s.data.waiting) {
        var badge = document.createElement("span");
        badge.className = "rms-badge";
        badge.textContent = t.tWaiting;
        info.appendChild(document.createTextNode(" "));
        info.appendChild(badge);
      }
      if (s.data.type === "male" || s.data.type === "female") {
        rule.textContent = s.data.type === "male" ? t.tMaleStation : t.tFemaleStation;
        rule.hidden = false;
      }
    }

    function update() {
      var s = sums(form);
      var st = station();
      setOut(form, "gender_sum", fmt(s.genderSum));
      setOut(form, "votes_sum", fmt(s.votesSum));
      setOut(form, "excluded", fmt(s.excluded));
      setOut(form, "counted", fmt(s.counted));
      setOut(form, "total", fmt(s.total));
      var registered = st && st.data ? st.data.registered : null;
      var turnout = registered && s.total !== null ? (100 * s.total) / registered : null;
      setOut(form, "turnout", turnout === null ? "—" : turnout.toFixed(1) + " %");

      genderMark.className = "rms-mark";
      genderMark.textContent = "";
      if (s.male !== null && s.female !== null && s.total !== null) {
        var same = s.male + s.female === s.total;
        genderMark.className = "rms-mark " + (same ? "rms-mark--ok" : "rms-mark--bad");
        genderMark.textContent = same ? "✓ " + t.tGenderOk : "✗ " + t.tGenderBad;
      }

      // The server's own words about the sums stay until the operator changes a figure.
      if (verdict.dataset.server === "true") return;
      check.classList.remove("rms-check--ok", "rms-check--bad");
      if (!s.complete) {
        verdict.textContent = t.tIncomplete;
      } else if (s.counted === s.total) {
        check.classList.add("rms-check--ok");
        verdict.textContent = t.tSumOk;
      } else {
        check.classList.add("rms-check--bad");
        verdict.textContent = fill(t.tSumBad, { n: fmt(Math.abs(s.counted - s.total)) });
      }
    }

    var timeInput = form.querySelector("[name='counted_time']");
    if (timeInput) {
      timeInput.addEventListener("blur", function () {
        var m = /^(\d{1,2})[:.]?(\d{2})$/.exec(toLatin(timeInput.value));
        if (m && +m[1] < 24 && +m[2] < 60) timeInput.value = ("0" + m[1]).slice(-2) + ":" + m[2];
      });
    }
    stationInput.addEventListener("input", showStation);
    form.addEventListener("input", function () {
      verdict.dataset.server = "false";
      update();
    });
    enterMovesOn(form, function (el) {
      // An unknown station number: stay on it (the message says why) instead of keying a wrong form.
      if (el === stationInput) {
        var s = station();
        if (!s || !s.data) {
          showStation();
          stationInput.select();
          return false;
        }
      }
      return true;
    });
    guardDoubleSubmit(form);
    if (stationInput.value) showStation();
    if (form.dataset.bound === "true" || stationInput.value) update();
  }

  function decisionScreen(form) {
    var radios = form.querySelectorAll("[name='choice']");
    var corrected = form.querySelector("[name='choice'][value='corrected']");
    var check = form.querySelector("[data-check]");
    var t = form.dataset;
    form.querySelectorAll("input.rms-figure").forEach(function (input) {
      input.addEventListener("input", function () {
        if (corrected && input.value) corrected.checked = true;
      });
    });
    function update() {
      if (!check) return;
      var s = sums(form);
      setOut(check, "votes_sum", fmt(s.votesSum));
      setOut(check, "counted", s.complete || s.votesSum ? fmt(s.counted) : "—");
      check.classList.remove("rms-check--ok", "rms-check--bad");
      var verdict = check.querySelector("[data-verdict]");
      if (s.complete) {
        var ok = s.counted === s.total && (s.male || 0) + (s.female || 0) === s.total;
        check.classList.add(ok ? "rms-check--ok" : "rms-check--bad");
        if (verdict) verdict.textContent = ok ? t.tSumOk : fill(t.tSumBad, { n: fmt(Math.abs(s.counted - s.total)) });
      } else if (verdict) {
        verdict.textContent = "";
      }
    }
    // "Copy the first/second": fill the corrected column from an entry, to change only what is wrong.
    var copyButtons = form.querySelector("[data-copy-buttons]");
    if (copyButtons) {
      copyButtons.hidden = false;
      copyButtons.addEventListener("click", function (event) {
        var button = event.target.closest("[data-copy]");
        if (!button) return;
        form.querySelectorAll("td[data-entry='" + button.dataset.copy + "']").forEach(function (cell) {
          var input = form.querySelector("[name='" + cell.dataset.key + "']");
          if (input) input.value = cell.dataset.value;
        });
        if (corrected) corrected.checked = true;
        update();
        var first = form.querySelector("input.rms-figure");
        if (first) first.focus();
      });
    }
    form.addEventListener("input", update);
    enterMovesOn(form);
    guardDoubleSubmit(form);
    radios.length && update();
  }

  var entry = document.querySelector("[data-rms-entry]");
  if (entry) entryScreen(entry);
  var decision = document.querySelector("[data-rms-decision]");
  if (decision) decisionScreen(decision);
})();
