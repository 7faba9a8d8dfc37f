// The hosted booking page (GET /book): a small ES module over the public API, no framework and
// no build step. Every step is markup in book.html; this script shows the steps in turn, fills
// them from the API and books. Text from the API or the customer is only ever set with
// textContent (never innerHTML), and the page's CSP allows no inline code.
//
// Flow: store (ZIP search, nearest first) -> service and appointment type (the ZIP for at-home)
// -> a free time (days and times in the store's zone) -> contact details, or from a known-source
// link (/book?src=<token>) ONE identifying item -> a one-time code where the shop requires it
// (a returning customer is then welcomed and picks a saved vehicle and masked address) -> book
// (one Idempotency-Key per attempt, reused when the same booking is retried) -> confirmation.

const BASE = document.body.dataset.base || "";
const SOURCE_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
const SOURCE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const ZIP = /^\d{5}$/;
const DAYS_PER_PAGE = 14;
const MAX_DAYS_AHEAD = 365;
const STEPS = ["step-store", "step-service", "step-time", "step-contact", "step-verify", "step-book"];
const TYPE_ORDER = ["in_store", "online", "at_home"];
const TYPES = {
  in_store: { title: "At the store", detail: "Bring your vehicle to the store." },
  online: { title: "Online", detail: "A video call with a service advisor." },
  at_home: { title: "At your address", detail: "We come to your home or work." },
};

const $ = (id) => document.getElementById(id);

const state = {
  shop: null,
  locations: [],
  services: [],
  searchZip: null,
  location: null,
  service: null,
  type: null,
  homeZip: null,
  timezone: null,
  slots: [],
  nextFrom: null,
  daysLoaded: 0,
  slot: null,
  sourceToken: null,
  source: "web",
  identified: false, // a known-source link confirmed with one item
  needContact: false, // a known-source customer whose record lacks details
  codeSentTo: null, // {channel, to}
  verification: null, // {token, channel, to}
  customer: null, // a recognized customer: {first_name, vehicles, addresses}
  linkVehicle: null, // the known-source link's vehicle
  attempt: null, // {key, body}: the booking attempt, retried with the same key
  linkProblem: null, // a ?src= that is not a token
};

// ------------------------------------------------------------------ the API
class ApiError extends Error {
  constructor(status, code, message, error, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.error = error || {};
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, { query, body, headers } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const init = {
    method,
    headers: { Accept: "application/json", ...(headers || {}) },
    cache: "no-store",
    credentials: "same-origin",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network", "");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const retry = Number.parseInt(response.headers.get("Retry-After") || String(error.retry_after || ""), 10);
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || "",
      error,
      Number.isFinite(retry) ? retry : null,
    );
  }
  return data;
}

function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ------------------------------------------------------------------ words
function waitText(seconds) {
  if (!seconds || seconds < 1) return "a moment";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

function storeName() {
  return state.location ? state.location.name : "The store";
}

// A human message for an API error, by its code (never by its text).
function messageFor(error) {
  switch (error.code) {
    case "network":
      return "We couldn’t reach the booking service. Check your internet connection and try again.";
    case "unknown_zip":
      return "We don’t know that ZIP code. Check it and try again.";
    case "zip_not_served":
      return `${storeName()} doesn’t come to ZIP code ${state.homeZip || "you entered"}. Choose a visit at the store, or another store.`;
    case "appointment_type_not_offered":
      return "This store doesn’t offer that kind of appointment for this service. Choose another one.";
    case "location_not_found":
    case "service_not_found":
      return "That store or service is no longer offered online. Reload the page to see what is.";
    case "slot_unavailable":
      return "Sorry, that time is no longer free.";
    case "verification_required":
      return "This shop asks you to confirm your phone number or e-mail with a code before booking.";
    case "invalid_verification_token":
      return "Your confirmation has expired. Please confirm it’s you again.";
    case "invalid_code":
      return "That code isn’t right. Check the latest message we sent you and try again.";
    case "code_expired":
      return "That code has expired or was tried too many times. Send a new code.";
    case "too_many_requests":
      return `Too many attempts. Please try again in ${waitText(error.retryAfter)}.`;
    case "identity_mismatch":
      return "We couldn’t confirm it’s you with that. Check what you typed and try again, or book without the link.";
    case "channel_not_offered":
      return "We can’t send a code that way. Choose another way to get the code.";
    case "sms_unavailable":
      return (state.shop.verification_channels || []).includes("email")
        ? "We can’t send text messages right now. We’ll send your code by e-mail instead: press “Send code”."
        : "We can’t send text messages right now. Please try again later.";
    case "booking_not_available":
      return "We can’t book this appointment online.";
    case "validation_error":
      return "Please check the highlighted fields.";
    case "customer_changed":
    case "request_in_progress":
      return "We’re still saving your booking. Please press “Try again” in a moment.";
    case "idempotency_key_reused":
      return "Something changed while we were saving. Please press “Try again”.";
    case "shop_not_configured":
      return "Online booking isn’t open yet. Please call the store to book.";
    case "request_blocked":
      return "Your request was blocked. Please try again later or call the store.";
    default:
      if (error.status === 429) return `The booking service is busy. Please try again in ${waitText(error.retryAfter)}.`;
      if (error.status === 0 || error.status >= 500) return "Something went wrong on our side. Please try again in a moment.";
      return error.message || "Something went wrong. Please try again.";
  }
}

// Fields named in a 422's details -> the element that shows the problem.
const FIELD_TARGETS = {
  "customer.first_name": "first-name",
  "customer.last_name": "last-name",
  "customer.phone": "phone",
  "customer.email": "email",
  preferred_channel: "channel-group",
  vehicle: "vehicle-group",
  vehicle_id: "vehicle-group",
  "vehicle.year": "vehicle-year",
  "vehicle.make": "vehicle-make",
  "vehicle.model": "vehicle-model",
  "vehicle.vin": "vehicle-vin",
  address: "address-group",
  address_id: "address-group",
  "address.line1": "address-line1",
  "address.line2": "address-line2",
  "address.city": "address-city",
  "address.state": "address-state",
  "address.zip": "address-zip",
  notes: "notes",
  start: "time-group",
  zip: "home-zip",
  near: "zip",
  code: "code",
  phone: "identity-value",
  email: "identity-value",
};

const FIELD_TEXT = {
  "first-name": "Enter your first name.",
  "last-name": "Enter your last name.",
  phone: "Enter a phone number we can reach you on, like (512) 555-0100.",
  email: "Enter an e-mail address, like name@example.com.",
  "channel-group": "Choose how we should send your confirmation.",
  "vehicle-group": "Choose a vehicle, or enter its year, make and model.",
  "vehicle-year": "Enter the year, like 2019.",
  "vehicle-make": "Enter the make, like Honda.",
  "vehicle-model": "Enter the model, like Civic.",
  "vehicle-vin": "A VIN has 17 letters and digits (never I, O or Q). Leave it empty if you don’t have it.",
  "address-group": "Choose an address, or enter the address where we should come.",
  "address-line1": "Enter the street address with the house number, like 123 Main St.",
  "address-line2": "Shorten the apartment or suite.",
  "address-city": "Enter the city.",
  "address-state": "Enter the two-letter state, like TX.",
  "address-zip": "Enter the 5-digit ZIP code.",
  notes: "Keep the notes under 2,000 characters.",
  "time-group": "Choose a time.",
  "home-zip": "Enter the 5-digit ZIP code of the address.",
  zip: "Enter a 5-digit ZIP code.",
  code: "Enter the 6-digit code from the message.",
  "identity-value": "Enter the phone number or e-mail address we have on file.",
};

// Details whose message says more than "this field is wrong".
function detailText(target, detail) {
  const message = String(detail.message || "");
  if (/not in this state/.test(message)) return "That ZIP code is not in this state. Check the state and the ZIP code.";
  if (/unknown ZIP/i.test(message)) return "We don’t know this ZIP code. Check it.";
  if (/not a street address/.test(message)) return FIELD_TEXT["address-line1"];
  if (/must be the (phone number|e-mail address) that was verified/.test(message)) {
    return "Use the same phone number and e-mail you confirmed with the code, or confirm this one.";
  }
  if (/record on file is incomplete/.test(message)) {
    return "We need your name, phone number and e-mail for this booking. Please fill them in.";
  }
  if (/required unless a verified/.test(message)) return "Please give your name, phone number and e-mail.";
  if (/no such vehicle/.test(message)) return "That vehicle is not on your profile. Choose another one.";
  if (/no such address/.test(message)) return "That address is not on your profile. Choose another one.";
  if (/another customer/.test(message)) return "Please use your own phone number and e-mail.";
  return FIELD_TEXT[target] || (message ? message.charAt(0).toUpperCase() + message.slice(1) + "." : "Check this field.");
}

function fieldName(raw) {
  return String(raw || "")
    .split(".")
    .filter((part, index) => !(index === 0 && (part === "body" || part === "query" || part === "header")))
    .filter((part) => !/^[A-Z]/.test(part)) // model names pydantic puts in union locations
    .join(".");
}

// ------------------------------------------------------------------ time, places, phones
function isoParts(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!found) return null;
  return { date: `${found[1]}-${found[2]}-${found[3]}`, hour: Number(found[4]), minute: Number(found[5]) };
}

// The wall-clock time in the slot's own offset (the location's zone), whatever the browser's zone.
function timeOfDay(iso) {
  const p = isoParts(iso);
  if (!p) return iso;
  const hour = p.hour % 12 || 12;
  return `${hour}:${String(p.minute).padStart(2, "0")} ${p.hour < 12 ? "AM" : "PM"}`;
}

function dateOf(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

function dayText(day, style) {
  const options =
    style === "short"
      ? { weekday: "short", month: "short", day: "numeric" }
      : style === "year"
        ? { weekday: "long", month: "long", day: "numeric", year: "numeric" }
        : { weekday: "long", month: "long", day: "numeric" };
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

function zoneName(timezone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longGeneric" }).formatToParts(
      new Date(),
    );
    const name = parts.find((p) => p.type === "timeZoneName");
    return name ? name.value : timezone;
  } catch {
    return timezone;
  }
}

function longWhen(iso) {
  const p = isoParts(iso);
  if (!p) return iso;
  const zone = zoneAbbreviation(iso, state.timezone || (state.location && state.location.timezone));
  return `${dayText(p.date, "year")} at ${timeOfDay(iso)}${zone ? ` ${zone}` : ""}`;
}

function shortWhen(iso) {
  const p = isoParts(iso);
  if (!p) return iso;
  const zone = zoneAbbreviation(iso, state.timezone);
  return `${dayText(p.date, "short")}, ${timeOfDay(iso)}${zone ? ` ${zone}` : ""}`;
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

function milesText(miles) {
  const value = miles < 10 ? miles.toFixed(1) : String(Math.round(miles));
  return `${value} ${value === "1.0" ? "mile" : "miles"} away`;
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

// A radio choice as a card: the input inside its label (so the label names it).
function choice(name, value, title, details, checked) {
  const input = el("input", { type: "radio", name, value, checked });
  const text = el("span", { className: "choice-text" }, el("span", { className: "choice-title" }, title));
  for (const detail of details || []) if (detail) text.append(el("span", { className: "choice-detail" }, detail));
  return el("label", { className: "choice" }, input, text);
}

// A day or time chip: a native radio (keyboard: Tab into the group, arrows move) and its label.
function chip(name, id, value, labelChildren, checked) {
  const input = el("input", { type: "radio", name, id, value, checked });
  return el("div", { className: "chip" }, input, el("label", { for: id }, ...labelChildren));
}

function checkedValue(name) {
  const input = document.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

function value(id) {
  return $(id).value.trim();
}

function announce(text) {
  const status = $("status");
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = text;
  }, 50);
}

function showStepError(id, ...content) {
  const box = $(id);
  box.replaceChildren(...content.map((part) => (part instanceof Node ? part : el("p", {}, part))));
}

function clearErrors(scope) {
  for (const node of scope.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of scope.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of scope.querySelectorAll(".step-error")) node.replaceChildren();
}

function isShown(node) {
  return Boolean(node) && node.getClientRects().length > 0;
}

// Shows ``text`` under the field (or group) ``id``; false when that field is not on screen.
function setFieldError(id, text) {
  const field = $(id);
  const error = $(`${id}-error`);
  if (!field || !error || !isShown(field)) return false;
  error.textContent = text;
  field.setAttribute("aria-invalid", "true");
  return true;
}

function focusField(id) {
  const field = $(id);
  if (!field) return;
  const target = field.matches("fieldset")
    ? field.querySelector("input:checked") || field.querySelector("input")
    : field;
  if (target) {
    target.focus();
    target.scrollIntoView({ block: "center" });
  }
}

function busy(button, on, text) {
  if (on) {
    button.dataset.label = button.textContent;
    button.textContent = text;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.label) button.textContent = button.dataset.label;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------ steps
function reveal(id, { focus = true } = {}) {
  const step = $(id);
  step.hidden = false;
  if (focus) {
    const heading = step.querySelector("h2");
    heading.focus({ preventScroll: true });
    step.scrollIntoView({ block: "start" });
  }
}

// A change in one step hides the steps after it: they are shown again with Continue.
function hideAfter(id) {
  const index = STEPS.indexOf(id);
  for (const step of STEPS.slice(index + 1)) $(step).hidden = true;
  $("alternatives").hidden = true;
  $("retry-booking").hidden = true;
}

function verificationNeeded() {
  return Boolean(state.shop && state.shop.require_verification) && !state.sourceToken;
}

function numberSteps() {
  const verify = verificationNeeded();
  $("book-step-number").textContent = verify ? "6" : "5";
}

// ------------------------------------------------------------------ 1. store
function renderStores(locations, nearZip) {
  $("store-legend").textContent = nearZip ? `Stores nearest to ${nearZip}` : "Stores";
  const chosen = state.location ? state.location.id : checkedValue("store");
  $("store-list").replaceChildren(
    ...locations.map((location) =>
      choice(
        "store",
        location.id,
        location.name,
        [
          addressText(location.address),
          location.distance_miles !== null && location.distance_miles !== undefined
            ? milesText(location.distance_miles)
            : null,
          location.phone ? phoneText(location.phone) : null,
        ],
        locations.length === 1 || location.id === chosen,
      ),
    ),
  );
}

async function searchStores(event) {
  event.preventDefault();
  clearErrors($("step-store"));
  const zip = value("zip");
  if (!ZIP.test(zip)) {
    setFieldError("zip", FIELD_TEXT.zip);
    focusField("zip");
    return;
  }
  const button = $("zip-search");
  busy(button, true, "Finding…");
  try {
    const answer = await api("GET", "/v1/locations", { query: { near: zip } });
    state.searchZip = zip;
    renderStores(answer.locations, zip);
    announce(`${answer.locations.length} stores, nearest to ${zip} first.`);
  } catch (error) {
    if (error.code === "unknown_zip" || error.code === "validation_error") setFieldError("zip", messageFor(error));
    else showStepError("store-error", messageFor(error));
    focusField("zip");
  } finally {
    busy(button, false);
  }
}

function storeContinue(event) {
  event.preventDefault();
  clearErrors($("step-store"));
  const id = checkedValue("store");
  if (!id) {
    setFieldError("store-group", "Choose a store.");
    focusField("store-group");
    return;
  }
  const location = state.locations.find((l) => l.id === id);
  if (!state.location || state.location.id !== location.id) {
    state.location = location;
    state.slot = null;
  }
  renderServices();
  reveal("step-service");
}

// ------------------------------------------------------------------ 2. service and type
function offeredTypes(service) {
  const location = state.location;
  return TYPE_ORDER.filter((t) => service.appointment_types.includes(t) && location.appointment_types.includes(t));
}

function renderServices() {
  const offered = state.services.filter((service) => offeredTypes(service).length > 0);
  const chosen = checkedValue("service");
  $("service-list").replaceChildren(
    ...offered.map((service) =>
      choice(
        "service",
        service.id,
        service.name,
        [service.description, `About ${service.duration_minutes} minutes`],
        offered.length === 1 || service.id === chosen,
      ),
    ),
  );
  renderTypes();
}

function renderTypes() {
  const serviceId = checkedValue("service");
  const service = state.services.find((s) => s.id === serviceId);
  if (!service) {
    $("type-group").hidden = true;
    $("home-zip-field").hidden = true;
    return;
  }
  const chosen = checkedValue("type");
  const types = offeredTypes(service);
  $("type-list").replaceChildren(
    ...types.map((type) =>
      choice("type", type, TYPES[type].title, [TYPES[type].detail], types.length === 1 || type === chosen),
    ),
  );
  $("type-group").hidden = false;
  showHomeZip();
}

function showHomeZip() {
  const atHome = checkedValue("type") === "at_home";
  $("home-zip-field").hidden = !atHome;
  if (atHome && !value("home-zip") && state.searchZip) $("home-zip").value = state.searchZip;
}

async function serviceContinue(event) {
  event.preventDefault();
  clearErrors($("step-service"));
  const serviceId = checkedValue("service");
  const type = checkedValue("type");
  if (!serviceId) {
    setFieldError("service-group", "Choose a service.");
    focusField("service-group");
    return;
  }
  if (!type) {
    setFieldError("type-group", "Choose where the appointment takes place.");
    focusField("type-group");
    return;
  }
  let homeZip = null;
  if (type === "at_home") {
    homeZip = value("home-zip");
    if (!ZIP.test(homeZip)) {
      setFieldError("home-zip", FIELD_TEXT["home-zip"]);
      focusField("home-zip");
      return;
    }
  }
  const service = state.services.find((s) => s.id === serviceId);
  if (service !== state.service || type !== state.type || homeZip !== state.homeZip) state.slot = null;
  state.service = service;
  state.type = type;
  state.homeZip = homeZip;
  const button = $("service-continue");
  busy(button, true, "Finding free times…");
  const loaded = await loadSlots(false, "service-error");
  busy(button, false);
  if (!loaded) return;
  renderDays();
  reveal("step-time");
}

// ------------------------------------------------------------------ 3. date and time
async function loadSlots(append, errorBox) {
  const location = state.location;
  const query = {
    location_id: location.id,
    service_id: state.service.id,
    appointment_type: state.type,
    days: DAYS_PER_PAGE,
    zip: state.type === "at_home" ? state.homeZip : null,
    from: append ? state.nextFrom : null, // the first page starts today at the store
  };
  announce("Looking for free times…");
  let answer;
  try {
    answer = await api("GET", "/v1/availability", { query });
  } catch (error) {
    if (error.code === "zip_not_served" && setFieldError("home-zip", messageFor(error))) {
      focusField("home-zip");
    } else if (error.code === "validation_error") {
      showDetails(error, errorBox);
    } else {
      showStepError(errorBox, messageFor(error));
    }
    announce("");
    return false;
  }
  state.timezone = answer.timezone;
  const first = append ? state.nextFrom : todayIn(answer.timezone);
  state.nextFrom = addDays(first, DAYS_PER_PAGE);
  state.daysLoaded = append ? state.daysLoaded + DAYS_PER_PAGE : DAYS_PER_PAGE;
  state.slots = append ? state.slots.concat(answer.slots) : answer.slots;
  const days = new Set(answer.slots.map((slot) => slot.start.slice(0, 10))).size;
  announce(days ? `Free times on ${days} days.` : "No free times in these days.");
  return true;
}

function slotsByDay() {
  const days = new Map();
  for (const slot of state.slots) {
    const day = slot.start.slice(0, 10);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  return days;
}

function renderDays() {
  const zone = state.timezone;
  $("timezone-note").textContent = `Times are in ${zoneName(zone)} (${zone}), the store’s local time.`;
  const days = slotsByDay();
  let chosen = checkedValue("day");
  if (state.slot) chosen = state.slot.start.slice(0, 10);
  if (!days.has(chosen)) chosen = null;
  $("day-list").replaceChildren(
    ...Array.from(days.keys()).map((day) => {
      const [weekday, ...rest] = dayText(day, "short").split(", ");
      return chip("day", `day-${day}`, day, [el("strong", {}, `${weekday},`), ` ${rest.join(", ")}`], day === chosen);
    }),
  );
  $("no-times").hidden = days.size > 0;
  $("later-dates").hidden = state.daysLoaded >= MAX_DAYS_AHEAD;
  renderTimes(chosen);
}

function renderTimes(day) {
  const group = $("time-group");
  if (!day) {
    group.hidden = true;
    return;
  }
  const slots = slotsByDay().get(day) || [];
  // A new answer for the same search (a second "See free times") keeps the time the customer picked.
  const picked = state.slot ? state.slot.start : checkedValue("time");
  const zone = slots.length ? zoneAbbreviation(slots[0].start, state.timezone) : "";
  $("time-legend").textContent = `Times on ${dayText(day, "long")}${zone ? ` (${zone})` : ""}`;
  $("time-list").replaceChildren(
    ...slots.map((slot) => {
      const id = `time-${slot.start.slice(0, 16).replace(/[^0-9]/g, "")}`;
      return chip("time", id, slot.start, [timeOfDay(slot.start)], slot.start === picked);
    }),
  );
  group.hidden = false;
}

async function laterDates() {
  const button = $("later-dates");
  busy(button, true, "Loading…");
  clearErrors($("step-time"));
  const loaded = await loadSlots(true, "time-error");
  busy(button, false);
  if (loaded) renderDays();
}

function timeContinue(event) {
  event.preventDefault();
  clearErrors($("step-time"));
  const start = checkedValue("time");
  const slot = state.slots.find((s) => s.start === start);
  if (!slot) {
    if (!setFieldError("time-group", "Choose a time.")) setFieldError("day-group", "Choose a day, then a time.");
    focusField(isShown($("time-group")) ? "time-group" : "day-group");
    return;
  }
  state.slot = slot;
  showContactStep();
  if (state.identified && !state.needContact) {
    reveal("step-contact", { focus: false });
    renderBookStep();
    reveal("step-book");
  } else {
    reveal("step-contact");
  }
}

// ------------------------------------------------------------------ 4. details / known-source item
function showContactStep() {
  const known = Boolean(state.sourceToken);
  $("contact-heading").lastChild.textContent = known ? " Confirm it’s you" : " Your details";
  $("identity-form").hidden = !known || state.identified;
  $("identity-done").hidden = !(known && state.identified);
  $("contact-form").hidden = known && !state.needContact;
  $("channel-group").hidden = known;
  numberSteps();
}

function identityKindChanged() {
  const kind = checkedValue("identity-kind");
  const input = $("identity-value");
  $("identity-label").textContent = kind === "email" ? "Your e-mail address" : "Your phone number";
  input.type = kind === "email" ? "email" : "tel";
  input.autocomplete = kind === "email" ? "email" : "tel";
  input.value = "";
}

async function confirmIdentity(event) {
  event.preventDefault();
  clearErrors($("step-contact"));
  const kind = checkedValue("identity-kind") || "phone";
  const item = value("identity-value");
  if (!item) {
    setFieldError("identity-value", kind === "email" ? "Enter your e-mail address." : "Enter your phone number.");
    focusField("identity-value");
    return;
  }
  const body = { source_token: state.sourceToken, [kind]: item };
  const zip = state.homeZip || state.searchZip;
  if (zip) body.zip = zip;
  const button = $("identity-continue");
  busy(button, true, "Checking…");
  try {
    const answer = await api("POST", "/v1/identity/known-source", { body });
    state.verification = { token: answer.verification_token, channel: kind === "email" ? "email" : "sms", to: item };
    state.customer = answer.customer;
    state.linkVehicle = answer.vehicle || null;
    state.identified = true;
    $("identity-done").textContent = `Thank you, ${answer.customer.first_name}. We found your details.`;
    showContactStep();
    renderBookStep();
    reveal("step-book");
    announce(`Welcome back, ${answer.customer.first_name}.`);
  } catch (error) {
    if (error.code === "validation_error") {
      showDetails(error, "identity-error");
      return;
    }
    showStepError("identity-error", messageFor(error));
    focusField("identity-value");
  } finally {
    busy(button, false);
  }
}

function dropLink() {
  state.sourceToken = null;
  state.identified = false;
  state.needContact = false;
  state.verification = null;
  state.customer = null;
  state.linkVehicle = null;
  state.source = "web";
  $("link-banner").hidden = true;
  const url = new URL(window.location.href);
  url.searchParams.delete("src");
  window.history.replaceState(null, "", url.pathname + url.search);
  showContactStep();
  if (!$("step-contact").hidden) {
    hideAfter("step-contact");
    reveal("step-contact");
  } else {
    $("store-heading").focus();
  }
  announce("You’re booking without the link now.");
}

function contactProblems() {
  const problems = [];
  if (!value("first-name")) problems.push("first-name");
  if (!value("last-name")) problems.push("last-name");
  if ((value("phone").match(/\d/g) || []).length < 10) problems.push("phone");
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value("email"))) problems.push("email");
  return problems;
}

function contactContinue(event) {
  event.preventDefault();
  clearErrors($("step-contact"));
  const problems = contactProblems();
  for (const id of problems) setFieldError(id, FIELD_TEXT[id]);
  if (problems.length) {
    focusField(problems[0]);
    return;
  }
  if (state.sourceToken) {
    // A known-source customer whose record lacked details: book with what they typed.
    renderBookStep();
    reveal("step-book");
    return;
  }
  if (verificationNeeded() && !verifiedFor()) {
    renderVerifyStep();
    reveal("step-verify");
    return;
  }
  renderBookStep();
  reveal("step-book");
}

// Whether ``sent`` ({channel, to}) still names what the customer typed.
function names(sent) {
  if (!sent) return false;
  return sent.channel === "sms" ? sent.to === value("phone") : sent.to === value("email");
}

// The verification still names the typed phone or e-mail (a changed one needs a new code).
function verifiedFor() {
  return names(state.verification);
}

function contactChanged() {
  if (state.sourceToken) return;
  const stale = (state.verification && !verifiedFor()) || (state.codeSentTo && !names(state.codeSentTo));
  if (!stale) return;
  state.verification = null;
  state.customer = null;
  state.codeSentTo = null;
  $("code-sent").hidden = true;
  hideAfter("step-contact");
}

// ------------------------------------------------------------------ 5. one-time code
function renderVerifyStep() {
  const channels = (state.shop.verification_channels || []).filter((c) => c === "sms" || c === "email");
  const chosen = checkedValue("verify-channel") || channels[0];
  $("verify-channel-list").replaceChildren(
    ...channels.map((channel) =>
      choice(
        "verify-channel",
        channel,
        channel === "sms" ? "Text message" : "E-mail",
        [channel === "sms" ? `to ${value("phone")}` : `to ${value("email")}`],
        channel === chosen,
      ),
    ),
  );
  numberSteps();
}

let cooldownTimer = null;

function cooldown(seconds) {
  const button = $("send-code");
  window.clearInterval(cooldownTimer);
  let left = Math.max(0, Math.ceil(seconds));
  const tick = () => {
    if (left <= 0) {
      window.clearInterval(cooldownTimer);
      button.disabled = false;
      button.textContent = state.codeSentTo ? "Send a new code" : "Send code";
      return;
    }
    button.disabled = true;
    button.textContent = `Send a new code (in ${left} s)`;
    left -= 1;
  };
  tick();
  cooldownTimer = window.setInterval(tick, 1000);
}

async function sendCode() {
  clearErrors($("step-verify"));
  const channel = checkedValue("verify-channel");
  if (!channel) {
    showStepError("verify-error", "Choose how we should send the code.");
    return;
  }
  const to = channel === "sms" ? value("phone") : value("email");
  const button = $("send-code");
  busy(button, true, "Sending…");
  try {
    const answer = await api("POST", "/v1/verification/codes", { body: { channel, to } });
    busy(button, false);
    state.codeSentTo = { channel, to };
    const sent = $("code-sent");
    sent.textContent = `We sent a code to ${to}. It expires in ${Math.round(answer.expires_in / 60)} minutes.`;
    sent.hidden = false;
    announce(sent.textContent);
    cooldown(answer.resend_after);
    $("code").value = "";
    $("code").focus();
  } catch (error) {
    busy(button, false);
    if (error.code === "validation_error") {
      const id = channel === "sms" ? "phone" : "email";
      showStepError(
        "verify-error",
        channel === "sms"
          ? "We can’t send a text to that phone number. Check it in “Your details”."
          : "We can’t send an e-mail to that address. Check it in “Your details”.",
      );
      setFieldError(id, FIELD_TEXT[id]);
    } else if (error.code === "sms_unavailable" && state.shop.verification_channels.includes("email")) {
      // The shop's cap on text messages holds: offer the code by e-mail only, chosen.
      state.shop.verification_channels = ["email"];
      renderVerifyStep();
      showStepError("verify-error", messageFor(error));
    } else {
      showStepError("verify-error", messageFor(error));
      if (error.code === "too_many_requests") cooldown(error.retryAfter || 60);
    }
  }
}

async function verifyCode(event) {
  event.preventDefault();
  clearErrors($("step-verify"));
  const code = value("code").replace(/\s+/g, "");
  if (!state.codeSentTo) {
    showStepError("verify-error", "Send a code first: choose how, then press “Send code”.");
    $("send-code").focus();
    return;
  }
  if (!/^\d{6}$/.test(code)) {
    setFieldError("code", FIELD_TEXT.code);
    focusField("code");
    return;
  }
  const body = { to: state.codeSentTo.to, code };
  const zip = state.homeZip || state.searchZip;
  if (zip) body.zip = zip;
  const button = $("verify-code");
  busy(button, true, "Checking…");
  try {
    const answer = await api("POST", "/v1/verification/checks", { body });
    state.verification = { token: answer.verification_token, ...state.codeSentTo };
    state.customer = answer.returning_customer ? answer.customer : null;
    renderBookStep();
    reveal("step-book");
    announce(state.customer ? `Welcome back, ${state.customer.first_name}.` : "Thank you. You’re confirmed.");
  } catch (error) {
    if (error.code === "invalid_code") {
      setFieldError("code", messageFor(error));
      focusField("code");
    } else {
      showStepError("verify-error", messageFor(error));
      if (error.code === "code_expired") {
        $("code").value = "";
        $("send-code").focus();
      }
    }
  } finally {
    busy(button, false);
  }
}

// ------------------------------------------------------------------ 6. vehicle, address, book
function renderBookStep() {
  const customer = state.customer;
  const welcome = $("welcome");
  welcome.hidden = !customer;
  if (customer) welcome.textContent = `Welcome back, ${customer.first_name}!`;

  // Vehicles: a returning customer's own, plus another one.
  const vehicles = customer ? [...customer.vehicles] : [];
  const linked = state.linkVehicle;
  if (linked && !vehicles.some((v) => v.id === linked.id)) vehicles.unshift(linked);
  const chosenVehicle = checkedValue("vehicle") || (linked ? linked.id : null);
  $("vehicle-list").replaceChildren(
    ...(vehicles.length
      ? [
          ...vehicles.map((v) => choice("vehicle", v.id, v.label, [], v.id === chosenVehicle)),
          choice("vehicle", "new", "Another vehicle", [], chosenVehicle === "new"),
        ]
      : []),
  );
  vehicleChanged();

  // Addresses (at home): a returning customer's, masked, plus another one.
  const atHome = state.type === "at_home";
  $("address-group").hidden = !atHome;
  const addresses = customer && atHome ? customer.addresses : [];
  const chosenAddress = checkedValue("address");
  $("address-list").replaceChildren(
    ...(addresses.length
      ? [
          ...addresses.map((a) => choice("address", a.id, a.masked, [], a.id === chosenAddress)),
          choice("address", "new", "Another address", [], chosenAddress === "new"),
        ]
      : []),
  );
  if (atHome && !value("address-zip") && state.homeZip) $("address-zip").value = state.homeZip;
  addressChanged();

  renderSummary($("summary"), state.slot.start);
  $("book-submit").textContent = state.shop.booking_mode === "instant" ? "Book appointment" : "Request appointment";
  numberSteps();
}

function vehicleChanged() {
  const hasList = $("vehicle-list").childElementCount > 0;
  $("vehicle-fields").hidden = hasList && checkedValue("vehicle") !== "new";
}

function addressChanged() {
  const hasList = $("address-list").childElementCount > 0;
  $("address-fields").hidden = hasList && checkedValue("address") !== "new";
}

function whereText() {
  if (state.type === "online") return "Online (video call)";
  if (state.type === "at_home") return `At your address (${storeName()})`;
  return `${state.location.name}, ${addressText(state.location.address)}`;
}

function renderSummary(list, start) {
  const rows = [
    ["When", longWhen(start)],
    ["Where", whereText()],
    ["Service", state.service.name],
  ];
  list.replaceChildren(...rows.flatMap(([term, detail]) => [el("dt", {}, term), el("dd", {}, detail)]));
}

// The request body, or null with the problems shown at the fields.
function bookingBody() {
  const problems = [];
  const body = {
    location_id: state.location.id,
    service_id: state.service.id,
    appointment_type: state.type,
    start: state.slot.start,
    source: state.source,
  };
  const contactShown = !state.sourceToken || state.needContact;
  if (contactShown) {
    for (const id of contactProblems()) problems.push([id, FIELD_TEXT[id]]);
    body.customer = {
      first_name: value("first-name"),
      last_name: value("last-name"),
      phone: value("phone"),
      email: value("email"),
    };
    if (!state.sourceToken) body.preferred_channel = checkedValue("preferred-channel") || "email";
  }
  const vehicle = checkedValue("vehicle");
  if (vehicle && vehicle !== "new") {
    body.vehicle_id = vehicle;
  } else if ($("vehicle-list").childElementCount > 0 && !vehicle) {
    problems.push(["vehicle-group", "Choose a vehicle."]);
  } else {
    const year = value("vehicle-year");
    const next = new Date().getFullYear() + 2;
    if (!/^\d{4}$/.test(year) || Number(year) < 1900 || Number(year) > next) problems.push(["vehicle-year", FIELD_TEXT["vehicle-year"]]);
    if (!value("vehicle-make")) problems.push(["vehicle-make", FIELD_TEXT["vehicle-make"]]);
    if (!value("vehicle-model")) problems.push(["vehicle-model", FIELD_TEXT["vehicle-model"]]);
    const vin = value("vehicle-vin").toUpperCase();
    if (vin && !/^[A-HJ-NPR-Z0-9]{17}$/.test(vin)) problems.push(["vehicle-vin", FIELD_TEXT["vehicle-vin"]]);
    body.vehicle = { year: Number(year), make: value("vehicle-make"), model: value("vehicle-model") };
    if (vin) body.vehicle.vin = vin;
  }
  if (state.type === "at_home") {
    const address = checkedValue("address");
    if (address && address !== "new") {
      body.address_id = address;
    } else if ($("address-list").childElementCount > 0 && !address) {
      problems.push(["address-group", "Choose an address."]);
    } else {
      const typed = {
        line1: value("address-line1"),
        line2: value("address-line2") || null,
        city: value("address-city"),
        state: value("address-state").toUpperCase(),
        zip: value("address-zip"),
      };
      if (!typed.line1) problems.push(["address-line1", FIELD_TEXT["address-line1"]]);
      if (!typed.city) problems.push(["address-city", FIELD_TEXT["address-city"]]);
      if (!/^[A-Z]{2}$/.test(typed.state)) problems.push(["address-state", FIELD_TEXT["address-state"]]);
      if (!ZIP.test(typed.zip)) problems.push(["address-zip", FIELD_TEXT["address-zip"]]);
      if (!typed.line2) delete typed.line2;
      body.address = typed;
    }
  }
  const notes = value("notes");
  if (notes) body.notes = notes;
  if (problems.length) {
    for (const [id, text] of problems) setFieldError(id, text);
    showStepError("book-error", "Please check the highlighted fields.");
    focusField(problems[0][0]);
    return null;
  }
  return body;
}

async function bookSubmit(event) {
  event.preventDefault();
  clearErrors($("step-contact"));
  clearErrors($("step-book"));
  $("alternatives").hidden = true;
  $("retry-booking").hidden = true;
  const body = bookingBody();
  if (body) await submitBooking(JSON.stringify(body));
}

// One Idempotency-Key per attempt: the same booking sent again (a retry) reuses it, so it is
// never booked twice; a changed booking is a new attempt with a new key.
async function submitBooking(text) {
  if (!state.attempt || state.attempt.body !== text) state.attempt = { key: newKey(), body: text };
  const headers = { "Idempotency-Key": state.attempt.key };
  if (state.verification) headers.Authorization = `Bearer ${state.verification.token}`;
  const button = $("book-submit");
  busy(button, true, "Booking…");
  $("retry-booking").hidden = true;
  try {
    const answer = await api("POST", "/v1/appointments", { body: text, headers });
    state.attempt = null;
    showDone(answer);
  } catch (error) {
    bookingFailed(error);
  } finally {
    busy(button, false);
  }
}

function retryBooking() {
  clearErrors($("step-book"));
  if (state.attempt) submitBooking(state.attempt.body);
}

function bookingFailed(error) {
  switch (error.code) {
    case "slot_unavailable":
      offerAlternatives(error.error.alternatives || []);
      return;
    case "verification_required":
      state.shop.require_verification = true;
      state.verification = null;
      state.customer = null;
      if (state.sourceToken) {
        showStepError("book-error", messageFor(error));
        return;
      }
      renderVerifyStep();
      showStepError("verify-error", messageFor(error));
      showStepError("book-error", messageFor(error));
      reveal("step-verify");
      return;
    case "invalid_verification_token":
      state.verification = null;
      state.customer = null;
      if (state.sourceToken) {
        state.identified = false;
        showContactStep();
        showStepError("identity-error", messageFor(error));
        reveal("step-contact");
      } else {
        renderVerifyStep();
        showStepError("verify-error", messageFor(error));
        reveal("step-verify");
      }
      showStepError("book-error", messageFor(error));
      return;
    case "booking_not_available": {
      const phone = error.error.phone || state.location.phone;
      const call = el("a", { href: `tel:${phone}` }, phoneText(phone));
      showStepError(
        "book-error",
        el("p", {}, `We can’t book this appointment online. Please call ${storeName()} at `, call, " to book."),
      );
      $("book-error").scrollIntoView({ block: "center" });
      return;
    }
    case "validation_error":
    case "zip_not_served":
    case "appointment_type_not_offered":
      if (error.code === "zip_not_served" && state.type === "at_home") {
        const zip = $("address-fields").hidden ? null : value("address-zip");
        const text = `${storeName()} doesn’t come to ZIP code ${zip || state.homeZip}. Choose another address, or a visit at the store.`;
        if (!zip || !setFieldError("address-zip", text)) setFieldError("address-group", text);
        showStepError("book-error", text);
        focusField(zip ? "address-zip" : "address-group");
        return;
      }
      showDetails(error, "book-error");
      return;
    case "customer_changed":
    case "request_in_progress":
    case "idempotency_key_reused":
      if (error.code === "idempotency_key_reused") state.attempt = null;
      showStepError("book-error", messageFor(error));
      showRetry();
      return;
    default:
      showStepError("book-error", messageFor(error));
      if (error.status === 0 || error.status >= 500 || error.status === 429) showRetry();
  }
}

function showRetry() {
  const retry = $("retry-booking");
  retry.hidden = !state.attempt;
  if (state.attempt) retry.focus();
}

// 422 details (and the like) at their fields; what has no field on screen goes to ``box``.
// True when at least one detail was shown at a field.
function showDetails(error, box) {
  const details = Array.isArray(error.error.details) ? error.error.details : [];
  let first = null;
  const unplaced = [];
  for (const detail of details) {
    const name = fieldName(detail.field);
    if ((name === "customer" || name.startsWith("customer.")) && state.sourceToken && $("contact-form").hidden) {
      // A known-source customer whose record lacks details: ask for them after all.
      state.needContact = true;
      showContactStep();
      $("step-contact").hidden = false;
    }
    const target = name === "customer" ? "first-name" : FIELD_TARGETS[name];
    const text = detailText(target, detail);
    if (target && setFieldError(target, text)) first = first || target;
    else unplaced.push(text);
  }
  if (box) {
    let headline = messageFor(error);
    if (first) headline = "Please check the highlighted fields.";
    else if (error.code === "validation_error") headline = error.message || "Some details aren’t right.";
    showStepError(box, headline, ...unplaced);
  }
  if (first) focusField(first);
  return Boolean(first);
}

function offerAlternatives(alternatives) {
  const taken = state.slot ? state.slot.start : null;
  state.slots = state.slots.filter((s) => s.start !== taken);
  const box = $("alternatives");
  const list = $("alternative-list");
  if (!alternatives.length) {
    showStepError("book-error", messageFor({ code: "slot_unavailable" }), "Please choose another time.");
    state.slot = null;
    renderDays();
    reveal("step-time");
    return;
  }
  showStepError("book-error", `${messageFor({ code: "slot_unavailable" })} Choose one of these times instead:`);
  list.replaceChildren(
    ...alternatives.map((alternative) => {
      const button = el("button", { type: "button", className: "secondary alternative" }, `Book ${shortWhen(alternative.start)}`);
      button.addEventListener("click", () => chooseAlternative(alternative));
      return button;
    }),
  );
  $("alternatives-intro").textContent = "These times are free:";
  box.hidden = false;
  list.querySelector("button").focus();
}

async function chooseAlternative(alternative) {
  if (!state.slots.some((s) => s.start === alternative.start)) {
    state.slots.push(alternative);
    state.slots.sort((a, b) => (a.start < b.start ? -1 : 1));
  }
  state.slot = alternative;
  renderDays();
  renderSummary($("summary"), alternative.start);
  $("alternatives").hidden = true;
  clearErrors($("step-book"));
  const body = bookingBody();
  if (body) await submitBooking(JSON.stringify(body));
}

// ------------------------------------------------------------------ confirmation
function showDone(answer) {
  const appointment = answer.appointment;
  for (const step of STEPS) $(step).hidden = true;
  $("link-banner").hidden = true;
  const confirmed = appointment.status === "confirmed";
  $("done-heading").textContent = confirmed ? "You’re booked" : "Request received";
  const status = $("done-status");
  status.textContent = confirmed ? "Confirmed" : "Requested: waiting for the store to confirm";
  status.className = confirmed ? "status status-confirmed" : "status";
  $("done-message").textContent = confirmed
    ? `See you ${longWhen(appointment.start)}.`
    : `${storeName()} will confirm your appointment shortly. We’ll send you a message when they do.`;
  renderSummary($("done-summary"), appointment.start);
  const manage = $("manage-link");
  const url = safeUrl(answer.manage_url);
  manage.href = url || "#";
  manage.hidden = !url;
  $("book-again").href = `${BASE}/book`;
  $("step-done").hidden = false;
  document.title = `${confirmed ? "Booked" : "Request received"} · ${state.shop.name}`;
  $("done-heading").focus({ preventScroll: true });
  $("step-done").scrollIntoView({ block: "start" });
  announce(`${$("done-heading").textContent}. ${longWhen(appointment.start)}.`);
}

function safeUrl(raw) {
  try {
    const url = new URL(raw, window.location.origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ start
async function loadShop() {
  $("page-error").replaceChildren();
  $("loading").hidden = false;
  let answer;
  try {
    answer = await api("GET", "/v1/shop");
  } catch (error) {
    $("loading").hidden = true;
    const again = el("button", { type: "button", className: "secondary" }, "Try again");
    again.addEventListener("click", loadShop);
    $("page-error").replaceChildren(el("p", {}, messageFor(error)), again);
    return;
  }
  state.shop = answer.shop;
  state.locations = answer.locations;
  state.services = answer.services;
  $("shop-name").textContent = answer.shop.name;
  document.title = `Book an appointment · ${answer.shop.name}`;
  renderStores(state.locations, null);
  $("loading").hidden = true;
  $("link-banner").hidden = !state.sourceToken;
  if (state.linkProblem) $("page-error").replaceChildren(el("p", {}, state.linkProblem));
  showContactStep();
  reveal("step-store", { focus: false });
}

function readLink() {
  const params = new URLSearchParams(window.location.search);
  const src = params.get("src");
  if (src !== null) {
    if (SOURCE_TOKEN.test(src)) {
      state.sourceToken = src;
      state.source = "link";
    } else {
      state.linkProblem = "This booking link isn’t complete (it may have been cut off). You can still book below.";
    }
  }
  const source = params.get("source");
  if (!state.sourceToken && source && SOURCE_NAME.test(source)) state.source = source;
}

function bind() {
  $("zip-form").addEventListener("submit", searchStores);
  $("store-form").addEventListener("submit", storeContinue);
  $("store-list").addEventListener("change", () => hideAfter("step-store"));
  $("service-form").addEventListener("submit", serviceContinue);
  $("service-list").addEventListener("change", () => {
    renderTypes();
    hideAfter("step-service");
  });
  $("type-list").addEventListener("change", () => {
    showHomeZip();
    hideAfter("step-service");
  });
  $("home-zip").addEventListener("input", () => hideAfter("step-service"));
  $("time-form").addEventListener("submit", timeContinue);
  $("day-list").addEventListener("change", () => {
    renderTimes(checkedValue("day"));
    hideAfter("step-time");
  });
  $("time-list").addEventListener("change", () => hideAfter("step-time"));
  $("later-dates").addEventListener("click", laterDates);
  $("identity-form").addEventListener("submit", confirmIdentity);
  for (const input of document.querySelectorAll('input[name="identity-kind"]')) {
    input.addEventListener("change", identityKindChanged);
  }
  $("drop-link").addEventListener("click", dropLink);
  $("contact-form").addEventListener("submit", contactContinue);
  $("phone").addEventListener("input", contactChanged);
  $("email").addEventListener("input", contactChanged);
  $("send-code").addEventListener("click", sendCode);
  $("verify-form").addEventListener("submit", verifyCode);
  $("vehicle-list").addEventListener("change", vehicleChanged);
  $("address-list").addEventListener("change", addressChanged);
  $("book-form").addEventListener("submit", bookSubmit);
  $("retry-booking").addEventListener("click", retryBooking);
}

bind();
readLink();
loadShop();
