// Brook Console: a page per URL, each drawn from the JSON API under /api.
"use strict";

const page = document.getElementById("page");

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(method, path, body) {
  const response = await fetch("/api" + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.error) || response.statusText);
  return data;
}

function show(...children) {
  page.replaceChildren(...children);
}

function failed(e) {
  show(el("p", { class: "error", role: "alert" }, "Could not load this page: " + e.message));
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map(([h, cls]) => el("th", cls ? { class: cls } : {}, h)))),
    el("tbody", {}, rows));
}

async function overview() {
  const o = await api("GET", "/overview");
  const card = (n, label) => el("div", { class: "card" }, el("div", { class: "n" }, n),
    el("div", { class: "label" }, label));
  show(
    el("h1", {}, "Overview"),
    el("div", { class: "cards" },
      card(o.brokers.length, "brokers"), card(o.topics, "topics"),
      card(o.partitions, "partitions"), card(o.groups, "consumer groups")),
    table([["Broker"], ["Host"], ["Port", "num"]],
      o.brokers.map(b => el("tr", {}, el("td", {}, b.id), el("td", {}, b.host),
        el("td", { class: "num" }, b.port)))),
  );
}

async function topics() {
  const list = await api("GET", "/topics");
  const error = el("span", { class: "field-error", id: "create-error", role: "alert" });
  const form = el("form", { class: "create", onsubmit: async ev => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const configs = {};
      if (f.get("retention")) configs["retention.ms"] = String(f.get("retention"));
      try {
        await api("POST", "/topics", { name: f.get("name"),
          partitions: Number(f.get("partitions")), configs });
        navigate("/topics/" + encodeURIComponent(f.get("name")));
      } catch (e) {
        error.textContent = e.message;
      }
    } },
    el("label", {}, "Name", el("input", { name: "name", required: "" })),
    el("label", {}, "Partitions", el("input", { name: "partitions", type: "number", value: "1" })),
    el("label", {}, "Retention (ms)", el("input", { name: "retention", type: "number" })),
    el("button", { type: "submit" }, "Create topic"), error);
  show(
    el("h1", {}, "Topics"),
    form,
    table([["Topic"], ["Partitions", "num"], ["Replication", "num"], ["Messages", "num"]],
      list.filter(t => !t.internal).map(t => el("tr", {},
        el("td", {}, el("a", { href: "/topics/" + encodeURIComponent(t.name) }, t.name)),
        el("td", { class: "num" }, t.partitions),
        el("td", { class: "num" }, t.replication_factor),
        el("td", { class: "num" }, t.messages.toLocaleString())))),
  );
}

async function topic(name) {
  const t = await api("GET", "/topics/" + encodeURIComponent(name));
  const remove = el("button", { class: "danger", onclick: async () => {
    if (!confirm(`Delete topic ${name} and every message in it?`)) return;
    await api("DELETE", "/topics/" + encodeURIComponent(name));
    navigate("/topics");
  } }, "Delete topic");
  show(
    el("h1", {}, name),
    table([["Partition", "num"], ["Leader", "num"], ["Start offset", "num"], ["End offset", "num"]],
      t.partitions.map(p => el("tr", {}, el("td", { class: "num" }, p.partition),
        el("td", { class: "num" }, p.leader), el("td", { class: "num" }, p.log_start_offset),
        el("td", { class: "num" }, p.log_end_offset)))),
    el("h2", {}, "Configs"),
    table([["Name"], ["Value"], ["Source"]],
      t.configs.map(c => el("tr", {}, el("td", {}, c.name),
        el("td", {}, c.sensitive ? "(hidden)" : (c.value ?? "")), el("td", {}, c.source)))),
    el("p", {}, remove),
  );
}

function route() {
  const path = decodeURIComponent(location.pathname);
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", path === a.getAttribute("href") ||
      (a.getAttribute("href") !== "/" && path.startsWith(a.getAttribute("href"))));
  }
  show(el("p", { class: "loading" }, "Loading…"));
  let drawn;
  if (path === "/" || path === "") drawn = overview();
  else if (path === "/topics") drawn = topics();
  else if (path.startsWith("/topics/")) drawn = topic(path.slice("/topics/".length));
  else drawn = Promise.resolve(show(el("p", {}, "No such page.")));
  drawn.catch(failed);
}

function navigate(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", ev => {
  const a = ev.target.closest("a");
  if (a && a.origin === location.origin && !a.hasAttribute("download")) {
    ev.preventDefault();
    navigate(a.pathname);
  }
});
window.addEventListener("popstate", route);
route();
