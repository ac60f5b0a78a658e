/*
 * M5 Monitor status page: a reporter follows a report with the receipt code.
 *
 * Privacy rules this file keeps (family devices are shared):
 * - the receipt code lives in one variable while the page is open: never in the
 *   URL, the history, a cookie or storage; it travels only in request bodies;
 * - "Klaar", the quick exit and leaving the page forget it and wipe the screen;
 * - texts typed by the school or the reporter are only ever set with textContent.
 *
 * Every visible text comes from i18n/<lang>.json through t() and both(), or from
 * data-i18n attributes in status.html.
 */
"use strict";

(function () {
  const { EMAIL, $, $$, el, announce, focusTop, describeBy, clearErrors } =
    window.M5Common;
  // A receipt code is 16 letters and digits; the API refuses a message above this.
  const CODE_CHARS = 16;
  const MAX_MESSAGE = 2000;
  const STATES = ["received", "being_handled", "closed"];

  const slugMatch = location.pathname.match(/^\/s\/([^/]+)\/status\/?$/);
  const slug = slugMatch ? decodeURIComponent(slugMatch[1]) : "";
  const api = (path) => `/api/schools/${encodeURIComponent(slug)}/${path}`;

  const state = {
    texts: { nl: {}, en: {} },
    lang: "nl",
    config: null,
    // loading | not_found | lookup | report
    screen: "loading",
    // The receipt code, normalised; only here, and only while a report is shown.
    code: null,
    report: null,
    busy: false,
    // What the last action of a form achieved, {nl, en} by form name.
    notices: {},
    // {form: {field, message: {nl, en}} | {status: {nl, en}}}
    problems: {},
  };
  const i18n = window.M5Common.texts(state);
  const { t, both, pick } = i18n;

  /* ---- texts ---- */

  function applyTexts() {
    const school = state.config && state.config.school.name;
    i18n.apply(
      school ? t("status.page_title_school", { school }) : t("status.page_title"),
      school ? t("status.heading", { school }) : t("status.heading_plain"),
    );
  }

  /* ---- dates ---- */

  function formatDate(iso, withTime) {
    const value = new Date(withTime ? iso : `${iso}T12:00:00`);
    if (Number.isNaN(value.getTime())) return iso;
    const options = { day: "numeric", month: "long", year: "numeric" };
    if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
    return value.toLocaleString(state.lang === "nl" ? "nl-NL" : "en-GB", options);
  }

  /* ---- leaving: quick exit and "done" ---- */

  // "Klaar", leaving the page and the quick exit (common.js) all start here.
  function forget() {
    state.code = null;
    state.report = null;
    state.problems = {};
    state.notices = {};
    $("#code").value = "";
    $("#message-text").value = "";
    $("#alert-email").value = "";
    $("#messages").replaceChildren();
  }

  function closeReport() {
    forget();
    state.screen = "lookup";
    render();
    focusTop($("#lookup-title"));
    announce(t("status.closed_announce"));
  }

  /* ---- talking to the API ---- */

  // What a person types (any case, spaces, dashes) as the code the API knows.
  function normaliseCode(value) {
    const groups = value
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, "")
      .match(/.{1,4}/g);
    return groups ? groups.join("-") : "";
  }

  async function post(path, body) {
    let response = null;
    let data = null;
    try {
      response = await fetch(api(path), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
      data = await response.json().catch(() => null);
    } catch (error) {
      response = null;
    }
    return { status: response ? response.status : 0, data: data || {} };
  }

  // What went wrong, in the reporter's words; the field it belongs to, if any.
  function problemOf(result, field) {
    const { status, data } = result;
    if (status === 404) {
      return { field: "receipt_code", message: both("status.error_not_found") };
    }
    if (status === 429) return { field, message: both("status.error_too_many") };
    if (status === 422 && Array.isArray(data.fields) && data.fields.length) {
      const first = data.fields[0];
      return {
        field: first.field || field,
        message: first.message || both("status.error_failed"),
      };
    }
    if (status === 0) return { field, message: both("status.error_network") };
    return { field, message: both("status.error_failed") };
  }

  async function lookUp() {
    if (state.busy) return;
    const value = $("#code").value;
    const code = normaliseCode(value);
    let problem = null;
    if (!value.trim()) problem = both("status.error_code_empty");
    else if (code.replace(/-/g, "").length !== CODE_CHARS) {
      problem = both("status.error_code_format");
    }
    if (problem) {
      showProblem("lookup", { field: "receipt_code", message: problem });
      return;
    }

    setBusy("lookup", true);
    const result = await post("status", { receipt_code: code });
    setBusy("lookup", false);
    if (state.screen !== "lookup") return;

    if (result.status === 200 && STATES.includes(result.data.status)) {
      state.code = code;
      state.report = result.data;
      state.problems = {};
      // The code now lives only in state.code, not in the field.
      $("#code").value = "";
      state.screen = "report";
      render();
      focusTop($("#report-title"));
      return;
    }
    showProblem("lookup", problemOf(result, "receipt_code"));
  }

  async function sendMessage() {
    if (state.busy || !state.code) return;
    const text = $("#message-text").value;
    if (!text.trim()) {
      showProblem("message", {
        field: "text",
        message: both("status.error_message_empty"),
      });
      return;
    }
    if (text.length > MAX_MESSAGE) {
      showProblem("message", {
        field: "text",
        message: both("status.error_message_long", { limit: MAX_MESSAGE }),
      });
      return;
    }

    setBusy("message", true);
    const result = await post("messages", { receipt_code: state.code, text });
    setBusy("message", false);
    if (!state.code) return;

    if (result.status === 201 && STATES.includes(result.data.status)) {
      state.report = result.data;
      state.problems = {};
      state.notices = { message: both("status.message_sent") };
      $("#message-text").value = "";
      render();
      $("#messages li:last-child").scrollIntoView({ block: "nearest" });
      return;
    }
    showProblem("message", problemOf(result, "text"));
  }

  async function saveAlert() {
    if (state.busy || !state.code) return;
    const email = $("#alert-email").value.trim();
    if (email && !EMAIL.test(email)) {
      showProblem("alert", { field: "email", message: both("status.error_email") });
      return;
    }

    setBusy("alert", true);
    const result = await post("reply-alert", { receipt_code: state.code, email });
    setBusy("alert", false);
    if (!state.code) return;

    if (result.status === 200) {
      state.problems = {};
      renderProblems();
      state.notices = {
        alert: email ? both("status.alert_saved") : both("status.alert_removed"),
      };
      renderNotices();
      return;
    }
    showProblem("alert", problemOf(result, "email"));
  }

  const CONTROLS = {
    lookup: { button: "#lookup-button", status: "#lookup-status" },
    message: { button: "#message-send", status: "#message-status" },
    alert: { button: "#alert-save", status: "#alert-status" },
  };

  function setBusy(form, busy) {
    state.busy = busy;
    $(CONTROLS[form].button).setAttribute("aria-disabled", busy ? "true" : "false");
    if (busy) delete state.notices[form];
    $(CONTROLS[form].status).textContent = busy ? t("status.busy") : "";
  }

  function renderNotices() {
    for (const [form, controls] of Object.entries(CONTROLS)) {
      if (state.busy) continue;
      $(controls.status).textContent = pick(state.notices[form]);
    }
  }

  /* ---- errors, tied to their fields ---- */

  const FIELDS = {
    lookup: { receipt_code: "#code" },
    message: { text: "#message-text", receipt_code: "#message-text" },
    alert: { email: "#alert-email", receipt_code: "#alert-email" },
  };

  function controlOf(form, field) {
    return $(FIELDS[form][field] || Object.values(FIELDS[form])[0]);
  }

  function showProblem(form, problem) {
    state.problems = { [form]: problem };
    state.notices = {};
    renderProblems();
    controlOf(form, problem.field).focus();
  }

  function renderProblems() {
    clearErrors();
    for (const [form, problem] of Object.entries(state.problems)) {
      const control = controlOf(form, problem.field);
      const box = control.closest(".field");
      const id = `${control.id}-error`;
      box.insertBefore(i18n.fieldError(id, problem.message), control);
      box.classList.add("has-error");
      control.setAttribute("aria-invalid", "true");
      describeBy(control, id);
    }
  }

  /* ---- rendering ---- */

  function render() {
    const screens = {
      loading: "#screen-loading",
      not_found: "#screen-not-found",
      lookup: "#lookup",
      report: "#screen-report",
    };
    for (const [name, selector] of Object.entries(screens)) {
      $(selector).hidden = name !== state.screen;
    }
    i18n.showLanguageSwitch();
    if (state.screen === "report") renderReport();
    renderProblems();
    renderNotices();
  }

  // The status in words a ten-year-old reads, with what it means for them.
  const STATE_WORDS = {
    received: () => [t("status.state_received"), t("status.explain_received")],
    being_handled: () => [
      t("status.state_being_handled"),
      t("status.explain_being_handled"),
    ],
    closed: () => [t("status.state_closed"), t("status.explain_closed")],
  };

  function renderReport() {
    const report = state.report;
    $("#received-on").textContent = t("status.received_on", {
      date: formatDate(report.received_on, false),
    });
    const [word, explanation] = STATE_WORDS[report.status]();
    $("#status-text").textContent = word;
    $("#status-explain").textContent = explanation;
    const current = STATES.indexOf(report.status);
    $$(".status-steps li").forEach((li, i) => {
      li.className = i < current ? "done" : i === current ? "current" : "";
      if (i === current) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });

    const messages = report.messages || [];
    $("#messages-empty").hidden = messages.length > 0;
    $("#messages").hidden = messages.length === 0;
    $("#messages").replaceChildren(...messages.map(messageItem));
  }

  function messageItem(message) {
    const fromSchool = message.from === "school";
    return el(
      "li",
      { class: `message ${fromSchool ? "from-school" : "from-you"}` },
      el(
        "p",
        { class: "message-meta" },
        el(
          "span",
          { class: "message-from" },
          fromSchool ? t("status.from_school") : t("status.from_you"),
        ),
        " ",
        el("time", { datetime: message.at }, formatDate(message.at, true)),
      ),
      el("p", { class: "message-text" }, String(message.text || "")),
    );
  }

  function switchLanguage() {
    state.lang = i18n.otherLanguage();
    applyTexts();
    render();
  }

  /* ---- start ---- */

  async function loadConfig() {
    if (!slug) return "not_found";
    try {
      const response = await fetch(api("form"), {
        credentials: "omit",
        headers: { Accept: "application/json" },
      });
      if (response.status === 404) return "not_found";
      if (response.ok) state.config = await response.json();
    } catch (error) {
      // Without the school's name and exit address the lookup still works.
    }
    return "lookup";
  }

  function bind() {
    window.M5Common.bindQuickExit(forget);
    $("#lang-switch").addEventListener("click", switchLanguage);
    const onSubmit = (handler) => (event) => {
      event.preventDefault();
      handler();
    };
    $("#lookup").addEventListener("submit", onSubmit(lookUp));
    $("#message-form").addEventListener("submit", onSubmit(sendMessage));
    $("#alert-form").addEventListener("submit", onSubmit(saveAlert));
    $("#close-report").addEventListener("click", closeReport);
    // Leaving the page forgets the code; a page restored from the back-forward
    // cache starts again empty.
    window.addEventListener("pagehide", forget);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) location.reload();
    });
  }

  async function start() {
    bind();
    await i18n.load();
    applyTexts();
    render();
    const screen = await loadConfig();
    if (state.config) {
      window.M5Common.setExitUrl(state.config.quick_exit_url);
      if (!state.config.languages.includes(state.lang)) {
        state.lang = state.config.languages[0];
      }
      applyTexts();
    }
    state.screen = screen;
    render();
    if (screen === "not_found") focusTop($("#not-found-title"));
  }

  start();
})();
