// The staff admin page (GET /admin): a small ES module over the staff API, no framework and no
// build step. Every view is markup in admin.html; this script signs staff in, shows one view at a
// time (the address bar's #hash names it, so Back works) and fills it from the API. Text from the
// API is only ever set with textContent (never innerHTML), and the page's CSP allows no inline code.
//
// Sign-in (GET /admin/config.json says which): in AWS the Cognito hosted UI, authorization code
// with PKCE, the code exchanged here for an ID token; on the local stack its POST /_local/token.
// The token lives in sessionStorage only (this tab, until it closes or the token expires) and the
// one-time code is taken out of the address bar before anything else happens. Every /v1/admin call
// sends "Authorization: Bearer <token>"; a 401 asks to sign in again.

const BASE = document.body.dataset.base || "";
const SESSION_KEY = "bookbay.admin.session";
const PKCE_KEY = "bookbay.admin.pkce";
const RETURN_KEY = "bookbay.admin.return";
const PAGE_SIZE = 50;
const LIST_DAYS = 14;
const RESCHEDULE_DAYS = 7;
const EXPIRY_MARGIN_MS = 30 * 1000;

const STATUS = {
  requested: "Requested",
  confirmed: "Confirmed",
  reschedule_requested: "Reschedule requested",
  checked_in: "Checked in",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "No-show",
};
const TYPES = { in_store: "At the store", online: "Online", at_home: "At the customer’s address" };
const FLAG_FIELDS = ["name", "email", "phone", "address"];
const FIELD_LABELS = { name: "Name", email: "E-mail", phone: "Phone", address: "Address" };
const PREFERS = { phone: "prefers a phone call", sms: "prefers texts", email: "prefers e-mail" };
// What staff may do in each state (the API has the last word: a 409 is shown as it says).
const ACTIONS = {
  requested: ["confirm", "check-in", "cancel", "no-show"],
  reschedule_requested: ["confirm", "check-in", "cancel", "no-show"],
  confirmed: ["check-in", "send-confirmation", "cancel", "no-show"],
  checked_in: ["complete"],
};
const ACTION_DONE = {
  confirm: "Confirmed. The customer gets the e-confirmation.",
  "check-in": "Checked in.",
  complete: "Completed. The customer enters the review-request queue if the shop asks for reviews.",
  cancel: "Cancelled.",
  "no-show": "Marked as a no-show.",
};
const REVIEW_STATUS = {
  active: "Active",
  done: "Left a review",
  opted_out: "Opted out",
  stopped: "Stopped",
  finished: "Finished",
};
const VIEWS = {
  "sign-in": { section: "view-sign-in", title: "Sign in" },
  appointments: { section: "view-appointments", title: "Appointments", nav: "appointments" },
  appointment: { section: "view-appointment", title: "Appointment", nav: "appointments" },
  "new-booking": { section: "view-new-booking", title: "Phone booking", nav: "new-booking" },
  flags: { section: "view-flags", title: "Flagged customers", nav: "flags" },
  reviews: { section: "view-reviews", title: "Review requests", nav: "reviews" },
  customers: { section: "view-customers", title: "Customers", nav: "customers" },
  customer: { section: "view-customer", title: "Customer", nav: "customers" },
  settings: { section: "view-settings", title: "Shop settings", nav: "settings" },
};
const ID = /^[A-Za-z0-9_-]{1,128}$/;

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  session: null, // {token, email, expires_at}
  shop: null,
  locations: [],
  services: [],
  loaded: new Set(), // views filled once (lists keep their filters when staff come back)
  list: { items: [], cursor: null, query: null },
  appointment: null,
  flags: { items: [], cursor: null },
  reviews: { items: [], cursor: null, status: "active" },
  customers: { items: [], cursor: null, q: null },
  proposed: { items: [], cursor: null },
  customer: null,
  settings: null,
  settingsVersion: null,
  settingsHistoryCursor: null,
};

// ------------------------------------------------------------------ the API
class ApiError extends Error {
  constructor(status, code, message, error) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.error = error || {};
  }
}

// fetch on this origin (under the stage); ``auth`` sends the staff token. A 401 on a staff call
// ends the session: the page asks to sign in again and the call fails with the error.
async function api(method, path, { query, body, auth = true } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const headers = { Accept: "application/json" };
  if (auth) {
    if (!state.session) throw new ApiError(401, "unauthorized", "");
    headers.Authorization = `Bearer ${state.session.token}`;
  }
  const init = { method, headers, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network", "");
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new ApiError(response.status, error.code || `http_${response.status}`, error.message || "", error);
    if (auth && response.status === 401) signedOut("Your sign-in has ended. Please sign in again.");
    throw failure;
  }
  return data;
}

function messageFor(error) {
  switch (error.code) {
    case "network":
      return "We couldn’t reach the server. Check the connection and try again.";
    case "unauthorized":
      return "Please sign in again.";
    case "forbidden":
      return "Your account may not use the staff pages. Ask the shop’s administrator to add you to the staff group.";
    case "owner_required":
      return "Only someone in the shop’s owner group may change the settings marked below. Nothing was saved.";
    case "validation_error":
      return "Please check the fields marked below.";
    case "concurrent_update":
      return `${error.message || "Someone else changed this meanwhile."} It is shown again as it is now; make your change again.`;
    case "slot_unavailable":
      return `${error.message || "That time is no longer free."} Choose another time.`;
    case "too_many_requests":
      return "Too many requests. Wait a moment and try again.";
    default:
      if (error.status === 0 || error.status >= 500) return "Something went wrong on the server. Try again in a moment.";
      return error.message || "That did not work.";
  }
}

// ------------------------------------------------------------------ words: times, places, people
function isoParts(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  if (!found) return null;
  return { date: `${found[1]}-${found[2]}-${found[3]}`, hour: Number(found[4]), minute: Number(found[5]) };
}

// The wall-clock time in the ISO string's own offset (the location's zone), whatever the browser's.
function timeOfDay(iso) {
  const p = isoParts(iso);
  if (!p) return iso;
  return `${p.hour % 12 || 12}:${String(p.minute).padStart(2, "0")} ${p.hour < 12 ? "AM" : "PM"}`;
}

function dateOf(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

function dayText(day, style) {
  const options =
    style === "short"
      ? { weekday: "short", month: "short", day: "numeric" }
      : { weekday: "long", month: "long", day: "numeric", year: "numeric" };
  return new Intl.DateTimeFormat("en-US", { ...options, timeZone: "UTC" }).format(dateOf(day));
}

function addDays(day, count) {
  const when = dateOf(day);
  when.setUTCDate(when.getUTCDate() + count);
  return when.toISOString().slice(0, 10);
}

function todayIn(timezone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(new Date());
    const get = (type) => parts.find((p) => p.type === type).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function zoneAbbreviation(iso, timezone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "short" }).formatToParts(
      new Date(iso),
    );
    const name = parts.find((p) => p.type === "timeZoneName");
    return name ? name.value : "";
  } catch {
    return "";
  }
}

function locationById(id) {
  return state.locations.find((l) => l.id === id) || null;
}

function service(id) {
  return state.services.find((s) => s.id === id) || null;
}

function zoneOf(locationId) {
  const found = locationById(locationId);
  return (found && found.timezone) || (state.shop && state.shop.timezone) || "UTC";
}

// "9:30 AM CST" for a start in the location's zone.
function timeText(iso, locationId) {
  const zone = zoneAbbreviation(iso, zoneOf(locationId));
  return `${timeOfDay(iso)}${zone ? ` ${zone}` : ""}`;
}

// "Tuesday, November 24, 2026 at 9:30 AM CST".
function whenText(iso, locationId) {
  const p = isoParts(iso);
  if (!p) return iso || "";
  return `${dayText(p.date)} at ${timeText(iso, locationId)}`;
}

// An instant (audit entries, review e-mails: often UTC) shown in the location's (or shop's) zone.
function instantText(iso, locationId) {
  if (!iso) return "";
  try {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: zoneOf(locationId),
      month: "short",
      day: "numeric",
      year: "numeric",
      hour: "numeric",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

function phoneText(e164) {
  const found = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
  return found ? `(${found[1]}) ${found[2]}-${found[3]}` : e164 || "";
}

function addressText(address) {
  if (!address) return "";
  const street = [address.line1, address.line2].filter(Boolean).join(", ");
  return `${street}, ${address.city}, ${address.state} ${address.zip}`;
}

function personName(customer) {
  return [customer.first_name, customer.last_name].filter(Boolean).join(" ");
}

function fieldList(fields) {
  return fields.map((f) => FIELD_LABELS[f] || f).join(", ");
}

// ------------------------------------------------------------------ DOM helpers
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "className") node.className = value;
    else if (name === "checked") node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function announce(text) {
  const status = $("status");
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = text;
  }, 50);
}

function notice(id, text) {
  const box = $(id);
  box.textContent = text;
  box.hidden = !text;
  if (text) announce(text);
}

function busy(button, on, text) {
  if (on) {
    if (!button.hasAttribute("aria-busy")) button.dataset.label = button.textContent;
    if (text) button.textContent = text;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.label) button.textContent = button.dataset.label;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function clearErrors(scope, box) {
  if (scope) {
    for (const node of scope.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of scope.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }
  if (box) $(box).replaceChildren();
}

function detailField(raw) {
  return String(raw || "").replace(/^(body|query|path)\.?/, "");
}

function detailMessage(raw) {
  return String(raw || "").replace(/^Value error, /, "");
}

// Marks the field a problem is about (an element with data-field in ``scope``); false if none.
function markField(scope, field, text) {
  if (!scope || !field) return false;
  const target = scope.querySelector(`[data-field="${CSS.escape(field)}"]`);
  if (!target) return false;
  const error = $(`${target.id}-error`);
  target.setAttribute("aria-invalid", "true");
  if (error) {
    error.textContent = text;
    return true;
  }
  return false;
}

// The error in ``box`` (role=alert), and a 422's details under their fields in ``scope``.
function showError(box, error, scope) {
  const parts = [el("p", {}, messageFor(error))];
  const unplaced = [];
  for (const detail of error.error.details || []) {
    const field = detailField(detail.field);
    const text = detailMessage(detail.message);
    if (!markField(scope, field, text)) unplaced.push(field ? `${field}: ${text}` : text);
  }
  if (unplaced.length) parts.push(el("ul", {}, ...unplaced.map((line) => el("li", {}, line))));
  $(box).replaceChildren(...parts);
  const first = scope && scope.querySelector('[aria-invalid="true"]');
  if (first && typeof first.focus === "function" && first.matches("input, select, textarea")) first.focus();
}

function problem(box, text) {
  $(box).replaceChildren(el("p", {}, text));
}

function checkedValue(name) {
  const input = document.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(([value, label]) => el("option", { value, selected: value === selected ? true : null }, label)),
  );
}

// ------------------------------------------------------------------ sign-in
function b64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return b64url(window.crypto.getRandomValues(new Uint8Array(size)));
}

async function sha256(text) {
  const digest = await window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return b64url(new Uint8Array(digest));
}

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part.padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(window.atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function redirectUri() {
  return `${window.location.origin}${BASE}/admin`;
}

function readJson(key) {
  try {
    return JSON.parse(window.sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

function loadSession() {
  const session = readJson(SESSION_KEY);
  if (!session || typeof session.token !== "string" || !(session.expires_at > Date.now() + EXPIRY_MARGIN_MS)) {
    window.sessionStorage.removeItem(SESSION_KEY);
    return null;
  }
  return session;
}

function saveSession(token, expiresIn) {
  const claims = claimsOf(token);
  const expires = claims.exp ? claims.exp * 1000 : Date.now() + Number(expiresIn || 3600) * 1000;
  state.session = { token, email: claims.email || claims["cognito:username"] || "", expires_at: expires };
  window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
}

function rememberReturn() {
  const hash = window.location.hash;
  if (hash && hash !== "#sign-in") window.sessionStorage.setItem(RETURN_KEY, hash);
}

function takeReturn() {
  const hash = window.sessionStorage.getItem(RETURN_KEY) || "";
  window.sessionStorage.removeItem(RETURN_KEY);
  return /^#[a-z-]+(\/[A-Za-z0-9_-]+)?$/.test(hash) ? hash : "";
}

async function cognitoSignIn() {
  const config = state.config;
  const verifier = randomText(48);
  const stateValue = randomText(24);
  window.sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: stateValue }));
  rememberReturn();
  const url = new URL(config.authorize_url);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(" "),
    state: stateValue,
    code_challenge: await sha256(verifier),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

// Back from the hosted UI with ?code=&state= (or ?error=&state=; start() has already taken them
// out of the address bar). Nothing is believed before the state is the one this tab sent: a
// crafted link's code or error text is refused alike.
async function finishCognitoSignIn(params) {
  const back = takeReturn();
  window.history.replaceState(null, "", `${BASE}/admin${back}`);
  const saved = readJson(PKCE_KEY);
  window.sessionStorage.removeItem(PKCE_KEY);
  if (!saved || !params.get("state") || saved.state !== params.get("state")) {
    return "That sign-in could not be finished here (it was started in another tab, or is old). Please sign in again.";
  }
  if (params.get("error") || !params.get("code")) {
    const code = params.get("error") || "";
    return code === "access_denied"
      ? "Sign-in was cancelled or refused. Please sign in again."
      : `Sign-in did not work${/^[a-z_]{1,40}$/.test(code) ? ` (${code})` : ""}. Please sign in again.`;
  }
  let response;
  try {
    response = await fetch(state.config.token_url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: state.config.client_id,
        code: params.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: saved.verifier,
      }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    return "We couldn’t reach the sign-in service. Check the connection and sign in again.";
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data || !data.id_token) {
    return "Sign-in did not work (the sign-in code was refused). Please sign in again.";
  }
  saveSession(data.id_token, data.expires_in);
  return null;
}

async function localSignIn(event) {
  event.preventDefault();
  const form = $("local-sign-in-form");
  clearErrors(form, "sign-in-error");
  const email = $("local-email").value.trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    markField(form, "email", "Enter an e-mail address.");
    $("local-email").focus();
    return;
  }
  const button = $("local-sign-in");
  busy(button, true, "Signing in…");
  try {
    const answer = await api("POST", state.config.local_token_path, {
      auth: false,
      body: { sub: `local-${email}`, email, groups: $("local-owner").checked ? ["staff", "owner"] : ["staff"] },
    });
    saveSession(answer.token, answer.expires_in);
  } catch (error) {
    showError("sign-in-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  const back = takeReturn();
  if (back) window.history.replaceState(null, "", `${BASE}/admin${back}`);
  signedIn();
}

function signOut() {
  for (const key of [SESSION_KEY, PKCE_KEY, RETURN_KEY]) window.sessionStorage.removeItem(key);
  state.session = null;
  if (state.config && state.config.sign_in === "cognito") {
    const url = new URL(state.config.logout_url);
    url.search = new URLSearchParams({ client_id: state.config.client_id, logout_uri: redirectUri() }).toString();
    window.location.assign(url.toString());
    return;
  }
  showSignIn("You are signed out.");
}

// The token was refused (expired, or revoked): back to the sign-in, keeping where staff were.
function signedOut(message) {
  if (!state.session) return;
  if (state.session.email) $("local-email").value = state.session.email;
  window.sessionStorage.removeItem(SESSION_KEY);
  state.session = null;
  rememberReturn();
  showSignIn(message);
}

function showSignIn(message) {
  $("who").hidden = true;
  $("nav").hidden = true;
  $("sign-in-message").textContent = message || "Sign in to see and work the shop’s appointments.";
  const local = state.config && state.config.sign_in === "local";
  $("local-sign-in-form").hidden = !local;
  $("cognito-sign-in").hidden = local;
  showView("sign-in");
  if (message) announce(message);
}

function signedIn() {
  $("who-email").textContent = state.session.email ? `Signed in as ${state.session.email}` : "Signed in";
  $("who").hidden = false;
  $("nav").hidden = false;
  route();
}

// ------------------------------------------------------------------ views
function showView(name, { focus = true } = {}) {
  const view = VIEWS[name];
  for (const other of Object.values(VIEWS)) $(other.section).hidden = other.section !== view.section;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} · Staff${state.shop ? ` · ${state.shop.name}` : ""}`;
  $("loading").hidden = true;
  if (focus) {
    const heading = $(view.section).querySelector("h2");
    heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

function route() {
  if (!state.session) return;
  const [name, id] = window.location.hash.replace(/^#/, "").split("/");
  const view = VIEWS[name] && name !== "sign-in" ? name : "appointments";
  showView(view);
  if (view === "appointment" && ID.test(id || "")) openAppointment(id);
  else if (view === "customer" && ID.test(id || "")) openCustomer(id);
  else if (view === "appointments" && state.loaded.has(view) && state.listStale) loadAppointments(false);
  else if (!state.loaded.has(view)) {
    state.loaded.add(view);
    if (view === "appointments") initAppointments();
    else if (view === "new-booking") initBookingForm();
    else if (view === "flags") loadFlags(false);
    else if (view === "reviews") loadReviews(false);
    else if (view === "customers") loadProposed(false);
    else if (view === "settings") loadSettings();
  }
}

// ------------------------------------------------------------------ appointments list
function locationOptions(anyLabel) {
  const options = state.locations.map((l) => [l.id, l.name]);
  return anyLabel ? [["", anyLabel], ...options] : options;
}

function initAppointments() {
  fillSelect($("filter-location"), locationOptions("All stores"), "");
  setRange(0, LIST_DAYS - 1);
  loadAppointments(false);
}

function setRange(fromOffset, toOffset) {
  const today = todayIn(zoneOf($("filter-location").value || null));
  $("filter-from").value = addDays(today, fromOffset);
  $("filter-to").value = addDays(today, toOffset);
}

function listQuery() {
  return {
    from: $("filter-from").value,
    to: $("filter-to").value,
    status: $("filter-status").value,
    location_id: $("filter-location").value,
    flagged: $("filter-flagged").checked ? "true" : "",
    limit: PAGE_SIZE,
  };
}

async function loadAppointments(more) {
  const form = $("filter-form");
  clearErrors(form, "appointments-error");
  const query = more ? { ...state.list.query, cursor: state.list.cursor } : listQuery();
  if (!more) {
    if (!query.from) return void markField(form, "from", "Choose the first day.");
    if (query.to && query.to < query.from) return void markField(form, "to", "Choose a day on or after “From”.");
  }
  const button = more ? $("appointments-more") : $("filter-show");
  const request = (state.list.request || 0) + 1; // a slower earlier answer must not win
  state.list.request = request;
  busy(button, true, "Loading…");
  $("appointment-list").setAttribute("aria-busy", "true");
  try {
    const answer = await api("GET", "/v1/admin/appointments", { query });
    if (request !== state.list.request) return;
    state.list.query = more ? state.list.query : query;
    state.list.items = more ? [...state.list.items, ...answer.appointments] : answer.appointments;
    state.list.cursor = answer.next_cursor;
    if (!more) state.listStale = false;
    renderAppointments();
  } catch (error) {
    showError("appointments-error", error, form);
  } finally {
    busy(button, false);
    if (request === state.list.request) $("appointment-list").removeAttribute("aria-busy");
  }
}

function renderAppointments() {
  const items = state.list.items;
  const groups = new Map();
  for (const item of items) {
    const day = (isoParts(item.start) || { date: "" }).date;
    if (!groups.has(day)) groups.set(day, []);
    groups.get(day).push(item);
  }
  const today = todayIn(state.shop.timezone);
  const nodes = [];
  for (const [day, list] of groups) {
    const label = day === today ? `Today · ${dayText(day)}` : dayText(day);
    nodes.push(el("h3", { className: "day-heading" }, label), el("ul", {}, ...list.map(appointmentCard)));
  }
  $("appointment-list").replaceChildren(...nodes);
  $("appointments-more").hidden = !state.list.cursor;
  const flagged = items.filter((a) => a.flagged).length;
  const count = items.length === 1 ? "1 appointment" : `${items.length} appointments`;
  const more = state.list.cursor ? " (more below)" : "";
  const text = items.length
    ? `${count}${flagged ? `, ${flagged} flagged` : ""}${more}. Times are each store’s local time.`
    : "No appointments match.";
  $("appointments-summary").textContent = text;
  announce(text);
}

function matchedFields(appointment) {
  const fields = new Set();
  for (const match of appointment.flag_matches || []) for (const f of match.fields) fields.add(f);
  return fields;
}

// A value of the customer's, marked when a flag matched on it (in words, not only colour).
function maybeMatched(text, field, matched) {
  if (!matched.has(field)) return text;
  return el("span", { className: "matched" }, text, el("span", { className: "matched-tag" }, "flagged"));
}

function flagBox(appointment) {
  if (!appointment.flagged) return null;
  return el(
    "div",
    { className: "flag-box" },
    el("p", { className: "flag-label" }, el("span", { className: "flag-icon", "aria-hidden": "true" }, "⚠"), "Flagged customer"),
    ...appointment.flag_matches.map((match) =>
      el(
        "p",
        { className: "flag-match" },
        "Matched on: ",
        el("strong", {}, fieldList(match.fields)),
        ". Reason: ",
        match.reason,
      ),
    ),
  );
}

// The customer was marked Do Not Service when it was booked (online: a request taken for review).
function dnsBox(appointment) {
  if (!appointment.do_not_service) return null;
  const waiting = ["requested", "reschedule_requested"].includes(appointment.status);
  return el(
    "div",
    { className: "warning dns-box" },
    el(
      "p",
      {},
      el("strong", {}, "⚠ Do Not Service. "),
      waiting
        ? "This customer is marked Do Not Service. The request was taken for you to review and is not confirmed; the booker was not told of the mark. Confirm it only if a manager agreed."
        : "This customer is marked Do Not Service; check with a manager before keeping it.",
    ),
  );
}

function notesBox(appointment) {
  if (!appointment.staff_notes && !appointment.takeover) return null;
  const label = appointment.takeover ? "Potential site takeover" : "Staff notes";
  return el(
    "div",
    { className: "takeover-box" },
    el("p", { className: "takeover-label" }, el("span", { "aria-hidden": "true" }, "✎ "), label),
    el("p", { className: "staff-notes" }, appointment.staff_notes || ""),
  );
}

function appointmentCard(a) {
  const matched = matchedFields(a);
  const svc = service(a.service_id);
  const loc = locationById(a.location_id);
  const name = personName(a.customer);
  const headingId = `appt-${a.id}`;
  const contact = [maybeMatched(phoneText(a.customer.phone), "phone", matched), " · ", maybeMatched(a.customer.email, "email", matched)];
  return el(
    "li",
    {
      className: `appt${a.flagged ? " flagged" : ""}`,
      "data-appointment-id": a.id,
      "aria-labelledby": headingId,
    },
    el(
      "div",
      { className: "appt-time-col" },
      el("p", { className: "appt-time" }, timeText(a.start, a.location_id)),
      el("span", { className: `badge badge-${a.status}` }, STATUS[a.status] || a.status),
      a.do_not_service ? el("span", { className: "badge badge-dns" }, "Do Not Service") : null,
    ),
    el(
      "h4",
      { className: "appt-name", id: headingId },
      el("a", { href: `#appointment/${a.id}` }, maybeMatched(name, "name", matched)),
    ),
    el(
      "p",
      { className: "detail" },
      [svc ? svc.name : a.service_id, TYPES[a.appointment_type] || a.appointment_type, loc ? loc.name : a.location_id].join(" · "),
    ),
    el("p", { className: "detail" }, ...contact),
    a.vehicle ? el("p", { className: "detail" }, a.vehicle.label) : null,
    a.address ? el("p", { className: "detail" }, maybeMatched(addressText(a.address.address), "address", matched)) : null,
    a.notes ? el("p", { className: "detail" }, `Customer’s note: ${a.notes}`) : null,
    flagBox(a),
    notesBox(a),
  );
}

// ------------------------------------------------------------------ one appointment
async function openAppointment(id, { keepMessages = false } = {}) {
  if (!keepMessages) {
    clearErrors($("view-appointment"), "appointment-error");
    notice("appointment-notice", "");
  }
  if (!state.appointment || state.appointment.id !== id) {
    // Another appointment: nothing of the previous one (or its buttons) while this one loads.
    state.appointment = null;
    $("appointment-body").hidden = true;
    $("appointment-heading").textContent = "Loading the appointment…";
  }
  $("send-form").hidden = true;
  $("cancel-form").hidden = true;
  $("dns-confirm").hidden = true;
  try {
    const answer = await api("GET", `/v1/admin/appointments/${id}`);
    state.appointment = answer.appointment;
  } catch (error) {
    if (error.status === 401) return;
    if (!state.appointment) $("appointment-heading").textContent = "Appointment";
    showError("appointment-error", error);
    return;
  }
  renderAppointment();
  $("appointment-body").hidden = false;
  loadAppointmentFlags(state.appointment);
}

function dlRows(rows) {
  const nodes = [];
  for (const [term, ...values] of rows) {
    if (values.every((v) => v === null || v === undefined || v === "")) continue;
    nodes.push(el("dt", {}, term), el("dd", {}, ...values));
  }
  return nodes;
}

function renderAppointment() {
  const a = state.appointment;
  const matched = matchedFields(a);
  const svc = service(a.service_id);
  const loc = locationById(a.location_id);
  $("appointment-heading").textContent = `${personName(a.customer)} · ${whenText(a.start, a.location_id)}`;
  document.title = `${personName(a.customer)} · Staff${state.shop ? ` · ${state.shop.name}` : ""}`;
  $("appointment-takeover").replaceChildren(...[dnsBox(a), notesBox(a)].filter(Boolean));
  $("appointment-summary").replaceChildren(
    ...dlRows([
      ["Status", el("span", { className: `badge badge-${a.status}` }, STATUS[a.status] || a.status)],
      ["When", whenText(a.start, a.location_id), ` – ${timeText(a.end, a.location_id)}`],
      ["Store", loc ? loc.name : a.location_id],
      ["Service", svc ? svc.name : a.service_id],
      ["Where", TYPES[a.appointment_type] || a.appointment_type],
      [
        "Customer",
        el("a", { href: `#customer/${a.customer.id}` }, maybeMatched(personName(a.customer), "name", matched)),
      ],
      ["Phone", maybeMatched(phoneText(a.customer.phone), "phone", matched)],
      ["E-mail", maybeMatched(a.customer.email, "email", matched)],
      ["Vehicle", a.vehicle ? a.vehicle.label + (a.vehicle.vin ? ` (VIN ${a.vehicle.vin})` : "") : ""],
      ["Address", a.address ? maybeMatched(addressText(a.address.address), "address", matched) : ""],
      ["Customer’s note", a.notes || ""],
      ["Booked from", a.source],
      ["Verified by", a.verified_via === "code" ? "One-time code" : a.verified_via === "known_source" ? "Known-source link" : ""],
      [
        "Customer confirmed",
        a.customer_confirmation ? `Yes, ${instantText(a.customer_confirmation.at, a.location_id)}` : "",
      ],
      ["Asked to reschedule", a.reschedule_requested_at ? instantText(a.reschedule_requested_at, a.location_id) : ""],
      ["Cancelled because", a.cancellation_reason || ""],
      ["Booked at", instantText(a.created_at, a.location_id)],
    ]),
  );
  const allowed = ACTIONS[a.status] || [];
  for (const button of $("appointment-actions").querySelectorAll("button")) {
    button.hidden = !allowed.includes(button.dataset.action);
  }
  $("appointment-actions").hidden = allowed.length === 0;
  $("no-actions").hidden = allowed.length > 0;
  $("no-actions").textContent = `No actions: the appointment is ${(STATUS[a.status] || a.status).toLowerCase()}.`;
  $("edit-notes").value = a.notes || "";
  $("edit-staff-notes").value = a.staff_notes || "";
  const holds = ["requested", "confirmed", "reschedule_requested"].includes(a.status);
  $("reschedule-form").hidden = !holds;
  $("reschedule-from").value = (isoParts(a.start) || {}).date || todayIn(zoneOf(a.location_id));
  $("reschedule-times").hidden = true;
  $("reschedule-submit").hidden = true;
  $("reschedule-empty").hidden = true;
  renderHistory($("appointment-history"), a.history || [], a.location_id);
  $("appointment-flags").replaceChildren(...[flagBox(a)].filter(Boolean));
}

// Each flag the appointment matched, read afresh: its fields still active get an "Un-flag" button.
async function loadAppointmentFlags(a) {
  if (!a.flagged) return;
  const reads = a.flag_matches.map((match) =>
    api("GET", `/v1/admin/flags/${match.flag_id}`)
      .then((answer) => answer.flag)
      .catch((error) => (error.status === 404 ? null : Promise.reject(error))),
  );
  let flags;
  try {
    flags = await Promise.all(reads);
  } catch (error) {
    if (error.status !== 401) showError("appointment-error", error);
    return;
  }
  if (state.appointment !== a) return;
  const boxes = a.flag_matches.map((match, index) => matchBox(a, match, flags[index]));
  $("appointment-flags").replaceChildren(
    el(
      "div",
      { className: "flag-box" },
      el("p", { className: "flag-label" }, el("span", { className: "flag-icon", "aria-hidden": "true" }, "⚠"), "Flagged customer"),
      ...boxes,
    ),
  );
}

function matchBox(a, match, flag) {
  const rows = match.fields.map((field) => {
    const active = flag && flag.active_fields.includes(field);
    const label = FIELD_LABELS[field] || field;
    const item = el("li", {}, el("span", { className: "field-name" }, label));
    if (!flag) item.append(el("span", { className: "muted" }, "The flag was deleted."));
    else if (active) {
      const button = el("button", { type: "button", className: "secondary small", "data-unflag": field }, `Un-flag ${label.toLowerCase()}`);
      button.addEventListener("click", () => unflagFromAppointment(a, flag, field, button));
      item.append(el("span", {}, "still matches new appointments"), button);
    } else item.append(el("span", { className: "muted" }, "un-flagged: no longer matches new appointments"));
    return item;
  });
  return el(
    "div",
    { className: "flag-match", "data-flag-id": match.flag_id },
    el("p", {}, "Matched on: ", el("strong", {}, fieldList(match.fields)), ". Reason: ", match.reason),
    el("ul", { className: "field-list" }, ...rows),
  );
}

async function unflagFromAppointment(a, flag, field, button) {
  clearErrors(null, "appointment-error");
  busy(button, true, "Un-flagging…");
  try {
    await api("DELETE", `/v1/admin/flags/${flag.id}/fields/${field}`);
  } catch (error) {
    busy(button, false);
    if (error.status !== 401) showError("appointment-error", error);
    return;
  }
  notice("appointment-notice", `${FIELD_LABELS[field]} un-flagged: it no longer matches new appointments.`);
  $("appointment-notice").focus();
  state.loaded.delete("flags");
  await loadAppointmentFlags(a);
}

function renderHistory(list, entries, locationId) {
  if (!entries.length) {
    list.replaceChildren(el("li", { className: "muted" }, "No changes yet."));
    return;
  }
  list.replaceChildren(
    ...entries.map((entry) => {
      const who = entry.actor.email || entry.actor.sub || entry.actor.kind;
      const changes = Object.entries(entry.changes || {}).map(([name, change]) =>
        el("li", {}, `${name}: ${valueText(change.before, locationId)} → ${valueText(change.after, locationId)}`),
      );
      return el(
        "li",
        {},
        el("strong", {}, entry.action.replace(/[._-]/g, " ")),
        ` · ${instantText(entry.at, locationId)} · ${who}`,
        entry.note ? el("div", {}, `Note: ${entry.note}`) : null,
        changes.length ? el("ul", { className: "changes" }, ...changes) : null,
      );
    }),
  );
}

function valueText(value, locationId) {
  if (value === null || value === undefined || value === "") return "(none)";
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return whenText(value, locationId);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

async function runAction(action, body, button) {
  const a = state.appointment;
  clearErrors($("view-appointment"), "appointment-error");
  notice("appointment-notice", "");
  busy(button, true, "Working…");
  let answer;
  try {
    answer = await api("POST", `/v1/admin/appointments/${a.id}/${action}`, { body: body || {} });
  } catch (error) {
    busy(button, false);
    if (error.status === 401) return;
    showError("appointment-error", error, action === "cancel" ? $("cancel-form") : null);
    // Show the appointment as it is now (someone may have changed it), keeping the message.
    if (error.status === 409) await openAppointment(a.id, { keepMessages: true });
    $("appointment-error").scrollIntoView({ block: "center" });
    return;
  }
  busy(button, false);
  let text = ACTION_DONE[action] || "Done.";
  if (action === "send-confirmation") {
    const sent = answer.sent || {};
    text = sent.channel
      ? `The e-confirmation went out by ${sent.channel === "sms" ? "text message" : "e-mail"}.`
      : "Nothing was sent: the customer prefers a phone call.";
  }
  await openAppointment(a.id);
  notice("appointment-notice", text);
  $("appointment-heading").focus();
  invalidateList();
}

// The list shows statuses, times and flags: it is read again when staff go back to it.
function invalidateList() {
  state.listStale = true;
}

function actionClicked(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  $("dns-confirm").hidden = true;
  if (action === "confirm" && state.appointment && state.appointment.do_not_service) {
    // Staff confirm a Do Not Service request only on purpose: a second, explicit step.
    $("send-form").hidden = true;
    $("cancel-form").hidden = true;
    $("dns-confirm").hidden = false;
    $("dns-confirm-yes").focus();
    return;
  }
  if (action === "cancel") {
    $("send-form").hidden = true;
    $("cancel-form").hidden = false;
    $("cancel-reason").focus();
    return;
  }
  if (action === "send-confirmation") {
    $("cancel-form").hidden = true;
    $("send-form").hidden = false;
    $("send-form").querySelector("input").focus();
    return;
  }
  runAction(action, {}, button);
}

function cancelSubmit(event) {
  event.preventDefault();
  const reason = $("cancel-reason").value.trim();
  const body = { notify: $("cancel-notify").checked };
  if (reason) body.reason = reason;
  runAction("cancel", body, $("cancel-submit"));
}

function sendSubmit(event) {
  event.preventDefault();
  const channel = checkedValue("send-channel");
  runAction("send-confirmation", channel ? { channel } : {}, $("send-submit"));
}

async function saveNotes(event) {
  event.preventDefault();
  const a = state.appointment;
  const form = $("notes-form");
  clearErrors(form, "appointment-error");
  notice("appointment-notice", "");
  const body = {};
  const notes = $("edit-notes").value.trim();
  const staffNotes = $("edit-staff-notes").value.trim();
  if (notes !== (a.notes || "")) body.notes = notes || null;
  if (staffNotes !== (a.staff_notes || "")) body.staff_notes = staffNotes || null;
  if (!Object.keys(body).length) {
    notice("appointment-notice", "Nothing to save: the notes are as they were.");
    return;
  }
  body.version = a.version;
  await patchAppointment(body, $("notes-save"), form, "Notes saved.");
}

async function patchAppointment(body, button, form, done) {
  const a = state.appointment;
  busy(button, true, "Saving…");
  try {
    await api("PATCH", `/v1/admin/appointments/${a.id}`, { body });
  } catch (error) {
    busy(button, false);
    if (error.status === 401) return;
    showError("appointment-error", error, form);
    if (error.status === 409) await openAppointment(a.id, { keepMessages: true });
    $("appointment-error").scrollIntoView({ block: "center" });
    return;
  }
  busy(button, false);
  await openAppointment(a.id);
  notice("appointment-notice", done);
  invalidateList();
}

// Free times of the appointment's store, service and type (the public availability API).
async function freeTimes(locationId, serviceId, type, from, zip) {
  const query = { location_id: locationId, service_id: serviceId, appointment_type: type, from, days: RESCHEDULE_DAYS };
  if (type === "at_home" && zip) query.zip = zip;
  const answer = await api("GET", "/v1/availability", { query, auth: false });
  return answer.slots.filter((slot) => slot.remaining >= 1);
}

function renderTimes(container, slots, name, locationId) {
  const groups = new Map();
  for (const slot of slots) {
    const day = isoParts(slot.start).date;
    if (!groups.has(day)) groups.set(day, []);
    groups.get(day).push(slot);
  }
  let index = 0;
  container.replaceChildren(
    ...[...groups].map(([day, list]) =>
      el(
        "div",
        { className: "time-group" },
        el("h4", {}, dayText(day, "short")),
        el(
          "div",
          { className: "chips" },
          ...list.map((slot) => {
            index += 1;
            const id = `${name}-${index}`;
            return el(
              "div",
              { className: "chip" },
              el("input", { type: "radio", name, id, value: slot.start }),
              el("label", { for: id, "aria-label": whenText(slot.start, locationId) }, timeText(slot.start, locationId)),
            );
          }),
        ),
      ),
    ),
  );
}

async function findRescheduleTimes() {
  const a = state.appointment;
  const form = $("reschedule-form");
  clearErrors(form, "appointment-error");
  const from = $("reschedule-from").value;
  if (!from) return void markField(form, "from", "Choose a day.");
  const button = $("reschedule-find");
  busy(button, true, "Looking…");
  let slots;
  try {
    slots = await freeTimes(a.location_id, a.service_id, a.appointment_type, from, a.address && a.address.address.zip);
  } catch (error) {
    showError("appointment-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  slots = slots.filter((slot) => slot.start !== a.start);
  renderTimes($("reschedule-list"), slots, "reschedule-start", a.location_id);
  const found = slots.length > 0;
  $("reschedule-times").hidden = !found;
  $("reschedule-submit").hidden = !found;
  $("reschedule-empty").hidden = found;
  $("reschedule-empty").textContent = found ? "" : `No free times in the ${RESCHEDULE_DAYS} days from ${dayText(from)}.`;
  $("reschedule-legend").textContent = `Free times from ${dayText(from, "short")} (${RESCHEDULE_DAYS} days)`;
  announce(found ? `${slots.length} free times.` : $("reschedule-empty").textContent);
}

async function reschedule(event) {
  event.preventDefault();
  const start = checkedValue("reschedule-start");
  if (!start) {
    problem("appointment-error", "Choose the new time first.");
    return;
  }
  const a = state.appointment;
  await patchAppointment(
    { start, version: a.version },
    $("reschedule-submit"),
    $("reschedule-form"),
    `Moved to ${whenText(start, a.location_id)}. The customer is told.`,
  );
}

// ------------------------------------------------------------------ phone booking
function offeredTypes(locationId, serviceId) {
  const loc = locationById(locationId);
  const svc = service(serviceId);
  if (!loc || !svc) return [];
  return Object.keys(TYPES).filter((t) => loc.appointment_types.includes(t) && svc.appointment_types.includes(t));
}

function initBookingForm() {
  fillSelect($("nb-location"), locationOptions(null), state.locations[0] ? state.locations[0].id : "");
  fillSelect(
    $("nb-service"),
    state.services.map((s) => [s.id, `${s.name} (${s.duration_minutes} min)`]),
    state.services[0] ? state.services[0].id : "",
  );
  $("nb-from").value = todayIn(zoneOf($("nb-location").value));
  renderBookingTypes();
}

function renderBookingTypes() {
  const types = offeredTypes($("nb-location").value, $("nb-service").value);
  const current = checkedValue("nb-type");
  const chosen = types.includes(current) ? current : types[0];
  $("nb-type-list").replaceChildren(
    ...types.map((t) => el("label", {}, el("input", { type: "radio", name: "nb-type", value: t, checked: t === chosen }), TYPES[t])),
  );
  if (!types.length) $("nb-type-list").append(el("p", { className: "muted" }, "This store doesn’t offer this service."));
  bookingTypeChanged();
}

function bookingTypeChanged() {
  $("nb-address-group").hidden = checkedValue("nb-type") !== "at_home";
  clearBookingTimes();
}

function clearBookingTimes() {
  $("nb-times").hidden = true;
  $("nb-times-empty").hidden = true;
  $("nb-time-list").replaceChildren();
}

async function findBookingTimes() {
  const form = $("booking-form");
  clearErrors(form, "booking-error");
  const type = checkedValue("nb-type");
  const from = $("nb-from").value;
  if (!type) return void problem("booking-error", "This store doesn’t offer this service: choose another.");
  if (!from) return void markField(form, "start", "Choose a day first.");
  const zip = $("nb-zip").value.trim();
  if (type === "at_home" && !/^\d{5}$/.test(zip)) {
    markField(form, "address.zip", "Enter the 5-digit ZIP code of the address first.");
    $("nb-zip").focus();
    return;
  }
  const locationId = $("nb-location").value;
  const button = $("nb-find");
  busy(button, true, "Looking…");
  let slots;
  try {
    slots = await freeTimes(locationId, $("nb-service").value, type, from, zip);
  } catch (error) {
    showError("booking-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  renderTimes($("nb-time-list"), slots, "nb-start", locationId);
  $("nb-times").hidden = slots.length === 0;
  $("nb-times-empty").hidden = slots.length > 0;
  $("nb-times-empty").textContent = `No free times in the ${RESCHEDULE_DAYS} days from ${dayText(from)}.`;
  announce(slots.length ? `${slots.length} free times.` : $("nb-times-empty").textContent);
}

function bookingBody() {
  const type = checkedValue("nb-type");
  const body = {
    location_id: $("nb-location").value,
    service_id: $("nb-service").value,
    appointment_type: type,
    start: checkedValue("nb-start"),
    customer: {
      first_name: $("nb-first").value.trim(),
      last_name: $("nb-last").value.trim(),
      phone: $("nb-phone").value.trim(),
      email: $("nb-email").value.trim(),
    },
    vehicle: {
      year: /^\d{4}$/.test($("nb-year").value.trim()) ? Number($("nb-year").value.trim()) : $("nb-year").value.trim(),
      make: $("nb-make").value.trim(),
      model: $("nb-model").value.trim(),
    },
    source: "phone",
  };
  if (type === "at_home") {
    body.address = {
      line1: $("nb-line1").value.trim(),
      city: $("nb-city").value.trim(),
      state: $("nb-state").value.trim().toUpperCase(),
      zip: $("nb-zip").value.trim(),
    };
    if ($("nb-line2").value.trim()) body.address.line2 = $("nb-line2").value.trim();
  }
  const notes = $("nb-notes").value.trim();
  if (notes) body.notes = notes;
  const channel = checkedValue("nb-channel");
  if (channel) body.preferred_channel = channel;
  return body;
}

async function submitBooking(event) {
  event.preventDefault();
  const form = $("booking-form");
  clearErrors(form, "booking-error");
  const body = bookingBody();
  if (!body.start) {
    markField(form, "start", "Choose a time.");
    problem("booking-error", "Choose a free time first (“Show free times”).");
    return;
  }
  const button = $("nb-submit");
  busy(button, true, "Booking…");
  let answer;
  try {
    answer = await api("POST", "/v1/admin/appointments", { body });
  } catch (error) {
    if (error.status !== 401) {
      showError("booking-error", error, form);
      if (error.code === "slot_unavailable") findBookingTimes();
    }
    return;
  } finally {
    busy(button, false);
  }
  showBooked(answer);
}

function showBooked(answer) {
  const a = answer.appointment;
  const warnings = [];
  if ((answer.warnings || []).includes("do_not_service")) {
    warnings.push(
      el(
        "div",
        { className: "warning" },
        el("p", {}, el("strong", {}, "⚠ Do Not Service. "), "This customer is marked Do Not Service: online they would have been refused. The booking was made; check with a manager before keeping it."),
      ),
    );
  }
  const flagged = flagBox(a);
  if (flagged) warnings.push(flagged);
  $("booking-warnings").replaceChildren(...warnings);
  $("booking-result-text").textContent = `${personName(a.customer)}, ${whenText(a.start, a.location_id)}: ${(STATUS[a.status] || a.status).toLowerCase()}.`;
  $("booking-result-link").href = `#appointment/${a.id}`;
  $("booking-form").hidden = true;
  $("booking-result").hidden = false;
  $("booking-result-heading").focus();
  announce(`Booked. ${$("booking-result-text").textContent}`);
  invalidateList();
}

function anotherBooking() {
  const form = $("booking-form");
  form.reset();
  clearErrors(form, "booking-error");
  $("booking-result").hidden = true;
  form.hidden = false;
  initBookingForm();
  $("nb-location").focus();
}

// ------------------------------------------------------------------ flags
async function loadFlags(more) {
  clearErrors(null, "flags-error");
  const button = $("flags-more");
  if (more) busy(button, true, "Loading…");
  try {
    const answer = await api("GET", "/v1/admin/flags", { query: { limit: PAGE_SIZE, cursor: more ? state.flags.cursor : null } });
    state.flags.items = more ? [...state.flags.items, ...answer.flags] : answer.flags;
    state.flags.cursor = answer.next_cursor;
  } catch (error) {
    if (error.status !== 401) showError("flags-error", error);
    return;
  } finally {
    if (more) busy(button, false);
  }
  renderFlags();
}

function renderFlags() {
  const items = state.flags.items;
  $("flag-list").replaceChildren(el("ul", {}, ...items.map(flagItem)));
  $("flags-more").hidden = !state.flags.cursor;
  const active = items.filter((f) => f.active).length;
  $("flags-summary").textContent = items.length
    ? `${items.length} ${items.length === 1 ? "flag" : "flags"}, ${active} still matching.`
    : "No flagged customers.";
}

function flagValue(flag, field) {
  if (field === "phone") return phoneText(flag.phone);
  if (field === "address") return addressText(flag.address);
  return flag[field];
}

function flagItem(flag) {
  const rows = FLAG_FIELDS.filter((f) => flag[f]).map((field) => {
    const active = flag.active_fields.includes(field);
    const label = FIELD_LABELS[field];
    const off = flag.unflagged.find((u) => u.field === field);
    const item = el(
      "li",
      {},
      el("span", { className: "field-name" }, label),
      el("span", { className: active ? "" : "struck" }, flagValue(flag, field)),
    );
    if (active) {
      const button = el("button", { type: "button", className: "secondary small", "data-unflag": field }, `Un-flag ${label.toLowerCase()}`);
      button.addEventListener("click", () => unflag(flag, field, button));
      item.append(button);
    } else if (off) {
      item.append(el("span", { className: "muted" }, `un-flagged by ${off.by || "staff"}, ${instantText(off.at)}`));
    }
    return item;
  });
  const remove = el("button", { type: "button", className: "danger small" }, "Delete flag");
  const confirmRow = el(
    "div",
    { className: "button-row", hidden: true },
    el("span", {}, "Delete this flag for good? Appointments keep the matches they had."),
  );
  const yes = el("button", { type: "button", className: "danger small" }, "Yes, delete it");
  const no = el("button", { type: "button", className: "secondary small" }, "Keep it");
  confirmRow.append(yes, no);
  remove.addEventListener("click", () => {
    confirmRow.hidden = false;
    remove.hidden = true;
    no.focus();
  });
  no.addEventListener("click", () => {
    confirmRow.hidden = true;
    remove.hidden = false;
    remove.focus();
  });
  yes.addEventListener("click", () => deleteFlag(flag, yes));
  return el(
    "li",
    { className: `item${flag.active ? "" : " inactive"}`, "data-flag-id": flag.id },
    el("p", {}, el("strong", {}, "Reason: "), flag.reason),
    el("ul", { className: "field-list", "aria-label": "Flagged details" }, ...rows),
    el(
      "p",
      { className: "muted" },
      `Flagged by ${flag.created_by || "staff"}, ${instantText(flag.created_at)}`,
      flag.active ? "" : " · ",
      flag.active ? null : el("span", { className: "badge badge-inactive" }, "No longer matches"),
    ),
    el("div", { className: "button-row" }, remove),
    confirmRow,
  );
}

function replaceFlag(flag) {
  state.flags.items = state.flags.items.map((f) => (f.id === flag.id ? flag : f));
  renderFlags();
}

async function unflag(flag, field, button) {
  clearErrors(null, "flags-error");
  busy(button, true, "Un-flagging…");
  let answer;
  try {
    answer = await api("DELETE", `/v1/admin/flags/${flag.id}/fields/${field}`);
  } catch (error) {
    busy(button, false);
    if (error.status !== 401) showError("flags-error", error);
    if (error.status === 409 || error.status === 404) loadFlags(false);
    return;
  }
  replaceFlag(answer.flag);
  announce(`${FIELD_LABELS[field]} un-flagged: it no longer matches new appointments.`);
  const item = document.querySelector(`#flag-list [data-flag-id="${CSS.escape(flag.id)}"]`);
  const next = item && item.querySelector("button");
  if (next) next.focus();
}

async function deleteFlag(flag, button) {
  clearErrors(null, "flags-error");
  busy(button, true, "Deleting…");
  try {
    await api("DELETE", `/v1/admin/flags/${flag.id}`);
  } catch (error) {
    busy(button, false);
    if (error.status !== 401) showError("flags-error", error);
    return;
  }
  state.flags.items = state.flags.items.filter((f) => f.id !== flag.id);
  renderFlags();
  announce("The flag is deleted.");
  $("flags-heading").focus();
}

async function createFlag(event) {
  event.preventDefault();
  const form = $("flag-form");
  clearErrors(form, "flag-form-error");
  const body = { reason: $("flag-reason").value.trim() };
  for (const [field, id] of [["name", "flag-name"], ["email", "flag-email"], ["phone", "flag-phone"]]) {
    const value = $(id).value.trim();
    if (value) body[field] = value;
  }
  const address = {
    line1: $("flag-line1").value.trim(),
    city: $("flag-city").value.trim(),
    state: $("flag-state").value.trim().toUpperCase(),
    zip: $("flag-zip").value.trim(),
  };
  if (Object.values(address).some(Boolean)) body.address = address;
  const button = $("flag-submit");
  busy(button, true, "Saving…");
  let answer;
  try {
    answer = await api("POST", "/v1/admin/flags", { body });
  } catch (error) {
    if (error.status !== 401) showError("flag-form-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  form.reset();
  state.flags.items = [answer.flag, ...state.flags.items.filter((f) => f.id !== answer.flag.id)];
  renderFlags();
  announce("Flag saved: new appointments are checked against it.");
}

// ------------------------------------------------------------------ review queue
async function loadReviews(more) {
  clearErrors(null, "reviews-error");
  const status = more ? state.reviews.status : $("reviews-status").value;
  const button = more ? $("reviews-more") : $("reviews-show");
  busy(button, true, "Loading…");
  try {
    const answer = await api("GET", "/v1/admin/review-requests", {
      query: { status, limit: PAGE_SIZE, cursor: more ? state.reviews.cursor : null },
    });
    state.reviews.status = status;
    state.reviews.items = more ? [...state.reviews.items, ...answer.review_requests] : answer.review_requests;
    state.reviews.cursor = answer.next_cursor;
  } catch (error) {
    if (error.status !== 401) showError("reviews-error", error);
    return;
  } finally {
    busy(button, false);
  }
  renderReviews();
}

function renderReviews() {
  const items = state.reviews.items;
  $("review-list").replaceChildren(el("ul", {}, ...items.map(reviewItem)));
  $("reviews-more").hidden = !state.reviews.cursor;
  const label = REVIEW_STATUS[state.reviews.status].toLowerCase();
  const text = items.length ? `${items.length} ${label} review ${items.length === 1 ? "request" : "requests"}.` : `No ${label} review requests.`;
  $("reviews-summary").textContent = text;
  announce(text);
}

function reviewItem(r) {
  const loc = locationById(r.location_id);
  const svc = service(r.service_id);
  const parts = [
    el("p", {}, el("strong", {}, r.first_name), ` · ${r.email} `, el("span", { className: "badge" }, REVIEW_STATUS[r.status] || r.status)),
    el("p", {}, `Visit: ${svc ? svc.name : r.service_id}, ${whenText(r.visit_start, r.location_id)} at ${loc ? loc.name : r.location_id}`),
    el("p", {}, `E-mails sent: ${r.steps_sent} of ${r.steps_days.length}`, r.next_step_at ? ` · next ${instantText(r.next_step_at, r.location_id)}` : ""),
    r.ended_at
      ? el("p", { className: "muted" }, `Ended ${instantText(r.ended_at, r.location_id)}${r.ended_by ? ` by the ${r.ended_by}` : ""}${r.end_reason ? `: ${r.end_reason}` : ""}`)
      : null,
    el("p", {}, el("a", { href: `#appointment/${r.appointment_id}` }, "Open the appointment")),
  ];
  const item = el("li", { className: "item", "data-review-id": r.id }, ...parts);
  if (r.status === "active") {
    const stop = el("button", { type: "button", className: "danger small" }, "Stop these e-mails");
    stop.addEventListener("click", () => stopReview(r, stop));
    item.append(el("div", { className: "button-row" }, stop));
  }
  return item;
}

async function stopReview(r, button) {
  clearErrors(null, "reviews-error");
  busy(button, true, "Stopping…");
  let answer;
  try {
    answer = await api("POST", `/v1/admin/review-requests/${r.id}/stop`, { body: {} });
  } catch (error) {
    busy(button, false);
    if (error.status !== 401) showError("reviews-error", error);
    return;
  }
  state.reviews.items = state.reviews.items.map((x) => (x.id === r.id ? answer.review_request : x));
  renderReviews();
  announce(`Review e-mails to ${r.first_name} stopped.`);
}

// ------------------------------------------------------------------ customers and proposed changes
async function searchCustomers(more) {
  const form = $("customer-search-form");
  clearErrors(form, "customers-error");
  const q = more ? state.customers.q : $("customer-q").value.trim();
  if (!q) {
    markField(form, "q", "Type a phone number, an e-mail address or a name.");
    $("customer-q").focus();
    return;
  }
  const button = more ? $("customers-more") : $("customer-search");
  busy(button, true, "Searching…");
  let answer;
  try {
    answer = await api("GET", "/v1/admin/customers", { query: { q, limit: PAGE_SIZE, cursor: more ? state.customers.cursor : null } });
  } catch (error) {
    if (error.status !== 401) showError("customers-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  state.customers.q = q;
  state.customers.items = more ? [...state.customers.items, ...answer.customers] : answer.customers;
  state.customers.cursor = answer.next_cursor;
  const items = state.customers.items;
  $("customer-list").replaceChildren(el("ul", {}, ...items.map(customerItem)));
  $("customers-more").hidden = !state.customers.cursor;
  const text = items.length
    ? `${items.length} ${items.length === 1 ? "customer" : "customers"} found by ${answer.matched_by}.`
    : `Nobody found by ${answer.matched_by}.`;
  $("customers-summary").textContent = text;
  announce(text);
}

function customerItem(c) {
  return el(
    "li",
    { className: "item" },
    el(
      "p",
      {},
      el("a", { href: `#customer/${c.id}` }, personName(c)),
      c.do_not_service ? " " : null,
      c.do_not_service ? el("span", { className: "badge badge-dns" }, "Do Not Service") : null,
    ),
    el("p", { className: "detail" }, [phoneText(c.phone), c.email, PREFERS[c.preferred_channel]].filter(Boolean).join(" · ")),
  );
}

async function loadProposed(more) {
  clearErrors(null, "proposed-error");
  try {
    const answer = await api("GET", "/v1/admin/proposed-changes", { query: { limit: PAGE_SIZE, cursor: more ? state.proposed.cursor : null } });
    state.proposed.items = more ? [...state.proposed.items, ...answer.proposed_changes] : answer.proposed_changes;
    state.proposed.cursor = answer.next_cursor;
  } catch (error) {
    if (error.status !== 401) showError("proposed-error", error);
    return;
  }
  renderProposed($("proposed-list"), state.proposed.items, true);
  $("proposed-more").hidden = !state.proposed.cursor;
}

function renderProposed(list, items, withCustomer) {
  if (!items.length) {
    list.replaceChildren(el("p", { className: "muted" }, "None waiting."));
    return;
  }
  list.replaceChildren(el("ul", {}, ...items.map((change) => proposedItem(change, withCustomer))));
}

function proposedItem(change, withCustomer) {
  const accept = el("button", { type: "button", className: "small" }, "Accept");
  const reject = el("button", { type: "button", className: "secondary small" }, "Reject");
  const item = el(
    "li",
    { className: "item", "data-change-id": change.id },
    el("p", {}, el("strong", {}, change.field.replace(/_/g, " ")), `: “${change.current || "(none)"}” → “${change.proposed}”`),
    el(
      "p",
      { className: "muted" },
      `From a ${change.source} booking, ${instantText(change.created_at)}`,
      withCustomer ? " · " : null,
      withCustomer ? el("a", { href: `#customer/${change.customer_id}` }, "the customer") : null,
    ),
    el("div", { className: "button-row" }, accept, reject),
  );
  accept.addEventListener("click", () => decide(change, "accept", accept, item));
  reject.addEventListener("click", () => decide(change, "reject", reject, item));
  return item;
}

async function decide(change, decision, button, item) {
  const box = item.closest("#view-customer") ? "customer-error" : "proposed-error";
  clearErrors(null, box);
  busy(button, true, decision === "accept" ? "Accepting…" : "Rejecting…");
  try {
    await api("POST", `/v1/admin/proposed-changes/${change.id}/${decision}`, { body: {} });
  } catch (error) {
    busy(button, false);
    if (error.status !== 401) showError(box, error);
    return;
  }
  state.proposed.items = state.proposed.items.filter((c) => c.id !== change.id);
  announce(decision === "accept" ? "Change accepted: the record is updated." : "Change rejected: the record stays as it was.");
  if (box === "customer-error" && state.customer) openCustomer(state.customer.id);
  else renderProposed($("proposed-list"), state.proposed.items, true);
}

async function openCustomer(id, { keepMessages = false } = {}) {
  if (!keepMessages) {
    clearErrors($("customer-form"), "customer-error");
    notice("customer-notice", "");
  }
  if (!state.customer || state.customer.id !== id) {
    state.customer = null;
    $("customer-body").hidden = true;
    $("customer-heading").textContent = "Loading the customer…";
  }
  let answer;
  try {
    answer = await api("GET", `/v1/admin/customers/${id}`);
  } catch (error) {
    if (error.status === 401) return;
    if (!state.customer) $("customer-heading").textContent = "Customer";
    showError("customer-error", error);
    return;
  }
  const c = answer.customer;
  state.customer = c;
  $("customer-body").hidden = false;
  $("customer-heading").textContent = personName(c);
  document.title = `${personName(c)} · Staff${state.shop ? ` · ${state.shop.name}` : ""}`;
  $("cu-first").value = c.first_name;
  $("cu-last").value = c.last_name;
  $("cu-phone").value = phoneText(c.phone);
  $("cu-email").value = c.email || "";
  $("cu-channel").value = c.preferred_channel;
  $("cu-dns").checked = c.do_not_service;
  $("customer-summary").replaceChildren(
    ...dlRows([
      ["Do Not Service", c.do_not_service ? el("span", { className: "badge badge-dns" }, "Yes: may not book online") : ""],
      ["Phones and e-mails", c.contacts.map((k) => `${k.kind === "phone" ? phoneText(k.value) : k.value}${k.primary ? "" : " (older)"}`).join(" · ")],
      ["Vehicles", c.vehicles.map((v) => v.label).join(" · ")],
      ["Addresses", c.addresses.map((a) => addressText(a.address)).join(" · ")],
      ["First booked from", c.source],
      ["Customer since", instantText(c.created_at)],
    ]),
  );
  renderProposed($("customer-proposed"), c.proposed_changes, false);
  $("customer-appointments").replaceChildren(
    ...(c.recent_appointments.length
      ? c.recent_appointments.map((a) =>
          el("li", {}, el("a", { href: `#appointment/${a.id}` }, whenText(a.start, a.location_id)), ` · ${STATUS[a.status] || a.status}`),
        )
      : [el("li", { className: "muted" }, "None.")]),
  );
  renderHistory($("customer-history"), c.history, null);
}

async function saveCustomer(event) {
  event.preventDefault();
  const c = state.customer;
  const form = $("customer-form");
  clearErrors(form, "customer-error");
  notice("customer-notice", "");
  const body = {};
  const text = [["first_name", "cu-first"], ["last_name", "cu-last"], ["phone", "cu-phone"], ["email", "cu-email"]];
  for (const [field, id] of text) {
    const value = $(id).value.trim();
    const shown = field === "phone" ? phoneText(c.phone) : c[field] || "";
    if (value && value !== shown && value !== (c[field] || "")) body[field] = value;
  }
  if ($("cu-channel").value !== c.preferred_channel) body.preferred_channel = $("cu-channel").value;
  if ($("cu-dns").checked !== c.do_not_service) body.do_not_service = $("cu-dns").checked;
  if (!Object.keys(body).length) {
    notice("customer-notice", "Nothing to save: nothing changed.");
    return;
  }
  body.version = c.version;
  const button = $("customer-save");
  busy(button, true, "Saving…");
  try {
    await api("PATCH", `/v1/admin/customers/${c.id}`, { body });
  } catch (error) {
    busy(button, false);
    if (error.status === 401) return;
    showError("customer-error", error, form);
    if (error.code === "concurrent_update") await openCustomer(c.id, { keepMessages: true });
    return;
  }
  busy(button, false);
  await openCustomer(c.id);
  notice("customer-notice", "Customer saved.");
}

// ------------------------------------------------------------------ settings
async function loadSettings() {
  clearErrors($("settings-form"), "settings-error");
  let answer;
  try {
    answer = await api("GET", "/v1/admin/settings");
  } catch (error) {
    if (error.status !== 401) showError("settings-error", error);
    return;
  }
  state.settings = answer.settings;
  state.settingsVersion = answer.version;
  fillSettings(answer.settings);
  ownerOnly(answer.owner);
  $("settings-form").hidden = false;
  $("settings-version").textContent = `Version ${answer.version}.`;
  await loadSettingsHistory();
}

// Owner-only settings (mail routing, addresses, security): disabled for staff outside the owner
// group, with the hint saying why; the API refuses them anyway (403 owner_required).
function ownerOnly(owner) {
  for (const part of document.querySelectorAll("#settings-form [data-owner-only]")) {
    for (const input of part.querySelectorAll("input, select, textarea")) input.disabled = !owner;
  }
  $("settings-owner-hint").hidden = Boolean(owner);
}

// Who changed the settings, newest first (GET /v1/admin/settings/history, 20 a page).
async function loadSettingsHistory(more = false) {
  const list = $("settings-history");
  $("settings-history-error").replaceChildren();
  let answer;
  try {
    answer = await api("GET", "/v1/admin/settings/history", {
      query: { limit: 20, cursor: more ? state.settingsHistoryCursor : null },
    });
  } catch (error) {
    if (error.status !== 401) showError("settings-history-error", error);
    return;
  }
  $("settings-history-card").hidden = false;
  const shown = more ? [...list.children] : [];
  renderHistory(list, answer.history, null);
  if (more && answer.history.length) list.prepend(...shown);
  else if (more) list.replaceChildren(...shown);
  state.settingsHistoryCursor = answer.next_cursor;
  $("settings-history-more").hidden = !answer.next_cursor;
}

function fillSettings(settings) {
  for (const input of document.querySelectorAll("#settings-form [data-setting]")) {
    const value = settings[input.dataset.setting];
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value === null || value === undefined ? "" : String(value);
  }
  for (const box of document.querySelectorAll('input[name="set-channel"]')) {
    box.checked = settings.verification_channels.includes(box.value);
  }
  const reviews = settings.review_requests || {};
  $("set-reviews-enabled").checked = Boolean(reviews.enabled);
  $("set-review-url").value = reviews.review_url || "";
  $("set-review-steps").value = (reviews.steps_days || []).join(", ");
}

function settingsChanges(form) {
  const before = state.settings;
  const changes = {};
  for (const input of form.querySelectorAll("[data-setting]")) {
    const name = input.dataset.setting;
    let value;
    if (input.dataset.kind === "bool") value = input.checked;
    else if (input.dataset.kind === "number") value = input.value.trim() === "" ? null : Number(input.value);
    else if (input.dataset.kind === "optional-text") value = input.value.trim() || null;
    else value = input.value;
    if (input.dataset.kind === "number" && !Number.isInteger(value)) {
      markField(form, `changes.${name}`, "Enter a whole number.");
      continue;
    }
    if (value !== before[name]) changes[name] = value;
  }
  const channels = [...document.querySelectorAll('input[name="set-channel"]:checked')].map((box) => box.value);
  if ([...channels].sort().join() !== [...before.verification_channels].sort().join()) {
    changes.verification_channels = channels;
  }
  const steps = $("set-review-steps").value.split(/[\s,]+/).filter(Boolean);
  if (!steps.every((s) => /^\d{1,3}$/.test(s))) {
    markField(form, "changes.review_requests.steps_days", "Whole days after the visit, e.g. 1, 4, 10.");
  }
  const reviews = {
    enabled: $("set-reviews-enabled").checked,
    review_url: $("set-review-url").value.trim() || null,
    steps_days: steps.map(Number),
  };
  const was = before.review_requests || {};
  if (
    reviews.enabled !== Boolean(was.enabled) ||
    reviews.review_url !== (was.review_url || null) ||
    reviews.steps_days.join() !== (was.steps_days || []).join()
  ) {
    changes.review_requests = reviews;
  }
  return changes;
}

async function saveSettings(event) {
  event.preventDefault();
  const form = $("settings-form");
  clearErrors(form, "settings-error");
  notice("settings-notice", "");
  const changes = settingsChanges(form);
  if (form.querySelector('[aria-invalid="true"]')) {
    problem("settings-error", "Please check the fields marked below.");
    form.querySelector('[aria-invalid="true"]').focus();
    return;
  }
  if (!Object.keys(changes).length) {
    notice("settings-notice", "Nothing to save: no setting changed.");
    return;
  }
  const button = $("settings-save");
  busy(button, true, "Saving…");
  let answer;
  try {
    answer = await api("PATCH", "/v1/admin/settings", { body: { version: state.settingsVersion, changes } });
  } catch (error) {
    if (error.status !== 401) showError("settings-error", error, form);
    return;
  } finally {
    busy(button, false);
  }
  state.settings = answer.settings;
  state.settingsVersion = answer.version;
  fillSettings(answer.settings);
  ownerOnly(answer.owner);
  $("settings-version").textContent = `Version ${answer.version}.`;
  notice("settings-notice", `Saved: ${Object.keys(changes).join(", ").replace(/_/g, " ")}.`);
  await loadSettingsHistory();
}

// ------------------------------------------------------------------ start
async function loadShop() {
  const answer = await api("GET", "/v1/shop", { auth: false });
  state.shop = answer.shop;
  state.locations = answer.locations;
  state.services = answer.services;
  $("shop-name").textContent = answer.shop.name;
}

async function loadConfig() {
  const response = await fetch(`${BASE}/admin/config.json`, { cache: "no-store", credentials: "same-origin" });
  const data = await response.json().catch(() => null);
  if (!response.ok || !data || !data.sign_in) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || "");
  }
  return data;
}

function startFailed(error) {
  $("loading").hidden = true;
  const again = el("button", { type: "button", className: "secondary" }, "Try again");
  again.addEventListener("click", () => window.location.reload());
  $("page-error").replaceChildren(el("p", {}, messageFor(error)), again);
}

function bind() {
  $("local-sign-in-form").addEventListener("submit", localSignIn);
  $("cognito-sign-in").addEventListener("click", cognitoSignIn);
  $("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAppointments(false);
  });
  $("filter-today").addEventListener("click", () => {
    setRange(0, 0);
    loadAppointments(false);
  });
  $("filter-upcoming").addEventListener("click", () => {
    setRange(0, LIST_DAYS - 1);
    loadAppointments(false);
  });
  $("appointments-more").addEventListener("click", () => loadAppointments(true));
  $("appointment-actions").addEventListener("click", actionClicked);
  $("cancel-form").addEventListener("submit", cancelSubmit);
  $("cancel-close").addEventListener("click", () => {
    $("cancel-form").hidden = true;
    $("action-cancel").focus();
  });
  $("dns-confirm-yes").addEventListener("click", () => {
    $("dns-confirm").hidden = true;
    runAction("confirm", {}, $("action-confirm"));
  });
  $("dns-confirm-no").addEventListener("click", () => {
    $("dns-confirm").hidden = true;
    $("action-confirm").focus();
  });
  $("send-form").addEventListener("submit", sendSubmit);
  $("send-close").addEventListener("click", () => {
    $("send-form").hidden = true;
    $("action-send").focus();
  });
  $("notes-form").addEventListener("submit", saveNotes);
  $("reschedule-find").addEventListener("click", findRescheduleTimes);
  $("reschedule-form").addEventListener("submit", reschedule);
  $("nb-location").addEventListener("change", renderBookingTypes);
  $("nb-service").addEventListener("change", renderBookingTypes);
  $("nb-type-list").addEventListener("change", bookingTypeChanged);
  $("nb-from").addEventListener("change", clearBookingTimes);
  $("nb-find").addEventListener("click", findBookingTimes);
  $("booking-form").addEventListener("submit", submitBooking);
  $("booking-another").addEventListener("click", anotherBooking);
  $("flag-form").addEventListener("submit", createFlag);
  $("flags-more").addEventListener("click", () => loadFlags(true));
  $("reviews-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReviews(false);
  });
  $("reviews-more").addEventListener("click", () => loadReviews(true));
  $("customer-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    searchCustomers(false);
  });
  $("customers-more").addEventListener("click", () => searchCustomers(true));
  $("proposed-more").addEventListener("click", () => loadProposed(true));
  $("customer-form").addEventListener("submit", saveCustomer);
  $("settings-form").addEventListener("submit", saveSettings);
  $("settings-reload").addEventListener("click", () => {
    notice("settings-notice", "");
    loadSettings();
  });
  $("settings-history-more").addEventListener("click", () => loadSettingsHistory(true));
}

async function start() {
  // A sign-in callback's code and state leave the address bar before anything else happens.
  const params = new URLSearchParams(window.location.search);
  const callback = params.has("code") || params.has("error");
  if (window.location.search) window.history.replaceState(null, "", `${BASE}/admin${window.location.hash}`);
  bind();
  try {
    [state.config] = await Promise.all([loadConfig(), loadShop()]);
  } catch (error) {
    startFailed(error);
    return;
  }
  let problemText = null;
  if (state.config.sign_in === "cognito" && callback) {
    problemText = await finishCognitoSignIn(params);
  }
  state.session = state.session || loadSession();
  if (!state.session) {
    showSignIn(problemText);
    return;
  }
  signedIn();
}

start();
