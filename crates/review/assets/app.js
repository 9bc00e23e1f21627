// Deskhand review UI. Plain JavaScript, no build step. Every piece of data is put on the
// page with textContent (never innerHTML), so an email cannot inject markup.
"use strict";

const TOPICS = ["product_availability_or_recommendation", "delivery_delay", "transaction_inquiry", "billing_dispute", "other"];
const URGENCIES = ["urgent", "high", "medium", "low"];
const ROUTES = ["product", "delivery", "answer", "order", "escalate", "no_reply"];
const STATUSES = ["pending", "escalated", "approved", "rejected", "stale", "closed", "all"];
const PAGE = 50;

const state = {
  me: null, csrf: null,
  queue: { status: "pending", topic: "", urgency: "", route: "", q: "", offset: 0, items: [], selected: 0 },
  draft: null, // { id, version, detail }
  busy: false,
};

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const cents = (n) => `$${(n / 100).toFixed(2)}`;
function ago(iso) {
  const ms = Date.now() - new Date(iso).getTime();
  const m = Math.round(ms / 60000);
  if (m < 60) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}
const label = (s) => String(s || "").replaceAll("_", " ");

async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await response.text();
  if (text) { try { data = JSON.parse(text); } catch { data = { message: text }; } }
  if (response.status === 401 && path !== "/api/session") { showLogin(); throw new Error("signed out"); }
  if (!response.ok) {
    const error = new Error((data && data.message) || `HTTP ${response.status}`);
    error.status = response.status; error.code = data && data.error; error.data = data;
    throw error;
  }
  return data;
}

// ---- views and routing ----------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === view);
}

function showLogin() {
  state.me = null; state.csrf = null;
  $("nav").hidden = true; $("sign-out").hidden = true; $("who").textContent = "";
  show("login");
  $("token").focus();
}

async function route() {
  if (!state.me) return;
  const hash = location.hash || "#/queue";
  const draft = hash.match(/^#\/drafts\/([0-9a-f-]{36})$/);
  if (draft) return openDraft(draft[1]);
  if (hash === "#/stats") return loadStats();
  if (hash === "#/audit") return loadAudit();
  return loadQueue();
}

async function start() {
  try {
    const me = await api("GET", "/api/me");
    signedIn(me);
  } catch { showLogin(); }
}

function signedIn(me) {
  state.me = me.reviewer; state.csrf = me.csrf_token;
  $("nav").hidden = false; $("sign-out").hidden = false;
  $("nav-audit").hidden = !(state.me.role === "lead" || state.me.role === "admin");
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  route();
}

// ---- queue ------------------------------------------------------------------------------

function queueParams(extra = {}) {
  const q = { ...state.queue, ...extra };
  const params = new URLSearchParams({ status: q.status, limit: PAGE, offset: q.offset });
  for (const key of ["topic", "urgency", "route", "q"]) if (q[key]) params.set(key, q[key]);
  return params;
}

async function loadQueue() {
  show("queue");
  const data = await api("GET", `/api/drafts?${queueParams()}`);
  state.queue.items = data.items;
  state.queue.selected = Math.min(state.queue.selected, Math.max(0, data.items.length - 1));
  renderTabs(data.counts);
  const rows = $("queue-rows");
  rows.replaceChildren(...data.items.map((item, i) => {
    const urgencyClass = item.urgency === "urgent" || item.urgency === "high" ? item.urgency : "";
    const tr = el("tr", {
      class: [`urgency-${item.urgency}`, item.sla_breached ? "breach" : "", i === state.queue.selected ? "selected" : ""].join(" "),
      "data-id": item.draft_id,
      onclick: () => { location.hash = `#/drafts/${item.draft_id}`; },
    },
      el("td", {}, el("span", { class: `pill ${urgencyClass}` }, item.urgency)),
      el("td", {}, item.subject || "(no subject)", el("div", { class: "muted" }, item.summary)),
      el("td", {}, item.from || ""),
      el("td", {}, label(item.topic), el("div", { class: "muted" }, tone(item))),
      el("td", {}, label(item.route)),
      el("td", {}, item.action_count ? `${item.action_count} (${cents(item.action_cents)})` : "—"),
      el("td", {}, item.sla_breached ? el("span", { class: "pill breach" }, `SLA ${ago(item.due_at)} over`) : ago(item.email_received_at),
        item.delivery ? el("div", { class: "muted" }, item.delivery) : null),
    );
    return tr;
  }));
  $("queue-empty").hidden = data.items.length > 0;
  const from = data.total ? state.queue.offset + 1 : 0;
  $("page-info").textContent = `${from}–${state.queue.offset + data.items.length} of ${data.total}`;
  $("prev-page").disabled = state.queue.offset === 0;
  $("next-page").disabled = state.queue.offset + data.items.length >= data.total;
}

function renderTabs(counts) {
  $("status-tabs").replaceChildren(...STATUSES.map((status) => el("button", {
    class: status === state.queue.status ? "active" : "", role: "tab",
    onclick: () => { state.queue.status = status; state.queue.offset = 0; state.queue.selected = 0; loadQueue(); },
  }, status === "all" ? "all" : `${status} ${counts[status] ?? 0}`)));
}

function moveSelection(delta) {
  const rows = [...$("queue-rows").children];
  if (!rows.length) return;
  state.queue.selected = Math.max(0, Math.min(rows.length - 1, state.queue.selected + delta));
  rows.forEach((row, i) => row.classList.toggle("selected", i === state.queue.selected));
  rows[state.queue.selected].scrollIntoView({ block: "nearest" });
}

// ---- one draft ----------------------------------------------------------------------------

async function openDraft(id) {
  show("draft");
  $("d-error").textContent = ""; $("d-status").textContent = ""; $("reason-box").hidden = true;
  const detail = await api("GET", `/api/drafts/${id}`);
  state.draft = { id, version: detail.summary.version, detail };
  renderDraft(detail);
}

/** "de · negative, frustrated 80%": the customer's language and tone, when known. */
function tone(item) {
  const parts = [];
  if (item.language) parts.push(item.language);
  if (item.sentiment) {
    const frustrated = item.frustration >= 0.5 ? `, frustrated ${(item.frustration * 100).toFixed(0)}%` : "";
    parts.push(`${item.sentiment}${frustrated}`);
  }
  return parts.join(" · ");
}

function renderDraft(detail) {
  const s = detail.summary, d = detail.draft, email = d.email || {};
  $("d-subject").textContent = email.subject || "(no subject)";
  const badges = [el("span", { class: `pill ${s.urgency === "urgent" || s.urgency === "high" ? s.urgency : ""}` }, s.urgency),
    " ", el("span", { class: "pill" }, s.status)];
  if (s.sla_breached) badges.push(" ", el("span", { class: "pill breach" }, "SLA breached"));
  $("d-badges").replaceChildren(...badges);
  const banner = $("d-banner");
  banner.hidden = true; banner.className = "banner";
  if (d.escalation) { banner.hidden = false; banner.textContent = `Escalated by the agent: ${d.escalation.reason}`; }
  if (s.urgency === "urgent") { banner.hidden = false; banner.classList.add("urgent"); if (!d.escalation) banner.textContent = "Urgent: answer within the hour."; }

  $("d-from").textContent = `${email.customer_name ? email.customer_name + " · " : ""}${email.from || "unknown sender"} · received ${email.received_at ? new Date(email.received_at).toLocaleString() : "?"} · case ${s.case_id} · customer ${s.customer_id}`;
  $("d-text").textContent = email.text || "(the draft event carries no email)";
  $("d-original").textContent = email.original_text || (email.original_raw ? atobUtf8(email.original_raw) : email.full_text || "");

  const evidence = (d.observations || []).map((o) => el("li", {},
    el("div", { class: "source" }, o.source === "knowledge" && o.data && o.data.passage
      ? `policy: ${o.data.passage}` : o.source),
    el("div", {}, o.text),
    o.source === "knowledge" && o.data && o.data.passage ? passageFlags(o.data.passage) : null));
  $("d-evidence").replaceChildren(...(evidence.length ? evidence : [el("li", { class: "muted" }, "No tool gathered evidence for this email.")]));

  const history = [];
  const memory = detail.memory || {};
  if (memory.rolling_summary) history.push(el("div", { class: "history-item" }, el("div", { class: "muted" }, "Earlier"), memory.rolling_summary));
  for (const entry of memory.entries || []) history.push(el("div", { class: `history-item ${entry.speaker}` }, el("div", { class: "muted" }, entry.speaker), entry.summary));
  for (const other of detail.case_drafts || []) history.push(el("div", { class: "history-item" },
    el("div", { class: "muted" }, `Draft ${other.draft_id.slice(0, 8)} · ${other.status} · ${new Date(other.email_received_at).toLocaleString()}`), other.summary));
  for (const decision of detail.decisions || []) history.push(el("div", { class: "history-item agent" },
    el("div", { class: "muted" }, `${decision.kind} by ${decision.reviewer} · ${new Date(decision.decided_at).toLocaleString()}`),
    decision.reason || (decision.edited ? "reply edited" : decision.kind === "approve" ? "sent as drafted" : "")));
  $("d-history").replaceChildren(...(history.length ? history : [el("p", { class: "muted" }, "First email of this case.")]));

  const trace = d.trace || { nodes: [] };
  $("d-trace").replaceChildren(el("table", { class: "trace-table" },
    ...trace.nodes.map((n) => el("tr", {}, el("td", {}, n.node), el("td", {}, `${n.duration_ms.toFixed(1)} ms`), el("td", { class: "muted" }, n.note || "")))),
    el("p", { class: "muted" }, `${d.engine} · ${trace.llm_calls || 0} model calls · ${trace.prompt_tokens || 0}+${trace.completion_tokens || 0} tokens · $${(trace.cost_usd || 0).toFixed(4)} · trace ${d.trace_id}`));

  const c = d.classification;
  const heard = tone({ language: c.language, sentiment: c.tone && c.tone.sentiment, frustration: c.tone && c.tone.frustration });
  $("d-classification").textContent = `${label(c.topic)} · ${c.urgency} · confidence ${(c.confidence * 100).toFixed(0)}% · route ${label(d.route)}${heard ? ` · ${heard}` : ""}`;
  // The subject that will be sent; without a drafted reply, the server answers under
  // "Re:" and the customer's subject unless the reviewer writes one.
  const subject = $("d-reply-subject");
  subject.value = d.reply ? d.reply.subject : "";
  subject.placeholder = d.reply ? "" : `Re: ${email.subject || "your message"}`;
  const reply = $("d-reply");
  reply.value = d.reply ? d.reply.body : "";
  reply.placeholder = d.reply ? "" : "The agent proposes no reply. Write one to approve, or reject / escalate.";

  const limit = detail.policy.reviewer_max_action_cents;
  const isLead = state.me.role !== "reviewer";
  // What each action counts against a reviewer's limit: a refund or a cancellation what it
  // pays back, a coupon its value, an address change or a return the value of its order.
  const worth = (a) => {
    if (a.type === "issue_coupon") return detail.policy.coupon_value_cents;
    const p = a.params || {};
    return p.amount_cents || p.order_total_cents || 0;
  };
  // An address change is shown as what it replaces and what it becomes, line by line.
  const addressDiff = (p) => el("div", { class: "address-diff" },
    el("div", { class: "from" }, el("strong", {}, "From: "), p.from ? p.from.split("\n").join(", ") : "no address on file"),
    el("div", { class: "to" }, el("strong", {}, "To: "), (p.to || "").split("\n").join(", ")));
  const total = (d.proposed_actions || []).reduce((sum, a) => sum + worth(a), 0);
  const actions = (d.proposed_actions || []).map((a) => {
    const amount = a.params && a.params.amount_cents;
    const over = !isLead && total > limit;
    return el("label", { class: `action${over ? " over" : ""}` },
      el("input", { type: "checkbox", "data-action": a.id, checked: true }),
      el("span", {},
        el("div", {}, label(a.type), amount ? el("span", { class: "amount" }, ` ${cents(amount)}`) : null,
          a.params.coupon ? ` (${label(a.params.coupon)}, ${a.params.valid_days} days)` : ""),
        el("div", { class: "muted" }, a.params.reason || "", a.params.tracking_number ? ` · ${a.params.tracking_number}` : "",
          a.params.order_number ? ` · order ${a.params.order_number}` : "",
          a.type === "start_return" ? ` · code ${a.params.code}, window ends ${a.params.last_day}` : ""),
        a.type === "update_shipping_address" ? addressDiff(a.params) : null,
        over ? el("div", {}, `Together worth ${cents(total)}, over your limit of ${cents(limit)}: a lead must approve them.`) : null));
  });
  $("d-actions").replaceChildren(...(actions.length ? actions : [el("p", { class: "muted" }, "No actions proposed.")]));

  const open = s.status === "pending" || s.status === "escalated";
  // The labels a reviewer may correct while deciding, set to what the agent said.
  for (const [id, values] of [["d-topic", TOPICS], ["d-urgency", URGENCIES]]) {
    $(id).replaceChildren(...values.map((v) => el("option", { value: v }, label(v))));
  }
  $("d-topic").value = d.classification.topic; $("d-urgency").value = d.classification.urgency;
  $("d-topic").disabled = $("d-urgency").disabled = !open;
  for (const id of ["approve", "reject", "escalate"]) $(id).disabled = !open;
  $("escalate").disabled = !open || s.status === "escalated";
  // Closed on arrival as needing no reply: a reviewer who disagrees puts it in the queue.
  $("reopen").hidden = s.status !== "closed";
  reply.disabled = subject.disabled = !open;
  const outgoing = detail.outgoing;
  $("d-status").textContent = open ? `Version ${s.version}` :
    `This draft is ${s.status}${outgoing ? `; reply ${outgoing.status}${outgoing.last_error ? ` (last error: ${outgoing.last_error})` : ""}` : ""}.`;
}

function atobUtf8(b64) {
  try { return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))); } catch { return ""; }
}

async function decide(kind, reason) {
  if (state.busy || !state.draft) return;
  state.busy = true; $("d-error").textContent = "";
  const { id, version, detail } = state.draft;
  try {
    let body;
    const headers = { "Idempotency-Key": crypto.randomUUID() };
    if (kind === "approve") {
      const checked = [...document.querySelectorAll("[data-action]")].filter((c) => c.checked).map((c) => c.dataset.action);
      body = { version, action_ids: checked };
      const drafted = detail.draft.reply ? detail.draft.reply.body : null;
      const text = $("d-reply").value;
      if (text !== drafted) body.reply_body = text;
      const draftedSubject = detail.draft.reply ? detail.draft.reply.subject : "";
      const subjectText = $("d-reply-subject").value;
      if (subjectText.trim() !== "" && subjectText !== draftedSubject) body.reply_subject = subjectText;
    } else if (kind === "reject") body = { version, reason };
    else body = { version, note: reason };
    if (kind !== "escalate") {
      const correction = {};
      if ($("d-topic").value !== detail.draft.classification.topic) correction.topic = $("d-topic").value;
      if ($("d-urgency").value !== detail.draft.classification.urgency) correction.urgency = $("d-urgency").value;
      if (Object.keys(correction).length) body.correction = correction;
    }
    const result = await api("POST", `/api/drafts/${id}/${kind}`, body, headers);
    $("d-status").textContent = `${result.status}.`;
    await openNext(id);
  } catch (error) {
    $("d-error").textContent = error.message;
    if (error.code === "stale" || error.code === "already_decided") $("d-status").textContent = "Open the queue for the next draft (n).";
  } finally { state.busy = false; }
}

// A cited policy passage that is wrong or outdated is reported to the knowledge owner
// (GET /api/knowledge/feedback); the draft itself is decided as usual.
function passageFlags(passage) {
  const status = el("span", { class: "muted" });
  const flag = async (verdict) => {
    if (!state.draft) return;
    const note = window.prompt(`What is ${verdict} in this passage? (optional)`) ?? null;
    if (note === null) return;
    try {
      await api("POST", `/api/drafts/${state.draft.id}/passages/flag`, { passage, verdict, note });
      status.textContent = ` flagged ${verdict}`;
    } catch (error) { status.textContent = ` ${error.message}`; }
  };
  return el("div", { class: "passage-flags" },
    el("button", { type: "button", class: "link", onclick: () => flag("wrong") }, "Wrong"),
    " ",
    el("button", { type: "button", class: "link", onclick: () => flag("outdated") }, "Outdated"),
    status);
}

async function reopen() {
  if (state.busy || !state.draft) return;
  state.busy = true; $("d-error").textContent = "";
  const { id, version } = state.draft;
  try {
    await api("POST", `/api/drafts/${id}/reopen`, { version });
    await openDraft(id);
  } catch (error) {
    $("d-error").textContent = error.message;
  } finally { state.busy = false; }
}

// After a decision the next draft of the queue opens by itself.
async function openNext(decidedId) {
  const data = await api("GET", `/api/drafts?${queueParams({ offset: 0 })}`);
  const next = data.items.find((item) => item.draft_id !== decidedId);
  state.queue.selected = 0;
  location.hash = next ? `#/drafts/${next.draft_id}` : "#/queue";
}

function askReason(kind) {
  $("reason-box").hidden = false;
  $("reason-box").dataset.kind = kind;
  $("reason-label").textContent = kind === "reject" ? "Why reject? (kept in the audit log)" : "Note for the lead";
  $("reason").value = "";
  $("reason").focus();
}

// ---- stats and audit ---------------------------------------------------------------------

async function loadStats() {
  show("stats");
  const s = await api("GET", "/api/stats?hours=24");
  const open = Object.values(s.queue_by_urgency).reduce((a, b) => a + b, 0);
  const decided = s.per_topic.reduce((a, t) => a + t.decided, 0);
  const unedited = s.per_topic.reduce((a, t) => a + t.approved_unedited, 0);
  const fmt = (ms) => {
    if (ms == null) return "—";
    if (ms < 60e3) return `${(ms / 1e3).toFixed(1)} s`;
    if (ms < 120 * 60e3) return `${(ms / 60e3).toFixed(1)} min`;
    if (ms < 48 * 3600e3) return `${(ms / 3600e3).toFixed(1)} h`;
    return `${(ms / 86400e3).toFixed(1)} d`;
  };
  $("stat-tiles").replaceChildren(
    tile(open, "open drafts"), tile(s.escalated_open, "with a lead"), tile(s.sla.open_breaching, "open past SLA"),
    tile(decided ? `${Math.round(100 * unedited / decided)}%` : "—", "approved unedited"),
    tile(fmt(s.email_to_draft.p50_ms), "email → draft (p50)"), tile(fmt(s.draft_to_decision.p50_ms), "draft → decision (p50)"));
  $("chart-queue").replaceChildren(lineChart(s.queue_over_time.map((p) => [new Date(p.at), p.open])));
  $("chart-outcomes").replaceChildren(stackedBars(s.per_topic.map((t) => [label(t.topic), [t.approved_unedited, t.approved_edited, t.rejected]]),
    ["unedited", "edited", "rejected"], ["#1f7a3d", "#2456d6", "#c0262d"]));
  $("chart-latency").replaceChildren(stackedBars([
    ["email → draft", [s.email_to_draft.p50_ms || 0, Math.max(0, (s.email_to_draft.p95_ms || 0) - (s.email_to_draft.p50_ms || 0))]],
    ["draft → decision", [s.draft_to_decision.p50_ms || 0, Math.max(0, (s.draft_to_decision.p95_ms || 0) - (s.draft_to_decision.p50_ms || 0))]],
  ], ["p50", "p95"], ["#2456d6", "#93b4f5"], fmt));
  // How often reviewers corrected the agent's topic or urgency, per topic and per week.
  $("chart-corrections").replaceChildren(stackedBars(s.per_topic.map((t) => [label(t.topic), [t.corrected, t.decided - t.corrected]]),
    ["corrected", "as drafted"], ["#c0262d", "#1f7a3d"]));
  $("corrections-rows").replaceChildren(...s.corrections_over_time.map((w) => el("tr", {},
    el("td", {}, w.week), el("td", {}, label(w.topic)),
    el("td", {}, w.decided ? `${w.corrected} of ${w.decided} (${Math.round(100 * w.corrected / w.decided)}%)` : "—"))));
  $("chart-urgency").replaceChildren(stackedBars(URGENCIES.map((u) => [u, [s.queue_by_urgency[u] || 0]]), ["open"], ["#d9730d"]));
}

function tile(n, text) { return el("div", { class: "tile" }, el("div", { class: "n" }, n), el("div", { class: "l" }, text)); }

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function lineChart(points) {
  const w = 520, h = 180, pad = 30;
  const max = Math.max(1, ...points.map((p) => p[1]));
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v) => h - pad - (v * (h - 2 * pad)) / max;
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: "100%", role: "img", "aria-label": "open drafts over time" },
    svg("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#e2e5ea" }),
    svg("path", { d: path, fill: "none", stroke: "#2456d6", "stroke-width": 2 }),
    svg("text", { x: 2, y: y(max) + 4 }, max), svg("text", { x: 2, y: h - pad + 4 }, 0));
  if (points.length) {
    chart.append(svg("text", { x: pad, y: h - 8 }, points[0][0].toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    chart.append(svg("text", { x: w - pad - 30, y: h - 8 }, "now"));
  }
  return chart;
}

function stackedBars(rows, series, colors, fmt = (v) => v) {
  const w = 520, rowH = 26, left = 150, h = rows.length * rowH + 30;
  const max = Math.max(1, ...rows.map(([, values]) => values.reduce((a, b) => a + b, 0)));
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: "100%", role: "img" });
  rows.forEach(([name, values], i) => {
    let x = left;
    chart.append(svg("text", { x: 0, y: i * rowH + 17 }, name.length > 24 ? name.slice(0, 23) + "…" : name));
    values.forEach((v, j) => {
      const width = (v * (w - left - 60)) / max;
      if (width > 0) chart.append(svg("rect", { x, y: i * rowH + 5, width, height: rowH - 10, fill: colors[j] }, svg("title", {}, `${series[j]}: ${fmt(v)}`)));
      x += width;
    });
    chart.append(svg("text", { x: x + 4, y: i * rowH + 17 }, fmt(values.reduce((a, b) => a + b, 0))));
  });
  const legend = el("div", { class: "legend" }, ...series.map((s, j) => el("span", {}, el("i", { style: null }), s)));
  [...legend.querySelectorAll("i")].forEach((i, j) => { i.style.background = colors[j]; });
  return el("div", {}, chart, legend);
}

/** "corrected: topic → billing dispute" under an audit line, when the reviewer relabelled. */
function correctionNote(correction) {
  if (!correction) return null;
  const parts = Object.entries(correction).map(([field, value]) => `${field} → ${label(value)}`);
  return el("div", { class: "muted" }, `corrected: ${parts.join(", ")}`);
}

async function loadAudit() {
  show("audit");
  const data = await api("GET", "/api/audit?limit=200");
  $("audit-rows").replaceChildren(...data.entries.map((e) => el("tr", {},
    el("td", {}, new Date(e.at).toLocaleString()), el("td", {}, e.reviewer || "—"),
    el("td", {}, label(e.action), correctionNote(e.detail && e.detail.correction)),
    el("td", {}, e.draft_id ? el("a", { href: `#/drafts/${e.draft_id}` }, e.draft_id.slice(0, 8)) : "—"),
    el("td", {}, e.customer_id ?? "—"))));
}

// ---- wiring -------------------------------------------------------------------------------

function fillSelect(id, values) {
  $(id).append(...values.map((v) => el("option", { value: v }, label(v))));
  $(id).addEventListener("change", () => { state.queue[id.replace("filter-", "")] = $(id).value; state.queue.offset = 0; loadQueue(); });
}

document.addEventListener("DOMContentLoaded", () => {
  fillSelect("filter-topic", TOPICS); fillSelect("filter-urgency", URGENCIES); fillSelect("filter-route", ROUTES);
  let searchTimer;
  $("filter-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.queue.q = $("filter-q").value.trim(); state.queue.offset = 0; loadQueue(); }, 250);
  });
  $("prev-page").addEventListener("click", () => { state.queue.offset = Math.max(0, state.queue.offset - PAGE); loadQueue(); });
  $("next-page").addEventListener("click", () => { state.queue.offset += PAGE; loadQueue(); });
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const me = await api("POST", "/api/session", { token: $("token").value });
      $("token").value = "";
      signedIn(me);
    } catch (error) { $("login-error").textContent = error.status === 401 ? "That token is not valid." : error.message; }
  });
  $("sign-out").addEventListener("click", async () => { try { await api("DELETE", "/api/session"); } finally { showLogin(); } });
  $("approve").addEventListener("click", () => decide("approve"));
  $("reject").addEventListener("click", () => askReason("reject"));
  $("escalate").addEventListener("click", () => askReason("escalate"));
  $("reopen").addEventListener("click", reopen);
  $("reason-ok").addEventListener("click", () => { const kind = $("reason-box").dataset.kind; const r = $("reason").value.trim(); if (r) decide(kind, r); });
  $("reason-cancel").addEventListener("click", () => { $("reason-box").hidden = true; });
  $("reason").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); $("reason-ok").click(); } if (e.key === "Escape") $("reason-box").hidden = true; });

  document.addEventListener("keydown", (event) => {
    if (!state.me) return;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    const view = [...document.querySelectorAll(".view")].find((v) => !v.hidden);
    if (view && view.id === "view-draft" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); decide("approve"); return; }
    if (typing) { if (event.key === "Escape") document.activeElement.blur(); return; }
    if (view && view.id === "view-queue") {
      if (event.key === "j") moveSelection(1);
      else if (event.key === "k") moveSelection(-1);
      else if (event.key === "Enter") { const item = state.queue.items[state.queue.selected]; if (item) location.hash = `#/drafts/${item.draft_id}`; }
      else if (event.key === "/") { event.preventDefault(); $("filter-q").focus(); }
    } else if (view && view.id === "view-draft") {
      if (event.key === "a" && !$("approve").disabled) decide("approve");
      else if (event.key === "r" && !$("reject").disabled) askReason("reject");
      else if (event.key === "e" && !$("escalate").disabled) askReason("escalate");
      else if (event.key === "n" || event.key === "Escape") location.hash = "#/queue";
    }
  });
  window.addEventListener("hashchange", () => route().catch((e) => console.error(e)));
  start();
});
