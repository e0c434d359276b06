/*
 * The Presiding Officer's Form-45 picture page (templates/results/photos/upload.html).
 *
 * Without this script the form is a plain multipart POST to the page. With it,
 * the same fields go to POST /api/v1/results/form45-photos/ with a progress
 * bar, and a dropped or stalled connection is retried by itself, with the same
 * idempotency key: the key is made once per chosen picture, so however many
 * times a request is retried (or the person presses Send again), the server
 * stores the picture once. A refusal (400/403/404/409) is shown and not retried.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-photo-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;

  var MAX_ATTEMPTS = 8;
  var STALL_MS = 60000; // no byte sent for a minute: abort and retry
  var RETRY_STATUSES = [0, 408, 425, 429, 500, 502, 503, 504];

  var api = form.getAttribute("data-api");
  var keyInput = form.querySelector("input[name=idempotency_key]");
  var deviceInput = form.querySelector("input[name=device_id]");
  var stationSelect = form.querySelector("select[name=contest_station]");
  var fileInputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file]"));
  var progressBox = form.querySelector("[data-progress-box]");
  var progress = form.querySelector("[data-progress]");
  var state = form.querySelector("[data-state]");
  var result = form.querySelector("[data-result]");
  var send = form.querySelector("[data-send]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var lang = document.documentElement.getAttribute("lang") || "en";
  var chosen = null; // the File being sent
  var busy = false;

  function t(name, values) {
    var text = form.getAttribute("data-t-" + name) || "";
    Object.keys(values || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(String(values[k]));
    });
    return text;
  }

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // One id per device, kept in the browser: the RO sees which device sent a picture.
  try {
    var device = window.localStorage.getItem("ecp-photo-device");
    if (!device) {
      device = randomId();
      window.localStorage.setItem("ecp-photo-device", device);
    }
    deviceInput.value = device;
  } catch (e) { /* private mode: no device id */ }

  function say(text, kind) {
    state.textContent = text;
    state.className = "ph-state" + (kind ? " ph-state--" + kind : "");
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".errorlist[data-js]"), function (el) { el.remove(); });
  }

  function fieldError(name, text) {
    var input = name === "photo" ? fileInputs[0] : form.querySelector("[name=" + name + "]");
    var list = document.createElement("ul");
    list.className = "errorlist";
    list.setAttribute("data-js", "");
    list.setAttribute("role", "alert");
    var item = document.createElement("li");
    item.textContent = text;
    list.appendChild(item);
    var anchor = input ? (input.closest(".ph-field") || input.parentNode) : form;
    anchor.insertBefore(list, anchor.firstChild);
  }

  // A new picture: a new key (and only then). Retries and a second press of Send reuse it.
  fileInputs.forEach(function (input) {
    input.addEventListener("change", function () {
      if (!input.files || !input.files.length) return;
      fileInputs.forEach(function (other) { if (other !== input) other.value = ""; });
      chosen = input.files[0];
      keyInput.value = randomId();
      clearErrors();
      result.textContent = "";
      say("");
    });
  });

  function showResult(body, status) {
    result.textContent = "";
    var box = document.createElement("div");
    box.className = "ph-panel";
    box.setAttribute("data-sent", "");
    var title = document.createElement("h2");
    title.textContent = (status === 200 ? t("replayed") : t("received")) + " " + body.station;
    box.appendChild(title);
    var facts = document.createElement("dl");
    facts.className = "facts";
    [[t("received-at"), new Date(body.received_at).toLocaleString(lang === "ur" ? "ur-PK" : "en-GB", { timeZone: "Asia/Karachi" })],
     ["SHA-256", body.sha256]].forEach(function (pair) {
      var dt = document.createElement("dt");
      dt.textContent = pair[0];
      var dd = document.createElement("dd");
      var code = document.createElement("code");
      code.className = "ph-hash";
      code.textContent = pair[1];
      dd.appendChild(code);
      facts.appendChild(dt);
      facts.appendChild(dd);
    });
    box.appendChild(facts);
    if (body.findings && body.findings.length) {
      var list = document.createElement("ul");
      list.className = "ph-findings";
      body.findings.forEach(function (f) {
        var li = document.createElement("li");
        li.className = "ph-finding ph-finding--" + f.severity;
        li.setAttribute("data-rule", f.rule);
        li.textContent = f.message;
        list.appendChild(li);
      });
      box.appendChild(list);
    } else {
      var none = document.createElement("p");
      none.className = "ph-none";
      none.textContent = t("no-flags");
      box.appendChild(none);
    }
    var link = document.createElement("a");
    link.href = (lang === "ur" ? "/ur" : "") + body.station_page;
    link.textContent = t("public");
    box.appendChild(link);
    result.appendChild(box);
  }

  function done() {
    busy = false;
    send.disabled = false;
    progressBox.hidden = true;
  }

  function attempt(n) {
    var data = new FormData();
    data.append("contest_station", stationSelect.value);
    data.append("idempotency_key", keyInput.value);
    data.append("device_id", deviceInput.value || "");
    data.append("photo", chosen, chosen.name || "form45.jpg");

    var xhr = new XMLHttpRequest();
    var lastProgress = Date.now();
    var watchdog = window.setInterval(function () {
      if (Date.now() - lastProgress > STALL_MS) xhr.abort();
    }, 5000);

    xhr.open("POST", api);
    xhr.setRequestHeader("X-CSRFToken", csrf ? csrf.value : "");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", lang);
    xhr.upload.onprogress = function (e) {
      lastProgress = Date.now();
      if (!e.lengthComputable) return;
      var percent = Math.floor((100 * e.loaded) / e.total);
      progress.value = percent;
      say(percent >= 100 ? t("checking") : t("sending", { percent: percent }));
    };

    function retryOrGiveUp() {
      if (n >= MAX_ATTEMPTS) {
        say(t("gave-up"), "error");
        done();
        return;
      }
      var seconds = Math.min(60, Math.pow(2, n)) + Math.floor(Math.random() * 3);
      say(t("retry", { seconds: seconds, attempt: n + 1, max: MAX_ATTEMPTS }), "error");
      window.setTimeout(function () { attempt(n + 1); }, seconds * 1000);
    }

    xhr.onloadend = function () {
      window.clearInterval(watchdog);
      var status = xhr.status;
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if ((status === 200 || status === 201) && body) {
        say(status === 200 ? t("replayed") : t("received"), "ok");
        showResult(body, status);
        fileInputs.forEach(function (input) { input.value = ""; });
        chosen = null;
        keyInput.value = "";
        done();
        return;
      }
      if (RETRY_STATUSES.indexOf(status) !== -1 || !body) {
        retryOrGiveUp();
        return;
      }
      // A refusal: say why, beside the field it is about. Not retried.
      var fields = body.fields || {};
      Object.keys(fields).forEach(function (name) {
        fieldError(name === "non_field_errors" ? "photo" : name, fields[name].join(" "));
      });
      say(status === 401 ? t("signed-out") : body.message || "", "error");
      done();
    };
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    if (!stationSelect.value) {
      fieldError("contest_station", t("choose-station"));
      stationSelect.focus();
      return;
    }
    if (!chosen) {  // a file the browser kept in the input (back button) without a change event
      fileInputs.forEach(function (input) {
        if (!chosen && input.files && input.files.length) chosen = input.files[0];
      });
    }
    if (!chosen) {
      fieldError("photo", t("choose-photo"));
      return;
    }
    if (!keyInput.value) keyInput.value = randomId();
    busy = true;
    send.disabled = true;
    progress.value = 0;
    progressBox.hidden = false;
    result.textContent = "";
    attempt(1);
  });
})();
