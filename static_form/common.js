/*
 * M5 Monitor reporter pages: what the report form and the status page share.
 *
 * Loaded before form.js and status.js (both deferred, so in document order); it
 * exposes window.M5Common and touches the page only when a page script asks.
 *
 * The quick exit ("snel weg") is the same promise on both pages: one click, or
 * Escape pressed three times, wipes this tab's storage and the screen and leaves
 * without a history entry to come back to.
 */
"use strict";

window.M5Common = (function () {
  const LANGUAGES = ["nl", "en"];
  // Escape pressed this many times within the window leaves like the quick exit.
  const EXIT_PRESSES = 3;
  const EXIT_WINDOW_MS = 2000;
  // Until the school's configuration has loaded (or when it never does) the quick
  // exit still has to lead somewhere harmless.
  const FALLBACK_EXIT_URL = "https://www.knmi.nl/nederland-nu/weer";
  // The same loose check the API makes; the API has the last word.
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) =>
    Array.from((root || document).querySelectorAll(selector));

  /* ---- small DOM helpers ---- */

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === false || value === null || value === undefined) continue;
      node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child !== null && child !== ""));
    return node;
  }

  function announce(message) {
    const region = $("#announcer");
    region.textContent = "";
    window.setTimeout(() => {
      region.textContent = message;
    }, 50);
  }

  function focusTop(node) {
    window.scrollTo(0, 0);
    if (node) node.focus({ preventScroll: true });
  }

  /* ---- texts ---- */

  // The page's texts in both languages, read from state.texts in state.lang.
  function texts(state) {
    function text(lang, key, params) {
      let value = state.texts[lang][key];
      if (typeof value !== "string") value = state.texts.nl[key];
      if (typeof value !== "string") return "";
      return value.replace(/\{(\w+)\}/g, (match, name) =>
        params && name in params ? String(params[name]) : match,
      );
    }

    const t = (key, params) => text(state.lang, key, params);
    const both = (key, params) => ({
      nl: text("nl", key, params),
      en: text("en", key, params),
    });
    const pick = (message) =>
      (message && (message[state.lang] || message.nl)) || "";

    function otherLanguage() {
      return state.lang === "nl" ? "en" : "nl";
    }

    async function load() {
      const get = (lang) =>
        fetch(`/form-assets/i18n/${lang}.json`, { credentials: "omit" }).then(
          (r) => r.json(),
        );
      try {
        const [nl, en] = await Promise.all(LANGUAGES.map(get));
        state.texts = { nl, en };
      } catch (error) {
        // Without texts the page can only offer its buttons; the quick exit still
        // works.
      }
    }

    // Every data-i18n element, then the page's title and heading, already in words.
    function apply(title, heading) {
      $$("[data-i18n]").forEach((node) => {
        node.textContent = t(node.dataset.i18n);
      });
      document.title = title;
      $("#page-title").textContent = heading;
      document.documentElement.lang = state.lang;
      $("#lang-switch").lang = otherLanguage();
    }

    // The switch shows only when the school offers the other language.
    function showLanguageSwitch() {
      const languages = state.config ? state.config.languages : LANGUAGES;
      $("#lang-switch").hidden = !languages.includes(otherLanguage());
    }

    function fieldError(id, message) {
      return el(
        "p",
        { class: "field-error", id },
        el("span", { class: "visually-hidden" }, `${t("errors.prefix")} `),
        pick(message),
      );
    }

    return {
      t,
      both,
      pick,
      otherLanguage,
      load,
      apply,
      showLanguageSwitch,
      fieldError,
    };
  }

  /* ---- errors tied to their fields ---- */

  // Adds an error to what a control's aria-describedby names; clearErrors undoes it.
  function describeBy(node, errorId) {
    if (!node.hasAttribute("data-describedby")) {
      const base = node.getAttribute("aria-describedby") || "";
      node.setAttribute("data-describedby", base);
    }
    const ids = `${node.getAttribute("aria-describedby") || ""} ${errorId}`;
    node.setAttribute("aria-describedby", ids.trim());
  }

  function clearErrors(root) {
    $$(".field-error", root).forEach((node) => node.remove());
    $$(".has-error", root).forEach((node) => node.classList.remove("has-error"));
    $$("[aria-invalid]", root).forEach((node) => node.removeAttribute("aria-invalid"));
    $$("[data-describedby]", root).forEach((node) => {
      const base = node.getAttribute("data-describedby");
      if (base) node.setAttribute("aria-describedby", base);
      else node.removeAttribute("aria-describedby");
      node.removeAttribute("data-describedby");
    });
  }

  /* ---- quick exit ---- */

  const exit = { url: FALLBACK_EXIT_URL, presses: [], forget: () => {} };

  // Only http(s) from the school's configuration; anything else leads to the fallback.
  function setExitUrl(url) {
    try {
      const parsed = new URL(url);
      exit.url = /^https?:$/.test(parsed.protocol) ? parsed.href : FALLBACK_EXIT_URL;
    } catch (error) {
      exit.url = FALLBACK_EXIT_URL;
    }
  }

  function quickExit() {
    exit.forget();
    try {
      // A draft of the report form in this tab goes too, from either page.
      sessionStorage.clear();
    } catch (error) {
      // Nothing was stored then.
    }
    document.body.replaceChildren();
    // replace(), not assign(): the page must not stay in the history.
    location.replace(exit.url);
  }

  function onKeydown(event) {
    if (event.key !== "Escape") return;
    const now = Date.now();
    exit.presses = exit.presses
      .filter((time) => now - time < EXIT_WINDOW_MS)
      .concat(now);
    if (exit.presses.length >= EXIT_PRESSES) quickExit();
  }

  // Wires the button and the Escape key; forget drops what the page holds in memory.
  function bindQuickExit(forget) {
    exit.forget = forget;
    $("#quick-exit").addEventListener("click", quickExit);
    document.addEventListener("keydown", onKeydown);
  }

  return {
    LANGUAGES,
    EMAIL,
    $,
    $$,
    el,
    announce,
    focusTop,
    texts,
    describeBy,
    clearErrors,
    setExitUrl,
    bindQuickExit,
  };
})();
