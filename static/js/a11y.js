/*
 * ECP Portal — accessibility toolbar and the site shell's small behaviours.
 *
 * Loaded synchronously in <head>: the first part runs before the page is
 * painted and puts the saved choices on <html> (classes a11y-*, and the CSS
 * variable --a11y-scale), so they survive page changes and language changes
 * without a flash. The rest waits for the DOM and wires the toolbar
 * (templates/includes/a11y_toolbar.html), whose visible strings come from its
 * data-* attributes so that Django translates them.
 *
 * Storage: localStorage["ecp.a11y"] = {"scale": 80..160, "contrast": true, ...}
 */
(function () {
  "use strict";

  var KEY = "ecp.a11y";
  var STEPS = [80, 90, 100, 110, 120, 130, 145, 160]; // text size, percent
  var TOGGLES = ["contrast", "negative", "light", "underline", "grayscale", "readable"];
  var THEMES = ["contrast", "negative", "light"]; // colour schemes: at most one at a time
  var root = document.documentElement;

  function read() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return saved && typeof saved === "object" ? saved : {};
    } catch (e) {
      return {}; // storage disabled or a damaged value: start from the defaults
    }
  }

  function write(state) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) {
      /* private mode or full storage: the choice lasts for this page only */
    }
  }

  function clampScale(value) {
    var n = parseInt(value, 10);
    if (!isFinite(n)) return 100;
    return Math.min(STEPS[STEPS.length - 1], Math.max(STEPS[0], n));
  }

  function apply(state) {
    TOGGLES.forEach(function (name) {
      root.classList.toggle("a11y-" + name, state[name] === true);
    });
    var scale = clampScale(state.scale);
    if (scale === 100) {
      root.style.removeProperty("--a11y-scale");
    } else {
      root.style.setProperty("--a11y-scale", String(scale / 100));
    }
    root.classList.toggle("a11y-scaled", scale !== 100);
  }

  // --- before the first paint -------------------------------------------------
  root.classList.remove("no-js");
  root.classList.add("js");
  var state = read();
  apply(state);

  // --- once the page is there -------------------------------------------------
  function nextScale(current, direction) {
    var i;
    if (direction > 0) {
      for (i = 0; i < STEPS.length; i++) if (STEPS[i] > current) return STEPS[i];
      return STEPS[STEPS.length - 1];
    }
    for (i = STEPS.length - 1; i >= 0; i--) if (STEPS[i] < current) return STEPS[i];
    return STEPS[0];
  }

  function initToolbar() {
    var bar = document.querySelector("[data-a11y]");
    if (!bar) return;
    var status = bar.querySelector("[data-a11y-status]");
    var sizeOut = bar.querySelector("[data-a11y-size]");

    function announce(text) {
      if (!status) return;
      status.textContent = "";
      // A fresh text node after a tick is announced even when the text repeats.
      window.setTimeout(function () {
        status.textContent = text;
      }, 50);
    }

    function sync() {
      var scale = clampScale(state.scale);
      bar.querySelectorAll("[data-a11y-toggle]").forEach(function (button) {
        var on = state[button.getAttribute("data-a11y-toggle")] === true;
        button.setAttribute("aria-pressed", on ? "true" : "false");
      });
      bar.querySelectorAll("[data-a11y-step]").forEach(function (button) {
        var up = Number(button.getAttribute("data-a11y-step")) > 0;
        var atLimit = up ? scale >= STEPS[STEPS.length - 1] : scale <= STEPS[0];
        // aria-disabled, not disabled: the button keeps its focus and stays discoverable.
        button.setAttribute("aria-disabled", atLimit ? "true" : "false");
      });
      if (sizeOut) sizeOut.textContent = scale + "%";
    }

    function commit() {
      apply(state);
      write(state);
      sync();
    }

    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !bar.contains(button)) return;
      if (button.hasAttribute("data-a11y-step")) {
        if (button.getAttribute("aria-disabled") === "true") return;
        state.scale = nextScale(clampScale(state.scale), Number(button.getAttribute("data-a11y-step")));
        commit();
        announce((bar.getAttribute("data-msg-size") || "{size}").replace("{size}", state.scale + "%"));
      } else if (button.hasAttribute("data-a11y-toggle")) {
        var name = button.getAttribute("data-a11y-toggle");
        var on = state[name] !== true;
        if (on && THEMES.indexOf(name) !== -1) {
          THEMES.forEach(function (other) {
            delete state[other];
          });
        }
        if (on) state[name] = true;
        else delete state[name];
        commit();
      } else if (button.hasAttribute("data-a11y-reset")) {
        state = {};
        try {
          window.localStorage.removeItem(KEY);
        } catch (e) {
          /* nothing stored */
        }
        apply(state);
        sync();
        announce(bar.getAttribute("data-msg-reset") || "");
      }
    });

    // Another tab changed the settings: follow it.
    window.addEventListener("storage", function (event) {
      if (event.key !== KEY && event.key !== null) return;
      state = read();
      apply(state);
      sync();
    });

    sync();
  }

  // Disclosures of the shell (<details>): Escape closes the open one and gives
  // the focus back to its button; a click elsewhere closes the toolbar panel.
  function initDisclosures() {
    var menu = document.querySelector("[data-nav-menu]");
    var bar = document.querySelector("[data-a11y]");

    // The main menu is always open on wide screens (CSS shows it there even
    // without JavaScript); keep the element's state true so screen readers agree.
    if (menu && window.matchMedia) {
      var wide = window.matchMedia("(min-width: 60em)");
      var follow = function () {
        menu.open = wide.matches;
      };
      follow();
      if (wide.addEventListener) wide.addEventListener("change", follow);
    }

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      [bar, menu].forEach(function (details) {
        if (!details || !details.open) return;
        if (details === menu && window.matchMedia && window.matchMedia("(min-width: 60em)").matches) return;
        if (!details.contains(document.activeElement) && details !== bar) return;
        details.open = false;
        var summary = details.querySelector("summary");
        if (summary) summary.focus();
      });
    });

    document.addEventListener("click", function (event) {
      if (bar && bar.open && !bar.contains(event.target)) bar.open = false;
    });
  }

  function init() {
    initToolbar();
    initDisclosures();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
