/*
 * The public complaint form (templates/complaints/public/file.html), small enhancements over a page that works
 * without JavaScript:
 *
 * 1. A box above the office list ([data-office-filter]) that narrows it to the offices whose name contains the
 *    typed text (for example a district's name); the <optgroup>s stay, empty ones are left out. The chosen
 *    office stays chosen. Words come from the wrapper's data-* attributes (translated by the template).
 * 2. "Use my location" ([data-locate]): the phone's position (navigator.geolocation) into the latitude and
 *    longitude boxes, with a spoken status line.
 */
(function () {
  "use strict";

  function officeFilter(wrapper) {
    var select = wrapper.querySelector("select");
    if (!select) return;
    var groups = Array.prototype.map.call(select.children, function (node) {
      return node.cloneNode(true);
    });
    var id = select.id + "_filter";
    var box = document.createElement("div");
    box.className = "cmp-office__filter cmp-field";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = wrapper.getAttribute("data-filter-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.placeholder = wrapper.getAttribute("data-filter-placeholder") || "";
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("p");
    status.className = "cmp-help";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(status);
    wrapper.insertBefore(box, wrapper.firstChild);

    function matches(option, text) {
      return !option.value || option.textContent.toLocaleLowerCase().indexOf(text) !== -1;
    }

    input.addEventListener("input", function () {
      var text = input.value.trim().toLocaleLowerCase();
      var chosen = select.value;
      var found = 0;
      select.textContent = "";
      groups.forEach(function (node) {
        if (node.tagName === "OPTGROUP") {
          var group = node.cloneNode(false);
          Array.prototype.forEach.call(node.children, function (option) {
            if (matches(option, text)) {
              group.appendChild(option.cloneNode(true));
              found += 1;
            }
          });
          if (group.children.length) select.appendChild(group);
        } else if (matches(node, text)) {
          select.appendChild(node.cloneNode(true));
        }
      });
      select.value = chosen;
      if (select.value !== chosen || !chosen) {
        // The chosen office is filtered out (or none was chosen): choose the only match, if there is one.
        var options = select.querySelectorAll("option[value]:not([value=''])");
        select.value = options.length === 1 ? options[0].value : "";
      }
      status.textContent = text && !found ? wrapper.getAttribute("data-no-match") : "";
    });
  }

  function locate(action) {
    if (!("geolocation" in navigator)) return;
    var form = action.closest("form");
    var lat = form.querySelector("[name=latitude]");
    var lon = form.querySelector("[name=longitude]");
    var button = action.querySelector("button");
    var status = action.querySelector("[role=status]");
    if (!lat || !lon || !button) return;
    action.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = action.getAttribute("data-locating");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          status.textContent = action.getAttribute("data-found");
          button.disabled = false;
        },
        function () {
          status.textContent = action.getAttribute("data-failed");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-office-filter]"), officeFilter);
    Array.prototype.forEach.call(document.querySelectorAll("[data-locate]"), locate);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
