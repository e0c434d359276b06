/*
 * Complaints staff screens (templates/complaints/staff/*.html), a small progressive enhancement:
 * - the inbox: a box that ticks every complaint on the page;
 * - the ticket page: choosing a canned response fills the reply box in the complainant's language
 *   (without JavaScript the "Use" button does the same through the server).
 */
(function () {
  "use strict";

  var all = document.querySelector("[data-check-all]");
  if (all) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll('[data-bulk] input[name="bulk-ids"]'));
    var sync = function () {
      var ticked = boxes.filter(function (b) { return b.checked; }).length;
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      sync();
    });
    boxes.forEach(function (b) { b.addEventListener("change", sync); });
    sync();
  }

  var form = document.querySelector("[data-canned]");
  var source = document.getElementById("canned-texts");
  if (form && source) {
    var texts = JSON.parse(source.textContent);
    var select = form.querySelector("select");
    var box = form.querySelector("textarea");
    var use = form.querySelector("[data-canned-use]");
    if (use) {
      use.hidden = true;
    }
    if (select && box) {
      select.addEventListener("change", function () {
        var text = texts[select.value];
        if (!text) {
          return;
        }
        if (box.value.trim() && box.value !== box.dataset.filled) {
          // Keep what the officer typed: the canned text goes after it.
          box.value = box.value.replace(/\s+$/, "") + "\n\n" + text;
        } else {
          box.value = text;
        }
        box.dataset.filled = box.value;
        box.focus();
      });
    }
  }
})();
