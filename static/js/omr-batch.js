/*
 * The OMR batch page's counts (templates/omr/batch.html): while the batch is being read, poll its
 * progress address (the same one the progress bar polls) every two seconds and update the figures by
 * outcome and the "Review next" badge; once reading is finished, offer to reload the sheets table.
 * Without JavaScript the page shows the figures as they were when it was made.
 */
(function () {
  "use strict";
  var panel = document.querySelector("[data-batch-counts][data-live=true]");
  if (!panel) return;
  var url = panel.getAttribute("data-url");
  var done = panel.querySelector("[data-batch-done]");
  var numbers = new Intl.NumberFormat("en-US");
  var failures = 0;
  var INTERVAL = 2000;

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        Object.keys(data.counts || {}).forEach(function (status) {
          document.querySelectorAll('[data-count="' + status + '"]').forEach(function (cell) {
            cell.textContent = numbers.format(data.counts[status]);
          });
        });
        if (data.finished) {
          if (done) done.hidden = false;
          return;
        }
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) window.setTimeout(poll, INTERVAL * Math.pow(2, failures));
      });
  }
  window.setTimeout(poll, INTERVAL);
})();
