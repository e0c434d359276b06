/* The live counter under SMS compose boxes: characters, encoding, segments and what is left in the
   current segment, computed by the server's sms/encoding.py (POST to the form's data-segments-url), so
   the screen and the dispatcher never disagree. Also: the placeholder buttons of the campaign form, and
   the campaign page's counts refreshed every 2 seconds while it sends. */
(function () {
  "use strict";

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function fill(template, data) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) {
      return data[key] !== undefined ? String(data[key]) : "";
    });
  }

  document.querySelectorAll("form[data-segments-url]").forEach(function (form) {
    var url = form.getAttribute("data-segments-url");
    var template = form.getAttribute("data-text-counter");
    form.querySelectorAll("textarea[data-sms-counter]").forEach(function (box) {
      var out = form.querySelector('[data-counter-for="' + box.id + '"]');
      if (!out) return;
      var timer = null;
      var asked = 0;
      function update() {
        var mine = ++asked;
        var body = new URLSearchParams({ text: box.value });
        fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrf(form) }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) { if (data && mine === asked) out.textContent = fill(template, data); })
          .catch(function () { /* the counter is a help, the form still works */ });
      }
      box.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(update, 150);
      });
      update();
    });

    var hint = document.getElementById("placeholders");
    var audience = form.querySelector("select[name=audience]");
    if (hint && audience) {
      var offered = {};
      hint.getAttribute("data-fields").split(";").forEach(function (pair) {
        var parts = pair.split("=");
        if (parts[0]) offered[parts[0]] = parts[1] ? parts[1].split(",") : [];
      });
      var list = hint.querySelector("[data-placeholder-list]");
      var lastBox = form.querySelector("textarea[data-sms-counter]");
      form.querySelectorAll("textarea[data-sms-counter]").forEach(function (box) {
        box.addEventListener("focus", function () { lastBox = box; });
      });
      function showPlaceholders() {
        list.textContent = "";
        (offered[audience.value] || []).forEach(function (name) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "button button--secondary sms-chip";
          b.textContent = "{" + name + "}";
          b.addEventListener("click", function () {
            var at = lastBox.selectionStart || lastBox.value.length;
            lastBox.value = lastBox.value.slice(0, at) + "{" + name + "}" + lastBox.value.slice(at);
            lastBox.focus();
            lastBox.dispatchEvent(new Event("input"));
          });
          list.appendChild(b);
        });
      }
      audience.addEventListener("change", showPlaceholders);
      showPlaceholders();
    }
  });

  var counts = document.querySelector("[data-counts-url]");
  var status = document.querySelector("[data-campaign-status]");
  if (counts && status && /sending|approved/.test(status.getAttribute("data-campaign-status") || "")) {
    var poll = setInterval(function () {
      fetch(counts.getAttribute("data-counts-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          Object.keys(data.counts).forEach(function (key) {
            var cell = counts.querySelector('[data-count="' + key + '"]');
            if (cell) cell.textContent = data.counts[key].toLocaleString();
          });
          if (!/sending|approved/.test(data.status)) clearInterval(poll);
        });
    }, 2000);
  }
})();
