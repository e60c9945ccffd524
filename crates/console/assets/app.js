// Brook Console: a page per URL, each drawn from the JSON API under /api (docs/console.md).
"use strict";

const page = document.getElementById("page");
// Timers of the page on screen (live charts, tails); cleared when another page is drawn.
let timers = [];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

class ApiError extends Error {
  constructor(message, field, status) {
    super(message);
    this.field = field;
    this.status = status;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch("/api" + path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError("The console does not answer: " + e.message);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    throw new ApiError((data && data.error) || response.statusText, data && data.field,
      response.status);
  }
  return data;
}

function show(...children) {
  page.replaceChildren(...children);
}

function failed(e) {
  show(el("h1", {}, "Something went wrong"),
    el("p", { class: "error", role: "alert" }, "Could not load this page: " + e.message),
    el("p", {}, el("button", { onclick: route }, "Try again")));
}

function every(ms, f) {
  timers.push(setInterval(f, ms));
}

// Formatting.
const fmt = {
  int: n => (n === null || n === undefined) ? "–" : Math.round(n).toLocaleString(),
  bytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? Math.round(n) : n.toFixed(1)) + " " + units[i];
  },
  rate: (n, unit) => (n === null || n === undefined) ? "–" :
    (n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(1)) + " " + unit,
  time: ms => ms === null || ms === undefined ? "–" : new Date(ms).toISOString().replace("T", " ").replace("Z", ""),
  ms: n => (n === null || n === undefined) ? "–" : n.toFixed(2) + " ms",
};

function table(headers, rows, empty) {
  if (rows.length === 0 && empty) return el("p", { class: "muted" }, empty);
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map(([h, cls]) => el("th", cls ? { class: cls } : {}, h)))),
    el("tbody", {}, rows));
}

const td = (v, cls) => el("td", cls ? { class: cls } : {}, v);
const num = v => td(v, "num");

// A form whose fields show the server's error next to them.
function clearErrors(form) {
  for (const old of form.querySelectorAll(".field-error")) old.textContent = "";
}

function fieldError(form, e) {
  clearErrors(form);
  const target = (e.field && form.querySelector(`[data-error-for="${e.field}"]`)) ||
    form.querySelector('[data-error-for="form"]');
  target.textContent = e.message;
  const input = e.field && form.querySelector(`[name="${e.field}"]`);
  if (input) input.focus();
}

// `key=value` lines as an object.
function settings(text) {
  const out = {};
  for (const line of String(text || "").split("\n")) {
    const at = line.indexOf("=");
    if (line.trim() && at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function field(label, input, name) {
  return el("label", {}, label, input, el("span", { class: "field-error", role: "alert",
    "data-error-for": name || input.getAttribute("name") }));
}

// A line chart of [time, value] points.
function chart(title, points, format) {
  const w = 320, h = 110, pad = 4;
  const values = points.map(p => p[1]).filter(v => v !== null && v !== undefined);
  const max = Math.max(1e-9, ...values);
  const last = values.length ? values[values.length - 1] : null;
  const box = el("figure", { class: "chart" },
    el("figcaption", {}, el("span", {}, title), el("strong", {}, format(last))));
  const plot = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  if (points.length > 1) {
    const t0 = points[0][0], t1 = points[points.length - 1][0];
    const x = t => pad + (w - 2 * pad) * (t1 === t0 ? 1 : (t - t0) / (t1 - t0));
    const y = v => h - pad - (h - 2 * pad) * (v / max);
    const line = points.filter(p => p[1] !== null && p[1] !== undefined)
      .map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    plot.append(svg("polyline", { points: `${pad},${h - pad} ${line} ${w - pad},${h - pad}`,
      class: "area" }));
    plot.append(svg("polyline", { points: line, class: "line" }));
    plot.append(svg("text", { x: pad + 2, y: 12, class: "axis" }, "max " + format(max)));
  } else {
    plot.append(svg("text", { x: w / 2, y: h / 2, class: "axis", "text-anchor": "middle" },
      "collecting…"));
  }
  box.append(plot);
  return box;
}

// ----- Overview -----

async function overview() {
  const o = await api("GET", "/overview");
  const card = (n, label, href) => el(href ? "a" : "div", { class: "card", href },
    el("div", { class: "n" }, n), el("div", { class: "label" }, label));
  const charts = el("div", { class: "charts", id: "charts" });
  const services = Object.entries(o.services).map(([name, url]) =>
    el("li", {}, name.replace("_", " ") + ": ", url ? el("code", {}, url) :
      el("span", { class: "muted" }, "not configured")));
  show(
    el("h1", {}, "Overview"),
    el("div", { class: "cards" },
      card(o.brokers.length, "brokers"), card(o.topics, "topics", "/topics"),
      card(o.partitions, "partitions"), card(o.groups, "consumer groups", "/groups")),
    el("h2", {}, "Throughput"),
    charts,
    el("h2", {}, "Brokers"),
    table([["Broker", "num"], ["Host"], ["Port", "num"]],
      o.brokers.map(b => el("tr", {}, num(b.id), td(b.host), num(b.port)))),
    el("h2", {}, "Services"),
    el("ul", { class: "services" }, services),
    el("p", { class: "muted" }, "Cluster id ", el("code", {}, o.cluster_id || "–")),
  );
  const draw = async () => {
    const m = await api("GET", "/metrics");
    const series = key => m.samples.map(s => [s.time, s[key]]);
    const list = [chart("Records in / s", series("records_in_per_sec"), v => fmt.rate(v, "rec/s"))];
    if (m.broker_metrics) {
      list.push(
        chart("Bytes in / s", series("bytes_in_per_sec"), v => fmt.bytes(v) + "/s"),
        chart("Bytes out / s", series("bytes_out_per_sec"), v => fmt.bytes(v) + "/s"),
        chart("Records out / s", series("records_out_per_sec"), v => fmt.rate(v, "rec/s")),
        chart("Produce latency (mean)", series("produce_latency_ms"), fmt.ms),
        chart("Disk used", series("disk_bytes"), fmt.bytes));
    }
    const target = document.getElementById("charts");
    if (target) target.replaceChildren(...list);
  };
  await draw();
  every(2000, () => draw().catch(() => {}));
}

// ----- Topics -----

async function topics() {
  const [list, metrics] = await Promise.all([api("GET", "/topics"), api("GET", "/metrics")]);
  const form = el("form", { class: "create", "aria-label": "Create a topic" });
  form.append(
    field("Name", el("input", { name: "name", required: true, autocomplete: "off" })),
    field("Partitions", el("input", { name: "partitions", type: "number", value: "1" })),
    field("Retention", el("select", { name: "retention" },
      el("option", { value: "" }, "cluster default"),
      el("option", { value: "3600000" }, "1 hour"),
      el("option", { value: "86400000" }, "1 day"),
      el("option", { value: "604800000" }, "7 days"),
      el("option", { value: "-1" }, "forever"))),
    field("Retention size (bytes)", el("input", { name: "retention_bytes", type: "number",
      placeholder: "no limit" })),
    field("Cleanup policy", el("select", { name: "cleanup" },
      el("option", { value: "" }, "delete"), el("option", { value: "compact" }, "compact"),
      el("option", { value: "compact,delete" }, "compact,delete"))),
    field("Other configs (key=value per line)", el("textarea", { name: "configs", rows: "1",
      placeholder: "max.message.bytes=2097152" })),
    el("button", { type: "submit" }, "Create topic"),
    el("span", { class: "field-error", role: "alert", "data-error-for": "form" }));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const f = new FormData(form);
    const configs = settings(f.get("configs"));
    if (f.get("retention")) configs["retention.ms"] = String(f.get("retention"));
    if (f.get("retention_bytes")) configs["retention.bytes"] = String(f.get("retention_bytes"));
    if (f.get("cleanup")) configs["cleanup.policy"] = String(f.get("cleanup"));
    try {
      await api("POST", "/topics", { name: f.get("name"),
        partitions: Number(f.get("partitions")), configs });
      navigate("/topics/" + encodeURIComponent(f.get("name")));
    } catch (e) {
      fieldError(form, e);
    }
  });
  const search = el("input", { type: "search", placeholder: "Search topics  ( / )",
    "aria-label": "Search topics", class: "search" });
  const showInternal = el("input", { type: "checkbox" });
  const body = el("tbody");
  const draw = () => {
    const q = search.value.toLowerCase();
    body.replaceChildren(...list
      .filter(t => (showInternal.checked || !t.internal) && t.name.toLowerCase().includes(q))
      .map(t => {
        const rates = metrics.topics[t.name] || {};
        return el("tr", {},
          td(el("a", { href: "/topics/" + encodeURIComponent(t.name) }, t.name)),
          num(t.partitions), num(t.replication_factor), num(fmt.int(t.messages)),
          num(fmt.bytes(t.size_bytes ?? rates.size_bytes)),
          num(fmt.rate(rates.records_per_sec, "rec/s")));
      }));
  };
  search.addEventListener("input", draw);
  showInternal.addEventListener("change", draw);
  draw();
  show(
    el("h1", {}, "Topics"),
    el("details", { class: "panel" }, el("summary", {}, "Create a topic"), form),
    el("div", { class: "toolbar" }, search,
      el("label", { class: "inline" }, showInternal, " show internal topics")),
    el("table", {}, el("thead", {}, el("tr", {},
      el("th", {}, "Topic"), el("th", { class: "num" }, "Partitions"),
      el("th", { class: "num" }, "Replication"), el("th", { class: "num" }, "Messages"),
      el("th", { class: "num" }, "Size"), el("th", { class: "num" }, "Throughput"))), body),
  );
  if (new URLSearchParams(location.search).has("create")) {
    form.parentElement.open = true;
    form.querySelector("input").focus();
  }
}

// ----- Topic -----

async function topic(name, tab) {
  const t = await api("GET", "/topics/" + encodeURIComponent(name));
  const base = "/topics/" + encodeURIComponent(name);
  const tabs = [["messages", "Messages"], ["produce", "Produce"],
    ["partitions", "Partitions"], ["configs", "Configs"]];
  tab = tab || "messages";
  const remove = el("button", { class: "danger", onclick: async () => {
    if (!confirm(`Delete topic ${name} and every message in it?`)) return;
    try {
      await api("DELETE", base);
      navigate("/topics");
    } catch (e) {
      alert(e.message);
    }
  } }, "Delete topic");
  const empty = el("button", { class: "danger", onclick: async () => {
    if (!confirm(`Delete every message of ${name}? The topic and its configs stay.`)) return;
    try {
      const done = await api("POST", base + "/empty");
      alert(`Deleted ${fmt.int(done.deleted)} messages.`);
      route();
    } catch (e) {
      alert(e.message);
    }
  } }, "Empty topic");
  const total = t.partitions.reduce((n, p) => n + p.log_end_offset - p.log_start_offset, 0);
  let content;
  if (tab === "partitions") {
    const grow = el("form", { class: "reset", "aria-label": "Add partitions" },
      field("Partitions", el("input", { name: "count", type: "number", min: String(t.partitions.length + 1),
        value: String(t.partitions.length + 1) })),
      el("button", { type: "submit" }, "Add partitions"),
      el("span", { class: "field-error", role: "alert", "data-error-for": "form" }));
    grow.addEventListener("submit", async ev => {
      ev.preventDefault();
      const count = Number(new FormData(grow).get("count"));
      if (!confirm(`Grow ${name} to ${count} partitions? Keys will map to other partitions; this cannot be undone.`)) return;
      try {
        await api("POST", base + "/partitions", { count });
        route();
      } catch (e) { fieldError(grow, e); }
    });
    content = el("section", {}, table([["Partition", "num"], ["Leader", "num"], ["Replicas"], ["In sync"],
      ["Start offset", "num"], ["End offset", "num"], ["Messages", "num"], ["Size", "num"]],
    t.partitions.map(p => el("tr", {}, num(p.partition), num(p.leader),
      td(p.replicas.join(", ")), td(p.isr.join(", ")), num(fmt.int(p.log_start_offset)),
      num(fmt.int(p.log_end_offset)), num(fmt.int(p.log_end_offset - p.log_start_offset)),
      num(fmt.bytes(p.size_bytes))))), el("h2", {}, "Add partitions"), grow);
  } else if (tab === "configs") {
    const edit = el("form", { class: "reset", "aria-label": "Change a config" },
      field("Config", el("input", { name: "name", list: "config-names", autocomplete: "off", required: true })),
      el("datalist", { id: "config-names" }, t.configs.filter(c => !c.read_only).map(c => el("option", { value: c.name }))),
      field("Value", el("input", { name: "value", autocomplete: "off" })),
      el("button", { type: "submit" }, "Set"),
      el("button", { type: "button", onclick: () => change(true) }, "Reset to default"),
      el("span", { class: "field-error", role: "alert", "data-error-for": "configs" }),
      el("span", { class: "field-error", role: "alert", "data-error-for": "form" }));
    const change = async reset => {
      const f = new FormData(edit);
      const key = String(f.get("name")).trim();
      if (!key) return;
      const body = reset ? { delete: [key] } : { set: { [key]: String(f.get("value")) } };
      try {
        await api("PATCH", base + "/configs", body);
        route();
      } catch (e) { fieldError(edit, e); }
    };
    edit.addEventListener("submit", ev => { ev.preventDefault(); change(false); });
    const pickRow = c => () => {
      edit.querySelector("[name=name]").value = c.name;
      const v = edit.querySelector("[name=value]");
      v.value = c.value ?? "";
      v.focus();
    };
    content = el("section", {}, edit, table([["Name"], ["Value"], ["Source"]],
      t.configs.map(c => el("tr", { class: (c.source === "DEFAULT_CONFIG" ? "muted " : "") + (c.read_only ? "" : "editable"),
        onclick: c.read_only ? undefined : pickRow(c), title: c.read_only ? "read-only" : "click to edit" },
        td(el("code", {}, c.name)), td(c.sensitive ? "(hidden)" : (c.value ?? "")),
        td(c.source)))));
  } else if (tab === "produce") {
    content = await produceForm(name, t);
  } else {
    content = messageBrowser(name, t);
  }
  show(
    el("div", { class: "title" }, el("h1", {}, name), el("span", {}, empty, " ", remove)),
    el("p", { class: "muted" }, `${t.partitions.length} partition(s) · ${fmt.int(total)} messages · ` +
      fmt.bytes(t.partitions.reduce((n, p) => n + (p.size_bytes || 0), 0))),
    el("nav", { class: "tabs", "aria-label": "Topic" }, tabs.map(([id, label]) =>
      el("a", { href: id === "messages" ? base : `${base}/${id}`,
        class: id === tab ? "active" : "" }, label))),
    content,
  );
}

function shownText(v, pretty) {
  if (v === null || v === undefined) return "null";
  if (typeof v.data === "string") return v.data;
  return pretty ? JSON.stringify(v.data, null, 2) : JSON.stringify(v.data);
}

function messageBrowser(name, t) {
  const q = new URLSearchParams(location.search);
  const form = el("form", { class: "browse", "aria-label": "Browse messages" });
  const partition = el("select", { name: "partition" }, el("option", { value: "" }, "All partitions"),
    t.partitions.map(p => el("option", { value: p.partition }, "Partition " + p.partition)));
  const from = el("select", { name: "from" }, el("option", { value: "newest" }, "Newest"),
    el("option", { value: "oldest" }, "Oldest"), el("option", { value: "offset" }, "From offset"),
    el("option", { value: "timestamp" }, "From time"));
  const at = el("input", { name: "at", placeholder: "offset or 2026-11-28T10:00:00Z", size: "22" });
  const key = el("input", { name: "key", placeholder: "key contains", size: "12" });
  const value = el("input", { name: "value", placeholder: "value contains", size: "14" });
  const header = el("input", { name: "header", placeholder: "header contains", size: "12" });
  const format = el("select", { name: "format" }, ["auto", "text", "json", "hex"].map(f =>
    el("option", { value: f }, f === "auto" ? "Decode: auto" : "Decode: " + f)));
  const live = el("input", { type: "checkbox", name: "live" });
  for (const [input, k] of [[partition, "partition"], [from, "from"], [at, "at"], [key, "key"],
    [value, "value"], [header, "header"], [format, "format"]]) {
    if (q.get(k)) input.value = q.get(k);
  }
  const status = el("span", { class: "muted", role: "status" });
  const error = el("span", { class: "field-error", role: "alert", "data-error-for": "form" });
  const rows = el("tbody");
  const more = el("button", { type: "button", disabled: true }, "Older");
  const next = el("button", { type: "button", disabled: true }, "Newer");
  const download = el("button", { type: "button" }, "Download JSON lines");
  let shown = [];
  let cursors = {};

  const query = extra => {
    const p = new URLSearchParams();
    if (partition.value) p.set("partition", partition.value);
    if (from.value === "offset") { p.set("from", "offset"); p.set("offset", at.value || "0"); }
    else if (from.value === "timestamp") {
      p.set("from", "timestamp");
      const ms = /^\d+$/.test(at.value) ? Number(at.value) : Date.parse(at.value);
      p.set("timestamp", String(isNaN(ms) ? Date.now() : ms));
    } else p.set("from", from.value);
    for (const [k, input] of [["key", key], ["value", value], ["header", header]]) {
      if (input.value) p.set(k, input.value);
    }
    p.set("format", format.value);
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p;
  };
  const row = m => {
    const detail = el("tr", { class: "detail", hidden: true }, el("td", { colspan: "5" },
      el("div", { class: "detail-grid" },
        el("div", {}, el("h3", {}, "Key ", el("small", {}, m.key ? m.key.format : "")),
          el("pre", {}, shownText(m.key, true))),
        el("div", {}, el("h3", {}, "Value ", el("small", {}, m.value ?
          m.value.format + (m.value.schema_id ? ` · schema ${m.value.schema_id}` : "") +
          (m.value.truncated ? " · truncated" : "") : "")),
          el("pre", {}, shownText(m.value, true)),
          m.value && m.value.note ? el("p", { class: "muted" }, m.value.note) : null),
        el("div", {}, el("h3", {}, "Headers"), m.headers.length ? el("ul", {},
          m.headers.map(h => el("li", {}, el("code", {}, h.key), ": ", h.value ?? "null"))) :
          el("p", { class: "muted" }, "none"),
          el("p", { class: "muted" }, `${m.timestamp_type} ${fmt.time(m.timestamp)}`),
          el("button", { type: "button", onclick: () =>
            navigator.clipboard && navigator.clipboard.writeText(JSON.stringify(m)) },
          "Copy as JSON")))));
    const line = el("tr", { class: "message", tabindex: "0", onclick: () => { detail.hidden = !detail.hidden; },
      onkeydown: ev => { if (ev.key === "Enter") detail.hidden = !detail.hidden; } },
    num(m.partition), num(m.offset), td(fmt.time(m.timestamp), "nowrap"),
    td(el("code", { class: "cell" }, shownText(m.key))),
    td(el("code", { class: "cell" }, shownText(m.value))));
    return [line, detail];
  };
  const newestFirst = () => from.value === "newest";
  const load = async extra => {
    error.textContent = "";
    status.textContent = "Loading…";
    try {
      const started = performance.now();
      const p = await api("GET", `/topics/${encodeURIComponent(name)}/messages?${query(extra)}`);
      shown = p.messages;
      cursors = { older: p.older, newer: p.newer };
      rows.replaceChildren(...p.messages.flatMap(row));
      more.disabled = !p.older;
      next.disabled = newestFirst() || p.messages.length === 0;
      status.textContent = `${p.messages.length} message(s) in ${Math.round(performance.now() - started)} ms` +
        (p.complete ? "" : ` · searched ${fmt.int(p.scanned)} messages, more to search`);
      if (!p.messages.length) rows.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "muted" },
        "No messages here" + (key.value || value.value || header.value ? " match the filters" : ""))));
    } catch (e) {
      status.textContent = "";
      error.textContent = e.message;
    }
  };
  let tail = null;
  const tick = async () => {
    if (!cursors.newer) return;
    try {
      const p = await api("GET", `/topics/${encodeURIComponent(name)}/messages?` +
        query({ from: "offset", offset: "0", cursor: cursors.newer, limit: "200" }));
      cursors.newer = p.newer;
      if (!p.messages.length) return;
      const fresh = p.messages.slice().reverse();
      if (rows.querySelector("td[colspan]") && !shown.length) rows.replaceChildren();
      rows.prepend(...fresh.flatMap(row));
      shown = fresh.concat(shown).slice(0, 500);
      while (rows.children.length > 1000) rows.lastChild.remove();
      status.textContent = `${shown.length} message(s) · live`;
    } catch (e) {
      error.textContent = e.message;
    }
  };
  live.addEventListener("change", () => {
    if (tail) { clearInterval(tail); timers = timers.filter(x => x !== tail); tail = null; }
    if (live.checked) {
      from.value = "newest";
      tail = setInterval(tick, 1000);
      timers.push(tail);
    }
  });
  form.addEventListener("submit", ev => { ev.preventDefault(); load(); });
  more.addEventListener("click", () => load({ cursor: cursors.older }));
  next.addEventListener("click", () => load({ cursor: cursors.newer }));
  download.addEventListener("click", () => {
    const blob = new Blob(shown.map(m => JSON.stringify(m) + "\n"), { type: "application/x-ndjson" });
    const a = el("a", { href: URL.createObjectURL(blob), download: `${name}.jsonl` });
    document.body.append(a);
    a.click();
    a.remove();
  });
  form.append(partition, from, at, key, value, header, format,
    el("button", { type: "submit" }, "Show"),
    el("label", { class: "inline" }, live, " Live"), error);
  setTimeout(load, 0);
  return el("section", {},
    form,
    el("div", { class: "toolbar" }, status, el("span", { class: "spacer" }), more, next, download),
    el("table", { class: "messages" }, el("thead", {}, el("tr", {},
      el("th", { class: "num" }, "Partition"), el("th", { class: "num" }, "Offset"),
      el("th", {}, "Time (UTC)"), el("th", {}, "Key"), el("th", {}, "Value"))), rows));
}

async function produceForm(name, t) {
  const schemas = await api("GET", `/topics/${encodeURIComponent(name)}/schemas`);
  const form = el("form", { class: "produce", "aria-label": "Produce a message" });
  const useSchema = (side, s) => s ? field(`Encode the ${side} with ${s.subject} (${s.schema_type}, id ${s.id})`,
    el("input", { type: "checkbox", name: `${side}_schema`, checked: true }), `${side}_schema`) : null;
  const result = el("p", { role: "status", class: "result" });
  form.append(
    field("Key", el("input", { name: "key", autocomplete: "off", placeholder: "(none)" })),
    useSchema("key", schemas.key),
    field("Value", el("textarea", { name: "value", rows: "6",
      placeholder: schemas.value ? "JSON matching the schema" : "text or JSON" })),
    useSchema("value", schemas.value),
    field("Headers (name: value per line)", el("textarea", { name: "headers", rows: "2" })),
    field("Partition", el("select", { name: "partition" },
      el("option", { value: "" }, "by key (the partitioner)"),
      t.partitions.map(p => el("option", { value: p.partition }, String(p.partition))))),
    el("div", {}, el("button", { type: "submit" }, "Produce"),
      el("span", { class: "field-error", role: "alert", "data-error-for": "form" })),
    result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    clearErrors(form);
    result.textContent = "";
    const f = new FormData(form);
    const headers = String(f.get("headers") || "").split("\n").filter(l => l.trim()).map(l => {
      const at = l.indexOf(":");
      return at < 0 ? { key: l.trim(), value: null } :
        { key: l.slice(0, at).trim(), value: l.slice(at + 1).trim() };
    });
    const body = { headers };
    if (f.get("key")) body.key = f.get("key");
    if (f.get("value")) body.value = f.get("value");
    if (f.get("partition") !== "") body.partition = Number(f.get("partition"));
    if (f.get("key_schema")) body.key_format = "schema";
    if (f.get("value_schema")) body.value_format = "schema";
    try {
      const done = await api("POST", `/topics/${encodeURIComponent(name)}/messages`, body);
      result.replaceChildren("Produced to partition ", el("strong", {}, done.partition),
        " at offset ", el("strong", {}, done.offset), ". ",
        el("a", { href: `/topics/${encodeURIComponent(name)}` }, "See it in the messages"));
    } catch (e) {
      fieldError(form, e);
    }
  });
  return form;
}

// ----- Consumer groups -----

async function groups() {
  const list = await api("GET", "/groups");
  show(
    el("h1", {}, "Consumer groups"),
    table([["Group"], ["State"], ["Type"], ["Members", "num"], ["Lag", "num"]],
      list.map(g => el("tr", {},
        td(el("a", { href: "/groups/" + encodeURIComponent(g.group) }, g.group)),
        td(el("span", { class: "state " + g.state.toLowerCase() }, g.state)),
        td(g.protocol_type || "–"), num(g.members), num(fmt.int(g.lag)))),
      "No consumer groups yet."),
  );
}

// The sampled lag, ending with the lag just read.
function lagChart(g) {
  return chart("Total lag", g.lag_history.concat([[Date.now(), g.total_lag]]), fmt.int);
}

async function group(name) {
  const base = "/groups/" + encodeURIComponent(name);
  const g = await api("GET", base);
  const remove = el("button", { class: "danger", onclick: async () => {
    if (!confirm(`Delete group ${name} and its committed offsets?`)) return;
    try {
      await api("DELETE", base);
      navigate("/groups");
    } catch (e) {
      alert(e.message);
    }
  } }, "Delete group");
  const topics = [...new Set(g.partitions.map(p => p.topic))];
  const form = el("form", { class: "reset", "aria-label": "Reset offsets" });
  const to = el("select", { name: "to" }, ["earliest", "latest", "timestamp", "offset", "shift"]
    .map(v => el("option", { value: v }, v)));
  const plan = el("div", { id: "plan" });
  form.append(
    field("Topic", el("select", { name: "topic" }, el("option", { value: "" }, "every topic"),
      topics.map(t => el("option", { value: t }, t)))),
    field("Reset to", to),
    field("Value (time, offset or shift)", el("input", { name: "value", placeholder: "2026-11-28T10:00:00Z, 42 or -10" })),
    el("button", { type: "submit" }, "Preview"),
    el("span", { class: "field-error", role: "alert", "data-error-for": "form" }));
  const request = dry => {
    const f = new FormData(form);
    const body = { to: f.get("to"), dry_run: dry };
    const v = String(f.get("value") || "");
    if (v) body.value = f.get("to") === "timestamp" && !/^-?\d+$/.test(v) ? Date.parse(v) : Number(v);
    if (f.get("topic")) body.topics = [f.get("topic")];
    return body;
  };
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const preview = await api("POST", base + "/reset", request(true));
      const apply = el("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(`Commit these offsets for group ${name}?`)) return;
        try {
          await api("POST", base + "/reset", request(false));
          route();
        } catch (e) {
          fieldError(form, e);
        }
      } }, "Apply reset");
      plan.replaceChildren(el("h3", {}, "Dry run: nothing is committed until you apply"),
        table([["Topic"], ["Partition", "num"], ["Current offset", "num"], ["New offset", "num"]],
          preview.partitions.map(r => el("tr", {}, td(r.topic), num(r.partition),
            num(fmt.int(r.current_offset)), num(fmt.int(r.new_offset))))), apply);
    } catch (e) {
      fieldError(form, e);
    }
  });
  show(
    el("div", { class: "title" }, el("h1", {}, name), remove),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("div", { class: "n" }, g.state), el("div", { class: "label" }, "state")),
      el("div", { class: "card" }, el("div", { class: "n" }, g.members.length), el("div", { class: "label" }, "members")),
      el("div", { class: "card" }, el("div", { class: "n", id: "total-lag" }, fmt.int(g.total_lag)),
        el("div", { class: "label" }, "total lag"))),
    el("div", { class: "charts", id: "lag-chart" }, lagChart(g)),
    el("h2", {}, "Partitions"),
    table([["Topic"], ["Partition", "num"], ["Committed", "num"], ["Log end", "num"], ["Lag", "num"], ["Member"]],
      g.partitions.map(p => el("tr", {}, td(p.topic), num(p.partition), num(fmt.int(p.committed_offset)),
        num(fmt.int(p.log_end_offset)), num(fmt.int(p.lag)), td(p.client_id || "–"))),
      "This group has no committed offsets."),
    el("h2", {}, "Members"),
    table([["Member"], ["Client"], ["Host"], ["Assigned"]],
      g.members.map(m => el("tr", {}, td(el("code", {}, m.member_id)), td(m.client_id), td(m.host),
        td(m.partitions.map(([t, p]) => `${t}-${p}`).join(", ") || "–"))),
      "No members: the group is not consuming now."),
    el("h2", {}, "Reset offsets"),
    el("p", { class: "muted" }, "The group must have no members. Preview first; nothing changes until you apply."),
    form, plan,
  );
  every(5000, async () => {
    try {
      const now = await api("GET", base);
      const lag = document.getElementById("total-lag");
      const target = document.getElementById("lag-chart");
      if (lag) lag.textContent = fmt.int(now.total_lag);
      if (target) target.replaceChildren(lagChart(now));
    } catch { /* the next tick tries again */ }
  });
}

// ----- Services beside the cluster (through /api/registry, /api/connect, /api/sql) -----

function notConfigured(what, flag) {
  return el("div", { class: "panel" },
    el("p", {}, `${what} is not configured for this console.`),
    el("p", { class: "muted" }, "brook serve configures it; with brook console, pass ",
      el("code", {}, flag), "."));
}

async function services() {
  return (await api("GET", "/overview")).services;
}

// A line diff (longest common subsequence) as side-by-side rows.
function diffRows(a, b) {
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const rows = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { rows.push([a[i], b[j], ""]); i++; j++; }
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) { rows.push(["", b[j], "added"]); j++; }
    else { rows.push([a[i], "", "removed"]); i++; }
  }
  return rows;
}

function schemaText(v) {
  if (!v) return "";
  if ((v.schemaType || "AVRO") === "PROTOBUF") return v.schema;
  try { return JSON.stringify(JSON.parse(v.schema), null, 2); } catch { return v.schema; }
}

async function schemas() {
  const s = await services();
  if (!s.schema_registry) return show(el("h1", {}, "Schemas"), notConfigured("A schema registry", "--schema-registry-url"));
  const subjects = await api("GET", "/registry/subjects");
  const rows = await Promise.all(subjects.sort().map(async subject => {
    const enc = encodeURIComponent(subject);
    const [latest, config] = await Promise.all([
      api("GET", `/registry/subjects/${enc}/versions/latest`),
      api("GET", `/registry/config/${enc}?defaultToGlobal=true`).catch(() => ({})),
    ]);
    return el("tr", {}, td(el("a", { href: "/schemas/" + enc }, subject)),
      td(latest.schemaType || "AVRO"), num(latest.version), num(latest.id),
      td(config.compatibilityLevel || "–"));
  }));
  const form = registerForm(null);
  show(el("h1", {}, "Schemas"),
    el("details", { class: "panel" }, el("summary", {}, "Register a new subject"), form),
    table([["Subject"], ["Type"], ["Latest version", "num"], ["Id", "num"], ["Compatibility"]], rows,
      "No subjects yet."));
}

// Registers a schema, after a compatibility check against the subject's latest version.
function registerForm(subject, latest) {
  const form = el("form", { class: "produce", "aria-label": "Register a schema" });
  const result = el("p", { role: "status", class: "result" });
  form.append(
    subject ? null : field("Subject", el("input", { name: "subject", required: true, placeholder: "rides-value" })),
    field("Type", el("select", { name: "schemaType" }, ["AVRO", "JSON", "PROTOBUF"].map(t =>
      el("option", { value: t, selected: latest && (latest.schemaType || "AVRO") === t }, t)))),
    field("Schema", el("textarea", { name: "schema", rows: "12", spellcheck: "false" },
      latest ? schemaText(latest) : "")),
    el("div", {}, el("button", { type: "submit" }, "Check and register"),
      el("span", { class: "field-error", role: "alert", "data-error-for": "form" })),
    result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    clearErrors(form);
    result.textContent = "";
    const f = new FormData(form);
    const name = subject || String(f.get("subject"));
    const enc = encodeURIComponent(name);
    const body = { schema: String(f.get("schema")), schemaType: f.get("schemaType") };
    const schemaError = e => fieldError(form, new ApiError(e.message,
      e.status === 422 || e.status === 400 ? "schema" : undefined, e.status));
    try {
      if (subject) {
        const check = await api("POST", `/registry/compatibility/subjects/${enc}/versions/latest?verbose=true`, body);
        if (!check.is_compatible) {
          fieldError(form, new ApiError("Not compatible with the latest version: " +
            (check.messages || []).join("; "), "schema"));
          return;
        }
      }
      const done = await api("POST", `/registry/subjects/${enc}/versions`, body);
      result.replaceChildren("Registered with id ", el("strong", {}, done.id), ". ",
        el("a", { href: "/schemas/" + enc }, "See the subject"));
      if (subject) setTimeout(route, 600);
    } catch (e) {
      schemaError(e);
    }
  });
  return form;
}

async function schema(subject) {
  const s = await services();
  if (!s.schema_registry) return show(el("h1", {}, subject), notConfigured("A schema registry", "--schema-registry-url"));
  const enc = encodeURIComponent(subject);
  const versions = await api("GET", `/registry/subjects/${enc}/versions`);
  const q = new URLSearchParams(location.search);
  const shownVersion = Number(q.get("version")) || versions[versions.length - 1];
  const compare = Number(q.get("compare")) || (versions.length > 1 ?
    versions[Math.max(0, versions.indexOf(shownVersion) - 1)] : shownVersion);
  const [one, other, config] = await Promise.all([
    api("GET", `/registry/subjects/${enc}/versions/${shownVersion}`),
    api("GET", `/registry/subjects/${enc}/versions/${compare}`),
    api("GET", `/registry/config/${enc}?defaultToGlobal=true`).catch(() => ({})),
  ]);
  const pick = (name, value) => el("select", { name, onchange: ev => {
    const p = new URLSearchParams(location.search);
    p.set(name, ev.target.value);
    navigate(`/schemas/${enc}?${p}`);
  } }, versions.map(v => el("option", { value: v, selected: v === value }, "version " + v)));
  const rows = diffRows(schemaText(other).split("\n"), schemaText(one).split("\n"));
  const level = el("select", { name: "compatibility" }, ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
    "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"].map(l =>
    el("option", { value: l, selected: l === config.compatibilityLevel }, l)));
  const levelForm = el("form", { class: "reset" }, field("Compatibility", level),
    el("button", { type: "submit" }, "Save"), el("span", { class: "field-error", "data-error-for": "form" }));
  levelForm.addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      await api("PUT", `/registry/config/${enc}`, { compatibility: level.value });
      route();
    } catch (e) { fieldError(levelForm, e); }
  });
  const del = (label, paths, question) => el("button", { class: "danger", type: "button", onclick: async () => {
    if (!confirm(question)) return;
    try {
      for (const path of paths) await api("DELETE", path);
      navigate("/schemas");
    } catch (e) { alert(e.message); }
  } }, label);
  show(
    el("div", { class: "title" }, el("h1", {}, subject), el("span", {},
      del(`Delete version ${shownVersion}`, [`/registry/subjects/${enc}/versions/${shownVersion}`],
        `Soft-delete version ${shownVersion} of ${subject}?`), " ",
      del("Delete subject", [`/registry/subjects/${enc}`], `Soft-delete every version of ${subject}?`), " ",
      // Hard deletion needs a soft one first, as in Confluent's registry: both, in order.
      del("Delete permanently", [`/registry/subjects/${enc}`, `/registry/subjects/${enc}?permanent=true`],
        `Permanently delete ${subject} and every version of it? This cannot be undone.`))),
    el("p", { class: "muted" }, `${one.schemaType || "AVRO"} · version ${one.version} of ${versions.length} · id ${one.id}`),
    levelForm,
    el("h2", {}, "Versions"),
    el("div", { class: "toolbar" }, "Compare ", pick("compare", compare), " with ", pick("version", shownVersion)),
    el("table", { class: "diff" }, el("thead", {}, el("tr", {},
      el("th", {}, "version " + compare), el("th", {}, "version " + shownVersion))),
    el("tbody", {}, rows.map(([a, b, kind]) => el("tr", { class: kind },
      el("td", {}, el("pre", {}, a)), el("td", {}, el("pre", {}, b)))))),
    el("h2", {}, "Register a new version"),
    el("p", { class: "muted" }, "It is checked against the latest version under the subject's compatibility level first."),
    registerForm(subject, one),
  );
}

async function connectors() {
  const s = await services();
  if (!s.connect) return show(el("h1", {}, "Connectors"), notConfigured("Kafka Connect", "--connect-url"));
  const list = await api("GET", "/connect/connectors?expand=status&expand=info");
  const action = (name, what) => el("button", { type: "button", onclick: async () => {
    if (what === "delete" && !confirm(`Delete connector ${name}?`)) return;
    const enc = encodeURIComponent(name);
    try {
      if (what === "delete") await api("DELETE", `/connect/connectors/${enc}`);
      else if (what === "restart") await api("POST", `/connect/connectors/${enc}/restart?includeTasks=true`);
      else await api("PUT", `/connect/connectors/${enc}/${what}`);
      setTimeout(route, 300);
    } catch (e) { alert(e.message); }
  }, class: what === "delete" ? "danger" : "" }, what[0].toUpperCase() + what.slice(1));
  show(
    el("div", { class: "title" }, el("h1", {}, "Connectors"),
      el("a", { href: "/connectors/new", class: "button" }, "New connector")),
    table([["Connector"], ["Type"], ["Class"], ["State"], ["Tasks"], [""]],
      Object.entries(list).sort().map(([name, c]) => {
        const state = c.status.connector.state;
        return el("tr", {},
          td(el("a", { href: "/connectors/" + encodeURIComponent(name) }, name)),
          td(c.info.type), td(el("code", {}, c.info.config["connector.class"].split(".").pop())),
          td(el("span", { class: "state " + state.toLowerCase() }, state)),
          td(c.status.tasks.map(t => `${t.id}: ${t.state}`).join(", ") || "–"),
          td(state === "PAUSED" ? action(name, "resume") : action(name, "pause"), " ",
            action(name, "restart"), " ", action(name, "delete")));
      }), "No connectors yet."),
  );
  every(3000, async () => {
    if (location.pathname !== "/connectors") return;
    try {
      const now = await api("GET", "/connect/connectors?expand=status");
      if (JSON.stringify(Object.keys(now).sort()) !== JSON.stringify(Object.keys(list).sort()) ||
          Object.entries(now).some(([n, c]) => c.status.connector.state !== list[n].status.connector.state)) route();
    } catch { /* the next tick tries again */ }
  });
}

const CONVERTERS = ["", "org.apache.kafka.connect.json.JsonConverter",
  "org.apache.kafka.connect.storage.StringConverter", "io.confluent.connect.avro.AvroConverter",
  "io.confluent.connect.json.JsonSchemaConverter", "io.confluent.connect.protobuf.ProtobufConverter",
  "org.apache.kafka.connect.converters.ByteArrayConverter"];

async function newConnector() {
  const s = await services();
  if (!s.connect) return show(el("h1", {}, "New connector"), notConfigured("Kafka Connect", "--connect-url"));
  const plugins = await api("GET", "/connect/connector-plugins");
  const q = new URLSearchParams(location.search);
  const cls = q.get("class") || plugins[0].class;
  const definition = await api("PUT", `/connect/connector-plugins/${encodeURIComponent(cls)}/config/validate`,
    { "connector.class": cls });
  const plugin = el("select", { name: "connector.class", onchange: ev => navigate(`/connectors/new?class=${encodeURIComponent(ev.target.value)}`) },
    plugins.map(p => el("option", { value: p.class, selected: p.class === cls }, `${p.class.split(".").pop()} (${p.type})`)));
  const input = c => {
    const d = c.definition, v = c.value;
    if (v.recommended_values && v.recommended_values.length) {
      return el("select", { name: d.name }, el("option", { value: "" }, d.default_value ? `default (${d.default_value})` : "—"),
        v.recommended_values.map(r => el("option", { value: r }, r)));
    }
    if (d.type === "BOOLEAN") return el("select", { name: d.name }, el("option", { value: "" }, `default (${d.default_value})`),
      el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
    return el("input", { name: d.name, type: d.type === "PASSWORD" ? "password" : "text",
      placeholder: d.default_value || (d.required ? "required" : ""), autocomplete: "off" });
  };
  const labelled = c => el("label", { title: c.definition.documentation },
    c.definition.name + (c.definition.required ? " *" : ""), input(c),
    el("small", { class: "muted" }, c.definition.documentation),
    el("span", { class: "field-error", role: "alert", "data-error-for": c.definition.name }));
  const order = { HIGH: 0, MEDIUM: 1, LOW: 2 };
  const configs = definition.configs.filter(c => c.definition.name !== "connector.class")
    .sort((a, b) => (b.definition.required - a.definition.required) ||
      (order[a.definition.importance] - order[b.definition.importance]));
  const main = configs.filter(c => c.definition.required || c.definition.importance === "HIGH");
  const rest = configs.filter(c => !main.includes(c));
  const form = el("form", { class: "connector", "aria-label": "New connector" },
    field("Connector class", plugin, "connector.class"),
    field("Name *", el("input", { name: "name", required: true, autocomplete: "off" })),
    field("Tasks", el("input", { name: "tasks.max", type: "number", value: "1", min: "1" })),
    main.map(labelled),
    field("Key converter", el("select", { name: "key.converter" }, CONVERTERS.map(c => el("option", { value: c }, c || "the worker's")))),
    field("Value converter", el("select", { name: "value.converter" }, CONVERTERS.map(c => el("option", { value: c }, c || "the worker's")))),
    rest.length ? el("details", {}, el("summary", {}, `More settings (${rest.length})`), rest.map(labelled)) : null,
    field("Other settings (key=value per line)", el("textarea", { name: "_more", rows: "3",
      placeholder: "value.converter.schemas.enable=false" })),
    el("div", {}, el("button", { type: "submit" }, "Create connector"),
      el("span", { class: "field-error", role: "alert", "data-error-for": "form" })));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    clearErrors(form);
    const config = {};
    for (const [k, v] of new FormData(form)) {
      if (k === "_more") Object.assign(config, settings(v));
      else if (String(v) !== "") config[k] = String(v);
    }
    try {
      const checked = await api("PUT", `/connect/connector-plugins/${encodeURIComponent(cls)}/config/validate`, config);
      if (checked.error_count > 0) {
        let first = true;
        for (const c of checked.configs) {
          if (!c.value.errors.length) continue;
          const target = form.querySelector(`[data-error-for="${CSS.escape(c.value.name)}"]`) ||
            form.querySelector('[data-error-for="form"]');
          target.textContent = c.value.errors.join("; ");
          if (first) { const i = form.querySelector(`[name="${CSS.escape(c.value.name)}"]`); if (i) i.focus(); first = false; }
        }
        return;
      }
      const name = config.name;
      await api("POST", "/connect/connectors", { name, config });
      navigate("/connectors/" + encodeURIComponent(name));
    } catch (e) {
      fieldError(form, e);
    }
  });
  show(el("h1", {}, "New connector"), form);
}

async function connector(name) {
  const s = await services();
  if (!s.connect) return show(el("h1", {}, name), notConfigured("Kafka Connect", "--connect-url"));
  const enc = encodeURIComponent(name);
  const [status, info] = await Promise.all([
    api("GET", `/connect/connectors/${enc}/status`), api("GET", `/connect/connectors/${enc}`)]);
  const state = status.connector.state;
  const act = (label, method, path, question) => el("button", { type: "button",
    class: label === "Delete" ? "danger" : "", onclick: async () => {
      if (question && !confirm(question)) return;
      try {
        await api(method, path);
        if (label === "Delete") navigate("/connectors"); else setTimeout(route, 300);
      } catch (e) { alert(e.message); }
    } }, label);
  const topic = info.config["kafka.topic"] || info.config.topic || (info.config.topics || "").split(",")[0];
  const chartBox = el("div", { class: "charts", id: "topic-chart" });
  show(
    el("div", { class: "title" }, el("h1", {}, name), el("span", {},
      state === "PAUSED" ? act("Resume", "PUT", `/connect/connectors/${enc}/resume`) :
        act("Pause", "PUT", `/connect/connectors/${enc}/pause`), " ",
      act("Restart", "POST", `/connect/connectors/${enc}/restart?includeTasks=true`), " ",
      act("Delete", "DELETE", `/connect/connectors/${enc}`, `Delete connector ${name}?`))),
    el("p", {}, el("span", { class: "state " + state.toLowerCase(), id: "connector-state" }, state),
      " ", el("span", { class: "muted" }, `${info.type} · ${info.config["connector.class"]} · on ${status.connector.worker_id}`)),
    topic ? el("p", {}, "Topic ", el("a", { href: "/topics/" + encodeURIComponent(topic) }, topic)) : null,
    chartBox,
    el("h2", {}, "Tasks"),
    table([["Task", "num"], ["State"], ["Worker"], ["Trace"]],
      status.tasks.map(t => el("tr", {}, num(t.id),
        td(el("span", { class: "state " + t.state.toLowerCase() }, t.state)), td(t.worker_id),
        td(t.trace ? el("details", {}, el("summary", {}, t.trace.split("\n")[0]), el("pre", {}, t.trace)) : "–"))),
      "No tasks."),
    el("h2", {}, "Config"),
    table([["Name"], ["Value"]], Object.entries(info.config).sort().map(([k, v]) =>
      el("tr", {}, td(el("code", {}, k)), td(v)))),
  );
  const draw = async () => {
    const now = await api("GET", `/connect/connectors/${enc}/status`);
    const badge = document.getElementById("connector-state");
    if (badge && now.connector.state !== state) {
      route();
      return;
    }
    if (!topic) return;
    const m = await api("GET", `/metrics/topics/${encodeURIComponent(topic)}`);
    const target = document.getElementById("topic-chart");
    if (target) target.replaceChildren(chart(`${topic}: records in / s`,
      m.samples.map(x => [x.time, x.records_per_sec]), v => fmt.rate(v, "rec/s")));
  };
  await draw();
  every(2000, () => draw().catch(() => {}));
}

async function sql() {
  const s = await services();
  if (!s.sql) return show(el("h1", {}, "SQL"), notConfigured("Brook SQL", "--sql-url"));
  const editor = el("textarea", { name: "sql", rows: "6", spellcheck: "false", class: "editor",
    placeholder: "SELECT * FROM rides EMIT CHANGES;" }, sessionStorage.getItem("sql") || "");
  const output = el("div", { id: "sql-output" });
  const error = el("span", { class: "field-error", role: "alert", "data-error-for": "form" });
  const stop = el("button", { type: "button", disabled: true }, "Stop");
  const side = el("div", { class: "sql-side" });
  let running = null;
  const ksql = async text => api("POST", "/sql/ksql", { ksql: text, streamsProperties: {} });
  const drawSide = async () => {
    try {
      const [streams, tables, queries] = await ksql("SHOW STREAMS; SHOW TABLES; SHOW QUERIES;");
      const list = (title, items, label) => el("div", {}, el("h3", {}, title),
        items.length ? el("ul", {}, items.map(i => el("li", {}, label(i)))) : el("p", { class: "muted" }, "none"));
      side.replaceChildren(
        list("Streams", streams.streams || [], x => el("a", { href: "#", onclick: ev => {
          ev.preventDefault(); editor.value = `SELECT * FROM ${x.name} EMIT CHANGES;`; editor.focus(); } }, x.name)),
        list("Tables", tables.tables || [], x => el("a", { href: "#", onclick: ev => {
          ev.preventDefault(); editor.value = `SELECT * FROM ${x.name};`; editor.focus(); } }, x.name)),
        list("Running queries", queries.queries || [], x => el("span", { title: x.queryString }, x.id)));
    } catch (e) {
      side.replaceChildren(el("p", { class: "error" }, e.message));
    }
  };
  const run = async () => {
    error.textContent = "";
    if (running) running.abort();
    const text = editor.value.trim();
    sessionStorage.setItem("sql", text);
    if (!text) return;
    if (/^\s*select\b/i.test(text)) {
      running = new AbortController();
      stop.disabled = false;
      const head = el("tr"), body = el("tbody"), count = el("p", { class: "muted", role: "status" }, "Running…");
      output.replaceChildren(count, el("table", {}, el("thead", {}, head), body));
      try {
        const response = await fetch("/api/sql/query-stream", { method: "POST", signal: running.signal,
          headers: { "Content-Type": "application/vnd.ksqlapi.delimited.v1", Accept: "application/vnd.ksqlapi.delimited.v1" },
          body: JSON.stringify({ sql: text, properties: { "auto.offset.reset": "earliest" } }) });
        if (!response.ok) {
          const t = await response.text();
          let m = t; try { m = JSON.parse(t).message || JSON.parse(t).error || t; } catch { /* text */ }
          throw new Error(m);
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffered = "", rows = 0, header = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let at;
          while ((at = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, at).trim();
            buffered = buffered.slice(at + 1);
            if (!line) continue;
            const item = JSON.parse(line);
            if (!header) {
              header = item;
              head.replaceChildren(...(item.columnNames || []).map(c => el("th", {}, c)));
              continue;
            }
            if (Array.isArray(item)) {
              body.prepend(el("tr", {}, item.map(v => td(typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)))));
              rows++;
              while (body.children.length > 1000) body.lastChild.remove();
              count.textContent = `${rows} row(s)` + (running ? " · streaming" : "");
            } else if (item.message || item.errorMessage) {
              throw new Error(item.message || item.errorMessage);
            }
          }
        }
        count.textContent = `${rows} row(s) · done`;
      } catch (e) {
        if (e.name !== "AbortError") error.textContent = e.message;
        else output.querySelector("p").textContent += " · stopped";
      } finally {
        stop.disabled = true;
        running = null;
      }
    } else {
      try {
        const answers = await ksql(text);
        output.replaceChildren(...answers.map(a => el("pre", {}, JSON.stringify(a, null, 2))));
        drawSide();
      } catch (e) {
        error.textContent = e.message;
      }
    }
  };
  stop.addEventListener("click", () => running && running.abort());
  editor.addEventListener("keydown", ev => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); }
  });
  show(el("h1", {}, "SQL"),
    el("div", { class: "sql" },
      el("div", {}, editor,
        el("div", { class: "toolbar" }, el("button", { type: "button", onclick: run }, "Run  (Ctrl+Enter)"), stop, error),
        output),
      side));
  drawSide();
  timers.push({ abort: () => running && running.abort() });
}

// ----- Routing -----

function route() {
  for (const t of timers) {
    if (typeof t === "object" && t.abort) t.abort();
    else clearInterval(t);
  }
  timers = [];
  const path = decodeURIComponent(location.pathname).replace(/\/+$/, "") || "/";
  for (const a of document.querySelectorAll("header nav a")) {
    const href = a.getAttribute("href");
    a.classList.toggle("active", path === href || (href !== "/" && path.startsWith(href)));
  }
  show(el("p", { class: "loading" }, "Loading…"));
  let drawn;
  let m;
  if (path === "/") drawn = overview();
  else if (path === "/topics") drawn = topics();
  else if ((m = path.match(/^\/topics\/([^/]+)(?:\/(messages|produce|partitions|configs))?$/))) {
    drawn = topic(m[1], m[2]);
  } else if (path === "/groups") drawn = groups();
  else if ((m = path.match(/^\/groups\/([^/]+)$/))) drawn = group(m[1]);
  else if (path === "/schemas") drawn = schemas();
  else if ((m = path.match(/^\/schemas\/([^/]+)$/))) drawn = schema(m[1]);
  else if (path === "/connectors") drawn = connectors();
  else if (path === "/connectors/new") drawn = newConnector();
  else if ((m = path.match(/^\/connectors\/([^/]+)$/))) drawn = connector(m[1]);
  else if (path === "/sql") drawn = sql();
  else drawn = Promise.resolve(show(el("h1", {}, "No such page"),
    el("p", {}, el("a", { href: "/" }, "Back to the overview"))));
  document.title = (path === "/" ? "Overview" : path.split("/").filter(Boolean).join(" · ")) + " — Brook Console";
  drawn.catch(failed);
}

function navigate(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", ev => {
  const a = ev.target.closest("a");
  if (a && a.origin === location.origin && !a.hasAttribute("download") && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    navigate(a.pathname + a.search);
  }
});
document.addEventListener("keydown", ev => {
  if (ev.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
    const search = document.querySelector("input[type=search]");
    if (search) { ev.preventDefault(); search.focus(); }
  }
});
window.addEventListener("popstate", route);
route();
