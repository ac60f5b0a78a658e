/*
 * M5 Monitor report form: seven short steps, a review, a receipt code.
 *
 * Privacy rules this file keeps (family devices are shared):
 * - the draft lives in sessionStorage only, never localStorage, and is wiped once
 *   the report is sent and by the quick exit;
 * - steps are in-page only: no history entries, so "back" never returns to answers;
 * - the receipt code lives in memory and on screen only, never in the URL or storage.
 *
 * Every visible text comes from i18n/<lang>.json through t() and both(), or from
 * data-i18n attributes in index.html. Texts are only ever set with textContent.
 */
"use strict";

(function () {
  const { LANGUAGES, EMAIL, $, $$, el, announce, focusTop, describeBy, clearErrors } =
    window.M5Common;
  const STEP_COUNT = 7;
  // The API accepts at most this many people per question.
  const MAX_PERSONS = 10;
  const DRAFT_VERSION = 1;
  // The API refuses dates older than this; the date picker does not offer them.
  const MAX_AGE_DAYS = 3 * 366;

  const slugMatch = location.pathname.match(/^\/s\/([^/]+)\/?$/);
  const slug = slugMatch ? decodeURIComponent(slugMatch[1]) : "";
  const storageKey = "m5-draft:" + slug;

  // Which step asks a question, by the first part of the API's field path.
  const FIELD_STEPS = {
    reporter: 1,
    categories: 2,
    description: 2,
    hurt: 3,
    did_it: 4,
    location: 5,
    location_note: 5,
    occurred_on: 6,
    part_of_day: 6,
    frequency: 6,
    told: 7,
    witnesses: 7,
    danger_now: 7,
  };
  const PERSON_LISTS = {
    hurt: { list: "#hurt-persons", add: "#hurt-add", prefix: "hurt" },
    did_it: { list: "#did-it-persons", add: "#did-it-add", prefix: "did-it" },
  };
  const PHONE = /^\+?[0-9 ()./-]{6,30}$/;
  const DATE = /^\d{4}-\d{2}-\d{2}$/;

  const state = {
    texts: { nl: {}, en: {} },
    lang: "nl",
    config: null,
    draft: null,
    // loading | not_found | load_failed | step | review | done
    screen: "loading",
    // [{field, message: {nl, en}}]; client and server errors alike
    errors: [],
    sending: false,
    sendError: null,
    receipt: null,
  };
  const i18n = window.M5Common.texts(state);
  const { t, both, pick } = i18n;

  /* ---- texts ---- */

  function applyTexts() {
    const school = state.config && state.config.school.name;
    i18n.apply(
      school ? t("page.title_school", { school }) : t("page.title"),
      school ? t("page.heading", { school }) : t("page.heading_plain"),
    );
  }

  /* ---- small DOM helpers ---- */

  function safeId(value) {
    return String(value).replace(/[^A-Za-z0-9_-]/g, "_");
  }

  /* ---- the draft (sessionStorage only) ---- */

  function emptyAnswers() {
    return {
      role: "",
      anonymous: "",
      name: "",
      email: "",
      phone: "",
      categories: [],
      description: "",
      hurt_self: false,
      hurt: [{ name: "", group: "" }],
      did_it_unknown: false,
      did_it: [{ name: "", group: "" }],
      location: "",
      location_note: "",
      occurred_on: "",
      part_of_day: "",
      frequency: "",
      told: [],
      witnesses: "",
      danger_now: "",
    };
  }

  function newKey() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function newDraft() {
    return {
      version: DRAFT_VERSION,
      key: newKey(),
      lang: state.lang,
      screen: "step",
      step: 1,
      backToReview: false,
      answers: emptyAnswers(),
    };
  }

  function loadDraft() {
    try {
      const draft = JSON.parse(sessionStorage.getItem(storageKey) || "null");
      if (!draft || draft.version !== DRAFT_VERSION || !draft.answers) return null;
      draft.answers = Object.assign(emptyAnswers(), draft.answers);
      return draft;
    } catch (error) {
      return null;
    }
  }

  function saveDraft() {
    if (!state.draft) return;
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(state.draft));
    } catch (error) {
      // Storage blocked or full: the form still works, only a reload loses answers.
    }
  }

  function wipeDraft() {
    state.draft = null;
    try {
      sessionStorage.removeItem(storageKey);
    } catch (error) {
      // Nothing was stored then.
    }
  }

  /* ---- quick exit ---- */

  // The quick exit (common.js) calls this before it wipes storage and the screen.
  function forget() {
    state.draft = null;
    state.receipt = null;
  }

  /* ---- lists from the school's configuration ---- */

  function choice(type, name, value, label) {
    const id = `${name}-${safeId(value)}`;
    return el(
      "div",
      { class: "choice" },
      el("input", { type, id, name, value }),
      el("label", { for: id }, label),
    );
  }

  function renderConfigLists() {
    const config = state.config;
    $("#categories").replaceChildren(
      ...config.categories.map((c) =>
        choice("checkbox", "category", c.id, pick(c.label)),
      ),
    );
    $("#locations").replaceChildren(
      ...config.locations.map((p) =>
        choice("radio", "location", p.id, pick(p.label)),
      ),
    );
  }

  function renderPersons(role) {
    const rows = state.draft.answers[role];
    const list = PERSON_LISTS[role];
    $(list.list).replaceChildren(...rows.map((row, i) => personRow(role, i, row)));
    $(list.add).hidden = rows.length >= MAX_PERSONS;
  }

  function personRow(role, index, row) {
    const n = index + 1;
    const base = `${PERSON_LISTS[role].prefix}-${index}`;
    const name = el("input", {
      class: "control",
      type: "text",
      id: `${base}-name`,
      maxlength: "100",
      autocomplete: "off",
      "data-person": "name",
    });
    name.value = row.name;
    const group = el(
      "select",
      { class: "control", id: `${base}-group`, "data-person": "group" },
      el("option", { value: "" }, t("persons.group_unknown")),
      ...state.config.groups.map((g) => el("option", { value: g.id }, g.name)),
    );
    group.value = row.group || "";
    const groupLabel =
      state.config.school.kind === "secondary"
        ? t("persons.class")
        : t("persons.group");
    return el(
      "li",
      { class: "person" },
      el(
        "fieldset",
        { class: "person-fields" },
        el("legend", {}, t("persons.person", { n })),
        el(
          "div",
          { class: "field", "data-field": `${role}.persons.${index}.name` },
          el("label", { for: name.id }, t("persons.name")),
          name,
        ),
        el(
          "div",
          { class: "field", "data-field": `${role}.persons.${index}.group` },
          el("label", { for: group.id }, groupLabel),
          group,
        ),
        el(
          "button",
          {
            type: "button",
            class: "btn btn-link",
            "data-remove-role": role,
            "data-remove-index": String(index),
          },
          t("persons.remove", { n }),
        ),
      ),
    );
  }

  function addPerson(role) {
    const rows = state.draft.answers[role];
    if (rows.length >= MAX_PERSONS) return;
    rows.push({ name: "", group: "" });
    saveDraft();
    renderPersons(role);
    renderErrors();
    $(`#${PERSON_LISTS[role].prefix}-${rows.length - 1}-name`).focus();
    announce(t("persons.added", { n: rows.length }));
  }

  function removePerson(role, index) {
    const rows = state.draft.answers[role];
    rows.splice(index, 1);
    // Errors point at rows by position; after a removal they would point wrongly.
    state.errors = state.errors.filter(
      (e) => !e.field.startsWith(`${role}.persons.`),
    );
    saveDraft();
    renderPersons(role);
    renderErrors();
    const prefix = PERSON_LISTS[role].prefix;
    const next =
      $(`#${prefix}-${Math.min(index, rows.length - 1)}-name`) ||
      $(PERSON_LISTS[role].add);
    next.focus();
    announce(t("persons.removed"));
  }

  /* ---- answers: DOM <-> draft ---- */

  function checkedValue(name) {
    const input = $(`#report input[name="${name}"]:checked`);
    return input ? input.value : "";
  }

  function checkedValues(name) {
    return $$(`#report input[name="${name}"]:checked`).map((c) => c.value);
  }

  function readPersons(role) {
    return $$("li.person", $(PERSON_LISTS[role].list)).map((li) => ({
      name: $('[data-person="name"]', li).value,
      group: $('[data-person="group"]', li).value,
    }));
  }

  function collect() {
    Object.assign(state.draft.answers, {
      role: checkedValue("role"),
      anonymous: checkedValue("anonymous"),
      name: $("#contact-name").value,
      email: $("#contact-email").value,
      phone: $("#contact-phone").value,
      categories: checkedValues("category"),
      description: $("#description").value,
      hurt_self: $("#hurt-self").checked,
      hurt: readPersons("hurt"),
      did_it_unknown: $("#did-it-unknown").checked,
      did_it: readPersons("did_it"),
      location: checkedValue("location"),
      location_note: $("#location-note").value,
      occurred_on: $("#occurred-on").value,
      part_of_day: checkedValue("part_of_day"),
      frequency: checkedValue("frequency"),
      told: checkedValues("told"),
      witnesses: $("#witnesses").value,
      danger_now: checkedValue("danger_now"),
    });
  }

  function setChecked(name, values) {
    $$(`#report input[name="${name}"]`).forEach((input) => {
      input.checked = values.includes(input.value);
    });
  }

  function fill() {
    const a = state.draft.answers;
    setChecked("role", [a.role]);
    setChecked("anonymous", [a.anonymous]);
    $("#contact-name").value = a.name;
    $("#contact-email").value = a.email;
    $("#contact-phone").value = a.phone;
    setChecked("category", a.categories);
    $("#description").value = a.description;
    $("#hurt-self").checked = a.hurt_self;
    $("#did-it-unknown").checked = a.did_it_unknown;
    renderPersons("hurt");
    renderPersons("did_it");
    setChecked("location", [a.location]);
    $("#location-note").value = a.location_note;
    $("#occurred-on").value = a.occurred_on;
    setChecked("part_of_day", [a.part_of_day]);
    setChecked("frequency", [a.frequency]);
    setChecked("told", a.told);
    $("#witnesses").value = a.witnesses;
    setChecked("danger_now", [a.danger_now]);
    updateConditionals();
  }

  function inDanger(answer) {
    return answer === "yes" || answer === "unsure";
  }

  function updateConditionals() {
    const a = state.draft.answers;
    $("#contact-fields").hidden = a.anonymous !== "contact";
    $("#did-it-persons-block").hidden = a.did_it_unknown;
    $("#danger-alert").hidden = !inDanger(a.danger_now);
  }

  function onAnswerChange(event) {
    const target = event.target;
    if (event.type === "change" && target.name === "told" && target.checked) {
      // "Nobody yet" and the people told exclude each other.
      $$('#report input[name="told"]').forEach((input) => {
        if ((target.value === "nobody") !== (input.value === "nobody")) {
          input.checked = false;
        }
      });
    }
    collect();
    saveDraft();
    updateConditionals();
  }

  /* ---- validation on the client ---- */

  function blank(value) {
    return !value || !value.trim();
  }

  function isoDate(day) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
  }

  function daysAgo(days) {
    const day = new Date();
    day.setDate(day.getDate() - days);
    return isoDate(day);
  }

  function validPhone(value) {
    return PHONE.test(value.trim()) && value.replace(/\D/g, "").length >= 9;
  }

  function named(rows) {
    return rows.some((row) => !blank(row.name));
  }

  function validateStep(step, a) {
    const errors = [];
    const fail = (field, key) => errors.push({ field, message: both(key) });
    const checkRows = (role) =>
      a[role].forEach((row, i) => {
        if (blank(row.name) && (row.group || row.name)) {
          fail(`${role}.persons.${i}.name`, "errors.person_name");
        }
      });

    if (step === 1) {
      if (!a.role) fail("reporter.role", "errors.role");
      if (!a.anonymous) fail("reporter.anonymous", "errors.anonymous");
      if (a.anonymous === "contact") {
        if (blank(a.name)) fail("reporter.name", "errors.name");
        if (blank(a.email) && blank(a.phone)) {
          fail("reporter.email", "errors.contact");
        }
        if (!blank(a.email) && !EMAIL.test(a.email.trim())) {
          fail("reporter.email", "errors.email");
        }
        if (!blank(a.phone) && !validPhone(a.phone)) {
          fail("reporter.phone", "errors.phone");
        }
      }
    } else if (step === 2) {
      if (!a.categories.length) fail("categories", "errors.categories");
      if (blank(a.description)) fail("description", "errors.description");
    } else if (step === 3) {
      if (!a.hurt_self && !named(a.hurt)) fail("hurt", "errors.hurt");
      checkRows("hurt");
    } else if (step === 4) {
      if (!a.did_it_unknown) {
        if (!named(a.did_it)) fail("did_it", "errors.did_it");
        checkRows("did_it");
      }
    } else if (step === 5) {
      if (!a.location) fail("location", "errors.location");
    } else if (step === 6) {
      if (!a.occurred_on) fail("occurred_on", "errors.date");
      else if (!DATE.test(a.occurred_on)) fail("occurred_on", "errors.date_invalid");
      else if (a.occurred_on > isoDate(new Date())) {
        fail("occurred_on", "errors.date_future");
      }
      if (!a.part_of_day) fail("part_of_day", "errors.part_of_day");
      if (!a.frequency) fail("frequency", "errors.frequency");
    } else if (step === 7) {
      if (!a.told.length) fail("told", "errors.told");
      if (!a.danger_now) fail("danger_now", "errors.danger");
    }
    return errors;
  }

  function stepOf(field) {
    return FIELD_STEPS[field.split(".")[0]] || null;
  }

  function firstErrorStep() {
    const steps = state.errors.map((e) => stepOf(e.field)).filter(Boolean);
    return steps.length ? Math.min(...steps) : null;
  }

  /* ---- showing errors ---- */

  function fieldBox(field, root) {
    // The exact field, else the nearest field it belongs to ("hurt.persons" -> "hurt").
    let path = field;
    while (path) {
      const box = $(`[data-field="${CSS.escape(path)}"]`, root);
      if (box) return box;
      path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    }
    return null;
  }

  function controlsOf(box) {
    return $$("input, select, textarea", box).filter(
      (control) => control.closest("[data-field]") === box,
    );
  }

  function renderErrors() {
    const form = $("#report");
    const summary = $("#error-summary");
    clearErrors(form);
    const stepNode = $(`.step[data-step="${state.draft.step}"]`);
    const errors = state.errors.filter((e) => stepOf(e.field) === state.draft.step);
    const links = [];

    errors.forEach((error, i) => {
      const box = fieldBox(error.field, stepNode);
      if (!box) return;
      const id = `error-${i}-${safeId(error.field)}`;
      const message = i18n.fieldError(id, error.message);
      box.insertBefore(message, $(":scope > .control", box));
      box.classList.add("has-error");
      const controls = controlsOf(box);
      controls.forEach((control) => control.setAttribute("aria-invalid", "true"));
      if (box.tagName === "FIELDSET") describeBy(box, id);
      else controls.forEach((control) => describeBy(control, id));
      if (controls.length) {
        const target = controls.find((c) => c.checked) || controls[0];
        links.push(
          el("li", {}, el("a", { href: `#${target.id}` }, pick(error.message))),
        );
      }
    });

    $("#error-summary-list").replaceChildren(...links);
    summary.hidden = links.length === 0;
  }

  function focusFirstError() {
    const link = $("#error-summary-list a");
    const target = link && document.getElementById(link.hash.slice(1));
    if (target) {
      target.focus();
      target.scrollIntoView({ block: "center" });
    }
  }

  function onSummaryClick(event) {
    const link = event.target.closest("a");
    if (!link) return;
    // Following the anchor would add a history entry; only move the focus.
    event.preventDefault();
    const target = document.getElementById(link.hash.slice(1));
    if (target) {
      target.focus();
      target.scrollIntoView({ block: "center" });
    }
  }

  /* ---- navigation (in-page only) ---- */

  function goStep(step, focus = "heading") {
    state.screen = "step";
    state.draft.screen = "step";
    state.draft.step = step;
    saveDraft();
    render();
    if (focus === "error") {
      window.scrollTo(0, 0);
      focusFirstError();
    } else {
      focusTop($(`#step-${step}-title`));
    }
  }

  function goReview() {
    state.screen = "review";
    state.draft.screen = "review";
    state.draft.backToReview = false;
    saveDraft();
    render();
    focusTop($("#review-title"));
  }

  function next() {
    collect();
    const step = state.draft.step;
    const errors = validateStep(step, state.draft.answers);
    state.errors = state.errors.filter((e) => stepOf(e.field) !== step).concat(errors);
    if (errors.length) {
      renderErrors();
      focusFirstError();
      return;
    }
    if (state.draft.backToReview) {
      const pending = firstErrorStep();
      if (pending) goStep(pending, "error");
      else goReview();
    } else if (step < STEP_COUNT) {
      goStep(step + 1);
    } else {
      goReview();
    }
  }

  function back() {
    if (state.screen === "review") goStep(STEP_COUNT);
    else if (state.draft.step > 1) goStep(state.draft.step - 1);
  }

  function change(step) {
    state.draft.backToReview = true;
    goStep(step);
  }

  /* ---- review ---- */

  function choiceLabel(name, value) {
    const input = $(`#report input[name="${name}"][value="${CSS.escape(value)}"]`);
    const label = input && $(`label[for="${input.id}"]`);
    return label ? label.textContent : value;
  }

  function labelOf(id) {
    const label = $(`label[for="${id}"]`) || $(`#${id}`);
    return label.textContent;
  }

  function groupName(id) {
    const group = state.config.groups.find((g) => g.id === id);
    return group ? group.name : id;
  }

  function personList(rows, first) {
    const items = rows
      .filter((row) => !blank(row.name))
      .map((row) => (row.group ? `${row.name} (${groupName(row.group)})` : row.name));
    return [first, ...items].filter(Boolean);
  }

  function formatDate(value) {
    if (!DATE.test(value)) return value;
    const [year, month, day] = value.split("-").map(Number);
    return new Date(year, month - 1, day).toLocaleDateString(
      state.lang === "nl" ? "nl-NL" : "en-GB",
      { weekday: "long", day: "numeric", month: "long", year: "numeric" },
    );
  }

  function reviewSections(a) {
    const contact = a.anonymous === "contact";
    return [
      [
        [t("review.role"), choiceLabel("role", a.role)],
        [t("review.anonymous"), contact ? null : t("review.anonymous_yes")],
        contact && [t("review.name"), a.name],
        contact && [t("review.email"), a.email],
        contact && [t("review.phone"), a.phone],
      ],
      [
        [t("review.categories"), a.categories.map((c) => choiceLabel("category", c))],
        [t("review.description"), a.description],
      ],
      [[t("review.hurt"), personList(a.hurt, a.hurt_self && labelOf("hurt-self"))]],
      [
        [
          t("review.did_it"),
          a.did_it_unknown ? labelOf("did-it-unknown") : personList(a.did_it, null),
        ],
      ],
      [
        [t("review.location"), choiceLabel("location", a.location)],
        [t("review.location_note"), a.location_note],
      ],
      [
        [t("review.occurred_on"), formatDate(a.occurred_on)],
        [t("review.part_of_day"), choiceLabel("part_of_day", a.part_of_day)],
        [t("review.frequency"), choiceLabel("frequency", a.frequency)],
      ],
      [
        [t("review.told"), a.told.map((v) => choiceLabel("told", v))],
        [t("review.witnesses"), a.witnesses],
        [t("review.danger_now"), choiceLabel("danger_now", a.danger_now)],
      ],
    ];
  }

  function answerNode(value) {
    if (Array.isArray(value) && value.length > 1) {
      return el("ul", { class: "plain-list" }, ...value.map((v) => el("li", {}, v)));
    }
    const single = Array.isArray(value) ? value[0] : value;
    if (blank(single)) return el("span", { class: "empty" }, t("review.empty"));
    return single;
  }

  function renderReview() {
    const sections = reviewSections(state.draft.answers).map((rows, i) => {
      const step = i + 1;
      const title = $(`#step-${step}-title`).textContent;
      const entries = rows.filter(Boolean).flatMap(([question, value]) => [
        el("dt", {}, question),
        el("dd", { "data-answer": "" }, answerNode(value)),
      ]);
      return el(
        "section",
        { class: "review-step", "aria-labelledby": `review-step-${step}` },
        el(
          "div",
          { class: "review-head" },
          el("h3", { id: `review-step-${step}` }, title),
          el(
            "button",
            {
              type: "button",
              class: "btn btn-secondary btn-small",
              "data-change": String(step),
              "aria-label": `${t("review.change")}: ${title}`,
            },
            t("review.change"),
          ),
        ),
        el("dl", {}, ...entries),
      );
    });
    $("#review-list").replaceChildren(...sections);
    renderSendState();
  }

  function renderSendState() {
    const box = $("#send-error");
    $("#send").setAttribute("aria-disabled", state.sending ? "true" : "false");
    $("#send-status").textContent = state.sending ? t("review.sending") : "";
    if (!state.sendError) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.replaceChildren(
      el("h3", {}, t("send.failed_title")),
      el("p", {}, pick(state.sendError)),
      el("p", {}, t("send.kept")),
      el(
        "button",
        { type: "button", id: "send-retry", class: "btn btn-primary" },
        t("send.retry"),
      ),
    );
    box.hidden = false;
  }

  /* ---- sending ---- */

  function buildReport(a) {
    // Rows left empty are not sent; remember which row each sent person came from,
    // so that the API's "hurt.persons.0.name" lands on the right row.
    const rowMap = { hurt: [], did_it: [] };
    const persons = (role) => {
      const sent = [];
      a[role].forEach((row, i) => {
        if (blank(row.name) && !row.group) return;
        rowMap[role].push(i);
        sent.push({ name: row.name, group: row.group || null });
      });
      return sent;
    };
    const anonymous = a.anonymous !== "contact";
    const reporter = { role: a.role, anonymous };
    if (!anonymous) {
      reporter.name = a.name;
      if (!blank(a.email)) reporter.email = a.email.trim();
      if (!blank(a.phone)) reporter.phone = a.phone.trim();
    }
    const body = {
      language: state.draft.reportLanguage,
      reporter,
      categories: a.categories,
      description: a.description,
      hurt: { self: a.hurt_self, persons: persons("hurt") },
      did_it: {
        unknown: a.did_it_unknown,
        persons: a.did_it_unknown ? [] : persons("did_it"),
      },
      location: a.location,
      occurred_on: a.occurred_on,
      part_of_day: a.part_of_day,
      frequency: a.frequency,
      told: a.told,
      danger_now: a.danger_now,
    };
    if (!blank(a.location_note)) body.location_note = a.location_note;
    if (!blank(a.witnesses)) body.witnesses = a.witnesses;
    return { body, rowMap };
  }

  function rowField(field, rowMap) {
    const match = field.match(/^(hurt|did_it)\.persons\.(\d+)(.*)$/);
    if (!match) return field;
    const row = rowMap[match[1]][Number(match[2])];
    return row === undefined ? match[1] : `${match[1]}.persons.${row}${match[3]}`;
  }

  async function send() {
    if (state.sending) return;
    for (let step = 1; step <= STEP_COUNT; step += 1) {
      state.errors = state.errors
        .filter((e) => stepOf(e.field) !== step)
        .concat(validateStep(step, state.draft.answers));
    }
    const pending = firstErrorStep();
    if (pending) {
      state.draft.backToReview = true;
      goStep(pending, "error");
      return;
    }

    // A retry must send the very same report, or the API refuses the reused key:
    // the report keeps the language of its first attempt.
    state.draft.reportLanguage = state.draft.reportLanguage || state.lang;
    saveDraft();
    const { body, rowMap } = buildReport(state.draft.answers);
    state.sending = true;
    state.sendError = null;
    renderSendState();
    let response = null;
    let data = null;
    try {
      response = await fetch(`/api/schools/${encodeURIComponent(slug)}/reports`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": state.draft.key,
        },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
      data = await response.json().catch(() => null);
    } catch (error) {
      response = null;
    }
    state.sending = false;
    // The quick exit may have wiped everything while the request was on its way.
    if (!state.draft) return;

    const status = response ? response.status : 0;
    const problem = data && data.error;
    if (status === 201 && data && data.receipt_code) {
      finish(data);
    } else if (status === 422 && problem === "validation_failed") {
      serverErrors(data, rowMap);
    } else {
      if (status === 422 && problem === "idempotency_key_reused") {
        // An earlier attempt was stored with other answers: send these as a new report.
        state.draft.key = newKey();
        saveDraft();
      }
      failSend(status ? data && data.message : both("send.network"));
    }
  }

  function failSend(message) {
    state.sendError = message && message.nl ? message : both("send.failed");
    renderSendState();
    $("#send-error").focus();
  }

  function serverErrors(data, rowMap) {
    const fields = (data.fields || []).map((f) => ({
      field: rowField(f.field, rowMap),
      message: f.message,
    }));
    const known = fields.filter((f) => stepOf(f.field));
    if (!known.length) {
      const first = fields[0] && fields[0].message;
      failSend(first || data.message || both("send.invalid"));
      return;
    }
    state.errors = known;
    state.draft.backToReview = true;
    goStep(firstErrorStep(), "error");
  }

  function finish(data) {
    const danger = inDanger(state.draft.answers.danger_now);
    state.receipt = { code: data.receipt_code, danger };
    wipeDraft();
    // Answers stay nowhere: not in storage, not in the hidden form.
    $("#report").reset();
    $("#hurt-persons").replaceChildren();
    $("#did-it-persons").replaceChildren();
    $("#review-list").replaceChildren();
    state.errors = [];
    state.sendError = null;
    state.screen = "done";
    render();
    focusTop($("#done-title"));
  }

  async function copyCode() {
    const status = $("#copy-status");
    try {
      await navigator.clipboard.writeText(state.receipt.code);
      status.textContent = t("done.copied");
    } catch (error) {
      window.getSelection().selectAllChildren($("#receipt-code"));
      status.textContent = t("done.copy_failed");
    }
  }

  function newReport() {
    state.receipt = null;
    state.draft = newDraft();
    $("#copy-status").textContent = "";
    fill();
    goStep(1);
  }

  /* ---- rendering ---- */

  function render() {
    const screen = state.screen;
    const screens = {
      loading: "#screen-loading",
      not_found: "#screen-not-found",
      load_failed: "#screen-load-failed",
      step: "#report",
      review: "#screen-review",
      done: "#screen-done",
    };
    for (const [name, selector] of Object.entries(screens)) {
      $(selector).hidden = name !== screen;
    }
    i18n.showLanguageSwitch();

    renderProgress();
    if (screen === "step") renderStep();
    if (screen === "review") renderReview();
    if (screen === "done") renderDone();
  }

  function renderProgress() {
    const progress = $("#progress");
    const onStep = state.screen === "step";
    progress.hidden = !onStep && state.screen !== "review";
    if (progress.hidden) return;
    const step = onStep ? state.draft.step : STEP_COUNT + 1;
    $("#progress-text").textContent = onStep
      ? t("progress.step", { n: step, total: STEP_COUNT })
      : t("progress.review");
    $$(".progress-bar li").forEach((li, i) => {
      li.className = i + 1 < step ? "done" : i + 1 === step ? "current" : "";
    });
  }

  function renderStep() {
    const step = state.draft.step;
    $$(".step").forEach((node) => {
      node.hidden = Number(node.dataset.step) !== step;
    });
    $("#back").hidden = step === 1;
    $("#next").textContent = state.draft.backToReview
      ? t("nav.to_review")
      : t("nav.next");
    const date = $("#occurred-on");
    date.max = isoDate(new Date());
    date.min = daysAgo(MAX_AGE_DAYS);
    renderErrors();
  }

  function renderDone() {
    $("#receipt-code").textContent = state.receipt.code;
    // The address is shown in full so it can be written down with the code.
    const link = $("#status-link");
    link.href = `/s/${encodeURIComponent(slug)}/status`;
    link.textContent = link.href;
    $("#done-danger").hidden = !state.receipt.danger;
  }

  function switchLanguage() {
    if (state.draft && state.screen === "step") collect();
    state.lang = i18n.otherLanguage();
    if (state.draft) {
      state.draft.lang = state.lang;
      saveDraft();
    }
    applyTexts();
    if (state.config) renderConfigLists();
    if (state.draft && state.config) fill();
    render();
    if (state.screen === "done") $("#copy-status").textContent = "";
  }

  /* ---- start ---- */

  async function loadConfig() {
    state.screen = "loading";
    render();
    if (!slug) {
      showProblem("not_found");
      return;
    }
    let config = null;
    try {
      const response = await fetch(`/api/schools/${encodeURIComponent(slug)}/form`, {
        credentials: "omit",
        headers: { Accept: "application/json" },
      });
      if (response.status === 404) {
        showProblem("not_found");
        return;
      }
      config = response.ok ? await response.json() : null;
    } catch (error) {
      config = null;
    }
    if (!config) {
      showProblem("load_failed");
      return;
    }
    startForm(config);
  }

  function showProblem(screen) {
    state.screen = screen;
    render();
    focusTop(screen === "not_found" ? $("#not-found-title") : $("#load-failed-title"));
  }

  function startForm(config) {
    state.config = config;
    window.M5Common.setExitUrl(config.quick_exit_url);
    if (!config.languages.includes(state.lang)) state.lang = config.languages[0];
    state.draft = state.draft || newDraft();
    applyTexts();
    renderConfigLists();
    fill();
    state.screen = state.draft.screen === "review" ? "review" : "step";
    render();
  }

  function bind() {
    const form = $("#report");
    window.M5Common.bindQuickExit(forget);
    $("#lang-switch").addEventListener("click", switchLanguage);
    $("#load-retry").addEventListener("click", loadConfig);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      next();
    });
    form.addEventListener("input", onAnswerChange);
    form.addEventListener("change", onAnswerChange);
    form.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-remove-role]");
      if (remove) {
        collect();
        removePerson(remove.dataset.removeRole, Number(remove.dataset.removeIndex));
      }
    });
    $("#back").addEventListener("click", back);
    $("#hurt-add").addEventListener("click", () => {
      collect();
      addPerson("hurt");
    });
    $("#did-it-add").addEventListener("click", () => {
      collect();
      addPerson("did_it");
    });
    $("#date-today").addEventListener("click", () => setDate(0));
    $("#date-yesterday").addEventListener("click", () => setDate(1));
    $("#error-summary").addEventListener("click", onSummaryClick);
    $("#review-back").addEventListener("click", back);
    $("#review-list").addEventListener("click", (event) => {
      const button = event.target.closest("[data-change]");
      if (button) change(Number(button.dataset.change));
    });
    $("#send").addEventListener("click", send);
    $("#send-error").addEventListener("click", (event) => {
      if (event.target.closest("#send-retry")) send();
    });
    $("#copy-code").addEventListener("click", copyCode);
    $("#new-report").addEventListener("click", newReport);
    // A page brought back from the back-forward cache may show answers that were
    // wiped since; start again from what storage holds now.
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) location.reload();
    });
  }

  function setDate(daysBack) {
    const input = $("#occurred-on");
    input.value = daysAgo(daysBack);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function start() {
    bind();
    state.draft = loadDraft();
    if (state.draft && LANGUAGES.includes(state.draft.lang)) {
      state.lang = state.draft.lang;
    }
    await i18n.load();
    applyTexts();
    await loadConfig();
  }

  start();
})();
