// The pages of the workflow web view: each reads the JSON API under /api/ and draws it.
"use strict";

const STATES = ["done", "running", "retrying", "waiting", "interrupted", "failed", "canceled"];
const STATUSES = ["pending", "running", "successful", "failed", "canceled", "resumable"];
const main = document.getElementById("main");
const page = document.body.dataset.page;
const pageId = document.body.dataset.id;

// Builds an element: el("td", {class: "id"}, "text", child, ...).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch("api/" + path, options);
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// A change: POST with the header that proves it comes from this page.
function change(path, body) {
  return api(path, {
    method: "POST",
    headers: { "x-workflow-request": "1", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const when = (ms) => (ms == null ? "" : new Date(ms).toLocaleString());
function took(ms) {
  if (ms == null) return "";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 3600000) return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  return (ms / 3600000).toFixed(1) + " h";
}
const number = (n) => (n == null ? "" : Number(n).toLocaleString("en-US"));
const badge = (status) => el("span", { class: "badge " + status, "data-status": status }, status);
const showError = (where, error) => where.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
// Marks the page drawn once the browser has painted it (for tests and timings).
function drawn(name) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (window.__drawn === undefined) window.__drawn = performance.now();
    document.body.dataset.ready = name;
  }));
}

// ---- The workflows -------------------------------------------------------------------

async function listPage() {
  const params = new URLSearchParams(location.search);
  const state = { status: params.get("status") || "", prefix: params.get("prefix") || "", cursors: [""] };
  const counts = el("div", { class: "bar", id: "counts" });
  const search = el("input", { id: "search", type: "search", placeholder: "id prefix", value: state.prefix });
  const rows = el("tbody", { id: "rows" });
  const older = el("button", { id: "older" }, "Older");
  const newer = el("button", { id: "newer" }, "Newer");
  main.replaceChildren(
    el("h1", {}, "Workflows"), counts, el("div", { class: "bar" }, search),
    el("table", {}, el("thead", {}, el("tr", {}, ...["id", "status", "started", "duration", "tasks"].map((h) => el("th", {}, h)))), rows),
    el("div", { class: "pager" }, newer, older),
  );
  // A filtered page may come back empty with a cursor (the store reads a bounded number of
  // workflows per page): follow it a few times before saying there is nothing.
  let loading = 0;
  const load = async () => {
    const mine = ++loading;
    older.disabled = newer.disabled = true;
    const query = new URLSearchParams({ limit: "50" });
    if (state.status) query.set("status", state.status);
    if (state.prefix) query.set("prefix", state.prefix);
    history.replaceState(null, "", "./?" + new URLSearchParams({ status: state.status, prefix: state.prefix }));
    try {
      let after = state.cursors[state.cursors.length - 1];
      let page;
      for (let tries = 0; tries < 5; tries++) {
        if (after) query.set("after", after);
        page = await api("workflows?" + query);
        if (page.workflows.length || !page.next) break;
        after = page.next;
      }
      if (mine !== loading) return;
      rows.replaceChildren(...page.workflows.map((w) => el("tr", { "data-id": w.id },
        el("td", { class: "id" }, el("a", { href: "workflows/" + encodeURIComponent(w.id) }, w.id)),
        el("td", {}, badge(w.status)), el("td", {}, when(w.start_time || w.created_time)),
        el("td", {}, took(w.duration_ms)),
        el("td", {}, w.tasks_total == null ? "" : number(w.tasks_done) + " / " + number(w.tasks_total)))));
      if (!page.workflows.length) {
        const text = page.next ? "None among the workflows read so far: Older reads on." : "No workflows.";
        rows.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted" }, text)));
      }
      older.disabled = !page.next;
      older.onclick = () => { state.cursors.push(page.next); load(); };
      newer.disabled = state.cursors.length === 1;
    } catch (error) { if (mine === loading) showError(rows, error); }
  };
  newer.onclick = () => { if (state.cursors.length > 1) state.cursors.pop(); load(); };
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.prefix = search.value.trim(); state.cursors = [""]; load(); }, 250);
  });
  const drawCounts = (stats) => {
    const pick = (status) => () => { state.status = status; state.cursors = [""]; drawCounts(stats); load(); };
    counts.replaceChildren(
      el("button", { class: "count" + (state.status ? "" : " active"), "data-status": "", onclick: pick("") }, "all " + number(stats.workflows)),
      ...STATUSES.map((s) => el("button", { class: "count" + (state.status === s ? " active" : ""), "data-status": s, onclick: pick(s) },
        s + " " + number(stats.by_status[s] || 0))),
      el("a", { href: "actors", class: "muted" }, number(stats.actors) + " actors"));
  };
  // Drawn once both the rows and the counts are.
  Promise.all([load(), api("stats").then(drawCounts, (error) => showError(counts, error))]).then(() => drawn("list"));
}

// ---- One workflow --------------------------------------------------------------------

async function workflowPage(id) {
  const info = await api("info");
  const path = "workflows/" + encodeURIComponent(id);
  const head = el("div", { id: "head" });
  const buttons = el("div", { class: "bar", id: "actions" });
  const graph = el("div", { id: "graph" }, el("p", { class: "muted" }, "Drawing the graph…"));
  const detail = el("div", { id: "detail" }, el("p", { class: "muted" }, "Click a task to see its attempts, times and output."));
  const waits = el("div", { id: "waits" });
  const legend = el("div", { class: "legend" }, ...STATES.map((s) => el("span", { class: "key-" + s }, s)));
  main.replaceChildren(el("h1", {}, id), head, buttons, legend,
    el("div", { class: "layout" }, graph, detail), el("h2", {}, "Timers and events"), waits);

  let summary;
  const drawHead = (w) => {
    summary = w;
    head.replaceChildren(el("dl", { class: "facts" },
      el("dt", {}, "status"), el("dd", {}, badge(w.status)),
      el("dt", {}, "started"), el("dd", {}, when(w.start_time)),
      el("dt", {}, "ended"), el("dd", {}, when(w.end_time)),
      el("dt", {}, "duration"), el("dd", {}, took(w.duration_ms)),
      el("dt", {}, "tasks"), el("dd", { id: "progress" }, number(w.tasks_done) + " / " + number(w.tasks_total) + " done"),
      el("dt", {}, "metadata"), el("dd", {}, w.user_metadata == null ? el("span", { class: "muted" }, "none") : el("pre", {}, JSON.stringify(w.user_metadata, null, 2)))));
    drawButtons(w.status);
  };
  const act = (label, question, run, danger) => el("button", {
    class: danger ? "danger" : "", "data-action": label.toLowerCase().replace(" ", "-"),
    onclick: async (event) => {
      const answer = question();
      if (answer === null || answer === false) return;
      event.target.disabled = true;
      try { await run(answer); await refresh(); } catch (error) { alert(label + " failed: " + error.message); }
      event.target.disabled = false;
    },
  }, label);
  const drawButtons = (status) => {
    const live = status === "running" || status === "pending";
    const list = [];
    if (live || status === "resumable") list.push(act("Cancel", () => confirm("Cancel workflow " + id + "?"), () => change(path + "/cancel"), true));
    if (!live) list.push(act("Delete", () => confirm("Delete workflow " + id + " and everything stored for it?"),
      async () => { await change(path + "/delete"); location.href = "./"; }, true));
    if (info.can_resume && (status === "resumable" || status === "failed"))
      list.push(act("Resume", () => confirm("Resume workflow " + id + "?"), () => change(path + "/resume")));
    if (info.can_send_events && (live || status === "resumable"))
      list.push(act("Send event", () => {
        const key = prompt("Event key:");
        if (!key) return null;
        const text = prompt("Value of event " + key + " as JSON:", "true");
        if (text === null) return null;
        try { JSON.parse(text); } catch (error) { alert("Not JSON: " + error.message); return null; }
        return confirm("Send event " + key + " = " + text + " to " + id + "?") ? [key, JSON.parse(text)] : null;
      }, ([key, value]) => change(path + "/events/" + encodeURIComponent(key), value)));
    buttons.replaceChildren(...list);
  };

  let nodes = new Map();
  const paint = (node) => {
    nodes.set(node.id, node);
    const g = graph.querySelector('[data-node="' + CSS.escape(node.id) + '"]');
    if (!g) return;
    for (const c of [...g.classList]) if (c.startsWith("state-")) g.classList.remove(c);
    g.classList.add("state-" + node.state);
    g.dataset.state = node.state;
    const counts = g.querySelector(".counts");
    if (counts && node.counts) counts.textContent = STATES.filter((s) => node.counts[s]).map((s) => number(node.counts[s]) + " " + s).join(" · ");
    else if (counts) counts.textContent = node.state;
  };
  const drawGraph = async () => {
    const drawing = await api(path + "/graph");
    graph.innerHTML = drawing.svg;
    nodes = new Map();
    drawing.nodes.forEach(paint);
    graph.dataset.nodes = String(drawing.nodes.length);
  };
  graph.addEventListener("click", (event) => {
    const g = event.target.closest(".node");
    if (!g) return;
    graph.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
    g.classList.add("selected");
    showNode(g.dataset.node, g.dataset.kind);
  });
  const showNode = async (node, kind) => {
    if (kind === "group") {
      const n = nodes.get(node) || {};
      detail.replaceChildren(el("h2", {}, "Group of " + number(n.tasks) + " tasks"),
        el("dl", { class: "facts" }, ...STATES.filter((s) => n.counts && n.counts[s]).flatMap((s) => [el("dt", {}, s), el("dd", {}, number(n.counts[s]))])));
      return;
    }
    try {
      const t = await api(path + "/tasks/" + encodeURIComponent(node));
      detail.replaceChildren(el("h2", { id: "task-title" }, t.task_id),
        el("dl", { class: "facts" },
          el("dt", {}, "task"), el("dd", {}, t.name),
          el("dt", {}, "state"), el("dd", {}, el("span", { class: "badge", id: "task-state" }, t.state)),
          el("dt", {}, "attempts"), el("dd", {}, t.attempts),
          el("dt", {}, "started"), el("dd", {}, when(t.start_time)),
          el("dt", {}, "ended"), el("dd", {}, when(t.end_time)),
          el("dt", {}, "duration"), el("dd", {}, took(t.duration_ms)),
          el("dt", {}, "inputs"), el("dd", {}, t.inputs.join(", ") || "none")),
        t.error ? el("div", {}, el("h2", {}, "Error"), el("pre", { class: "error", id: "task-error" }, t.error)) : null,
        "output" in t ? el("div", {}, el("h2", {}, "Output"), el("pre", { id: "task-output" }, JSON.stringify(t.output, null, 2))) : null,
        t.output_error ? el("p", { class: "muted" }, t.output_error) : null);
    } catch (error) { showError(detail, error); }
  };
  const drawWaits = async () => {
    try {
      const w = await api(path + "/waits");
      const table = (heads, list) => el("table", {}, el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", {}, h)))), el("tbody", {}, ...list));
      const parts = [];
      if (w.timers.length) parts.push(table(["timer task", "duration", "deadline"], w.timers.map((t) => el("tr", {}, el("td", {}, t.task_id), el("td", {}, took(t.duration_ms)), el("td", {}, when(t.deadline))))));
      if (w.events.length) parts.push(table(["event task", "key", "kind", "started"], w.events.map((e) => el("tr", {}, el("td", {}, e.task_id), el("td", { class: "event-key" }, e.key), el("td", {}, e.external ? "external" : "listener"), el("td", {}, e.started ? "yes" : "no")))));
      if (w.queued.length) parts.push(table(["sent, not taken", "count"], w.queued.map((q) => el("tr", {}, el("td", {}, q.key), el("td", {}, q.count)))));
      waits.replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" }, "Nothing pending.")]));
    } catch (error) { showError(waits, error); }
  };
  const refresh = async () => {
    drawHead(await api(path));
    drawWaits();
    if (summary.status === "running" || summary.status === "pending") follow();
  };

  // Live updates, taken one at a time: a redraw of the graph finishes before the next
  // update paints it.
  let source = null;
  let queue = Promise.resolve();
  const follow = () => {
    if (source) return;
    let failures = 0;
    source = new EventSource("api/" + path + "/live");
    source.addEventListener("update", (event) => {
      failures = 0;
      const update = JSON.parse(event.data);
      queue = queue.then(async () => {
        const unknown = update.nodes.some((node) => !nodes.has(node.id));
        if (update.reshaped || unknown) await drawGraph();
        update.nodes.forEach(paint);
        if (update.tasks_total != null) {
          const progress = document.getElementById("progress");
          if (progress) progress.textContent = number(update.tasks_done) + " / " + number(update.tasks_total) + " done";
        }
        if (update.running === false) {
          source.close();
          source = null;
          await drawGraph();
          await refresh();
        } else if (update.status && summary && update.status !== summary.status) {
          await refresh();
        }
      }).catch((error) => showError(detail, error));
    });
    // A stream that keeps failing (the server went away) stops following.
    source.addEventListener("error", () => {
      if (++failures >= 5 && source) {
        source.close();
        source = null;
        detail.prepend(el("p", { class: "error" }, "Live updates stopped: reload the page to follow again."));
      }
    });
  };

  try {
    drawHead(await api(path));
    await drawGraph();
    drawn("workflow");
    drawWaits();
    if (summary.status === "running" || summary.status === "pending") follow();
  } catch (error) { showError(graph, error); }
}

// ---- Actors --------------------------------------------------------------------------

async function actorsPage() {
  const params = new URLSearchParams(location.search);
  const type = el("input", { id: "type", type: "search", placeholder: "actor type", value: params.get("type") || "" });
  const rows = el("tbody", { id: "rows" });
  const more = el("button", { id: "more" }, "More");
  main.replaceChildren(el("h1", {}, "Actors"), el("div", { class: "bar" }, type),
    el("table", {}, el("thead", {}, el("tr", {}, ...["id", "type", "calls", "created"].map((h) => el("th", {}, h)))), rows),
    el("div", { class: "pager" }, more));
  let next = "";
  let loading = 0;
  const load = async (again) => {
    const mine = ++loading;
    more.disabled = true;
    const query = new URLSearchParams({ limit: "50" });
    if (type.value.trim()) query.set("type", type.value.trim());
    if (!again && next) query.set("after", next);
    try {
      const page = await api("actors?" + query);
      if (mine !== loading) return;
      const list = page.actors.map((a) => el("tr", { "data-id": a.id },
        el("td", { class: "id" }, el("a", { href: "actors/" + encodeURIComponent(a.id) }, a.id)),
        el("td", {}, el("a", { href: "actors?type=" + encodeURIComponent(a.type_name) }, a.type_name)),
        el("td", {}, number(a.calls)), el("td", {}, when(a.created_time))));
      if (again) rows.replaceChildren(...list); else rows.append(...list);
      if (again && !list.length) rows.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No actors.")));
      next = page.next || "";
      more.disabled = !page.next;
      drawn("actors");
    } catch (error) { if (mine === loading) showError(rows, error); }
  };
  more.onclick = () => load(false);
  let typing;
  type.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { next = ""; load(true); }, 250); });
  load(true);
}

async function actorPage(id) {
  try {
    const a = await api("actors/" + encodeURIComponent(id));
    main.replaceChildren(el("h1", {}, id),
      el("dl", { class: "facts" },
        el("dt", {}, "type"), el("dd", {}, a.actor.type_name),
        el("dt", {}, "calls"), el("dd", {}, number(a.actor.calls)),
        el("dt", {}, "created"), el("dd", {}, when(a.actor.created_time)),
        el("dt", {}, "state size"), el("dd", {}, number(a.state_bytes) + " bytes")),
      el("h2", {}, "State"),
      a.state_error ? el("p", { class: "muted" }, a.state_error) : el("pre", { id: "state" }, JSON.stringify(a.state, null, 2)),
      el("h2", {}, "Recent calls"),
      el("table", {}, el("thead", {}, el("tr", {}, ...["call", "status", "started", "duration"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...a.recent_calls.map((c) => el("tr", {},
          el("td", {}, el("a", { href: "workflows/" + encodeURIComponent(c.id) }, c.id)),
          el("td", {}, badge(c.status)), el("td", {}, when(c.start_time)), el("td", {}, took(c.duration_ms)))))));
    drawn("actor");
  } catch (error) { showError(main, error); }
}

if (page === "list") listPage();
else if (page === "workflow") workflowPage(pageId);
else if (page === "actors") actorsPage();
else if (page === "actor") actorPage(pageId);
