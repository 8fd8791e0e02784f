// geonews web page: one search, kept in the URL with the API's parameter names
// (?q=...&sort=...&offset=...&article=ID), so that a link is a search and back/forward work.
"use strict";

const PAGE = 10;
const SIDEBAR = ["country", "region", "topic", "person", "org", "source"];
const EVIDENCE_TYPES = { country: "country", region: "region", topic: "topic", person: "person", org: "org" };
const $ = (id) => document.getElementById(id);

let fields = [];   // countable fields from /api/fields
let state = readUrl();
let renders = 0;   // the latest render: answers to older ones are dropped

// ---------- URL state

function readUrl() {
  const params = new URLSearchParams(location.search);
  return {
    q: params.get("q") || "",
    sort: params.get("sort") || "relevance",
    offset: Math.max(0, parseInt(params.get("offset") || "0", 10) || 0),
    article: params.get("article"),
  };
}

function writeUrl(replace) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.sort !== "relevance") params.set("sort", state.sort);
  if (state.offset) params.set("offset", String(state.offset));
  if (state.article) params.set("article", state.article);
  const url = "/" + (params.toString() ? "?" + params : "");
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
}

function go(changes) {
  Object.assign(state, changes);
  writeUrl(false);
  render();
}

window.addEventListener("popstate", () => { state = readUrl(); render(); });

// ---------- API

/// Headers for the API: the bearer token, when the server asked for one and it was given.
function headers(extra) {
  const token = sessionStorage.getItem("geonews-token");
  return Object.assign({ Accept: "application/json" }, token ? { Authorization: "Bearer " + token } : {}, extra);
}

async function api(path, params) {
  const query = params ? "?" + new URLSearchParams(params) : "";
  const response = await fetch(path + query, { headers: headers() });
  if (response.status === 401) askForToken();
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.error.message), { detail: body.error });
  return body;
}

/// A server started with --token: ask for it once, keep it for this tab.
function askForToken() {
  if ($("token-form")) return;
  const input = el("input", { id: "token", type: "password", autocomplete: "off", "aria-label": "Token" });
  const form = el("form", { id: "token-form" },
    el("label", { for: "token" }, "This server needs the token it was started with: "), input,
    el("button", { type: "submit" }, "Use it"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("geonews-token", input.value);
    form.remove();
    start();
  });
  document.querySelector("header").after(form);
  input.focus();
}

// ---------- Query text: the sidebar edits the clauses of one field, `field:Value` or
// `field:(A OR B)`, at the top level of the query.

function tokens(query) {
  const out = [];
  let i = 0;
  while (i < query.length) {
    if (/\s/.test(query[i])) { i++; continue; }
    let j = i, depth = 0, quoted = false;
    while (j < query.length) {
      const c = query[j];
      if (c === '"') quoted = !quoted;
      else if (!quoted && c === "(") depth++;
      else if (!quoted && c === ")") depth--;
      else if (!quoted && depth <= 0 && /\s/.test(c)) break;
      j++;
    }
    out.push(query.slice(i, j));
    i = j;
  }
  return out;
}

function clauseValues(token, name) {
  const match = token.match(/^([a-z]+):(.*)$/i);
  if (!match || match[1].toLowerCase() !== name) return null;
  let rest = match[2];
  if (rest.startsWith("(") && rest.endsWith(")")) {
    const inner = rest.slice(1, -1);
    const parts = inner.match(/"[^"]*"|[^\s]+/g) || [];
    return parts.filter((p) => p.toUpperCase() !== "OR").map(unquote);
  }
  return [unquote(rest)];
}

function unquote(value) {
  return value.startsWith('"') && value.endsWith('"') && value.length > 1 ? value.slice(1, -1) : value;
}

function quote(value) {
  return /^[\p{L}\p{N}_.-]+$/u.test(value) ? value : '"' + value.replace(/"/g, "") + '"';
}

function selected(query, name) {
  const values = [];
  for (const token of tokens(query)) values.push(...(clauseValues(token, name) || []));
  return values;
}

function withoutField(query, name) {
  return tokens(query).filter((token) => clauseValues(token, name) === null).join(" ");
}

function withValues(query, name, values) {
  const rest = withoutField(query, name);
  if (!values.length) return rest;
  const clause = values.length === 1
    ? `${name}:${quote(values[0])}`
    : `${name}:(${values.map(quote).join(" OR ")})`;
  return (rest ? rest + " " : "") + clause;
}

function toggle(name, value) {
  const current = selected(state.q, name);
  const next = current.includes(value) ? current.filter((v) => v !== value) : current.concat([value]);
  go({ q: withValues(state.q, name, next), offset: 0 });
}

function withDates(query, after, before) {
  const kept = tokens(query).filter((t) => !/^(after|before|date):/i.test(t));
  if (after) kept.push("after:" + after);
  if (before) kept.push("before:" + before);
  return kept.join(" ");
}

// ---------- Rendering

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// Whether a render has been overtaken by a newer one (whose answers are the ones to show).
const stale = (mine) => mine !== renders;

/// Renders the state; `body[data-state]` is `loading` until the latest render is on screen,
/// then `ready` (the browser tests wait for it).
async function render() {
  const mine = ++renders;
  document.body.dataset.state = "loading";
  $("q").value = state.q;
  $("sort").value = state.sort;
  document.querySelector("main").classList.toggle("reading", Boolean(state.article));
  await Promise.all([renderResults(mine), renderArticle(mine)]);
  if (!stale(mine)) document.body.dataset.state = "ready";
}

async function renderResults(mine) {
  const facetNames = SIDEBAR.filter((name) => fields.some((f) => f.query_name === name) && name !== "region");
  let results;
  try {
    results = await api("/api/search", {
      q: state.q, sort: state.sort, limit: PAGE, offset: state.offset,
      facets: facetNames.map(fieldName).join(","), facet_limit: 10,
    });
  } catch (error) {
    if (!stale(mine)) showError(error);
    return;
  }
  if (stale(mine)) return;
  clearError();
  renderSummary(results);
  renderHits(results.hits);
  renderPager(results.total);
  await Promise.all([renderFacets(mine, results.facets), renderTimeline(mine)]);
}

function fieldName(queryName) {
  const field = fields.find((f) => f.query_name === queryName);
  return field ? field.name : queryName;
}

function showError(error) {
  const box = $("error");
  box.replaceChildren();
  const detail = error.detail || { message: error.message };
  box.append(el("strong", {}, "Query error: "), detail.message);
  if (detail.column) {
    const caret = " ".repeat(detail.column - 1) + "^";
    box.append(el("pre", { "aria-label": `error at column ${detail.column}` }, state.q + "\n" + caret));
  }
  if (detail.suggestions && detail.suggestions.length) {
    box.append(el("span", {}, "Did you mean: "));
    for (const suggestion of detail.suggestions) {
      box.append(el("button", {
        type: "button", class: "suggestion",
        onclick: () => go({ q: replaceAtColumn(state.q, detail.column, suggestion), offset: 0 }),
      }, suggestion));
    }
  }
  box.hidden = false;
  $("hits").replaceChildren();
  $("summary").textContent = "";
  $("pager").replaceChildren();
}

/// Replaces the value that starts at `column` (1-based) with `suggestion`.
function replaceAtColumn(query, column, suggestion) {
  const start = column - 1;
  let end = start;
  while (end < query.length && !/[\s)]/.test(query[end])) end++;
  return query.slice(0, start) + suggestion + query.slice(end);
}

function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
}

function renderSummary(results) {
  const shown = results.hits.length ? ` · ${state.offset + 1}–${state.offset + results.hits.length}` : "";
  $("summary").textContent = `${results.total} article${results.total === 1 ? "" : "s"}${shown}`;
}

function highlighted(snippet) {
  const parts = [];
  const bytes = new TextEncoder().encode(snippet.text);
  const decode = (a, b) => new TextDecoder().decode(bytes.slice(a, b));
  let at = 0;
  for (const [start, end] of snippet.highlights) {
    if (start < at) continue;
    parts.push(decode(at, start), el("mark", {}, decode(start, end)));
    at = end;
  }
  parts.push(decode(at, bytes.length));
  return parts;
}

function chips(entities) {
  const groups = [
    ["country", entities.countries], ["topic", entities.topics],
    ["person", entities.people], ["org", entities.organizations],
  ];
  const list = el("div", { class: "chips" });
  for (const [name, values] of groups) {
    for (const value of (values || []).slice(0, 6)) {
      list.append(el("button", {
        type: "button", class: "chip " + name, title: `Filter by ${name}:${value.key}`,
        onclick: () => toggle(name, value.key),
      }, `${name}:${value.key}`));
    }
  }
  return list;
}

function renderHits(hits) {
  $("hits").replaceChildren(...hits.map((hit) => el("li", { class: "hit" },
    el("h3", {}, el("a", {
      href: "/?" + new URLSearchParams({ ...urlParams(), article: hit.id }),
      onclick: (event) => { event.preventDefault(); go({ article: hit.id }); },
    }, hit.title)),
    el("div", { class: "meta" }, [hit.published ? hit.published.slice(0, 10) : "undated", hit.source, hit.id].filter(Boolean).join(" · ")),
    chips(hit.entities),
    el("p", { class: "snippet" }, highlighted(hit.snippet)),
  )));
}

function urlParams() {
  const params = {};
  if (state.q) params.q = state.q;
  if (state.sort !== "relevance") params.sort = state.sort;
  if (state.offset) params.offset = state.offset;
  return params;
}

function renderPager(total) {
  const pager = $("pager");
  pager.replaceChildren();
  if (total <= PAGE) return;
  const page = Math.floor(state.offset / PAGE) + 1;
  const pages = Math.ceil(total / PAGE);
  pager.append(
    el("button", { type: "button", disabled: page === 1, onclick: () => go({ offset: state.offset - PAGE }) }, "← Previous"),
    el("span", {}, `Page ${page} of ${pages}`),
    el("button", { type: "button", disabled: page === pages, onclick: () => go({ offset: state.offset + PAGE }) }, "Next →"),
  );
}

async function renderFacets(mine, counts) {
  const nav = $("facets");
  const sections = [];
  for (const name of SIDEBAR) {
    if (!fields.some((f) => f.query_name === name)) continue;
    if (name === "region") {
      sections.push(await regionSection());
      if (stale(mine)) return;
      continue;
    }
    const facet = counts.find((c) => c.field === fieldName(name));
    if (facet) sections.push(facetSection(name, facet.values, facet.multi_select));
  }
  nav.replaceChildren(...sections.filter(Boolean));
}

function facetSection(name, values, multiSelect) {
  const chosen = selected(state.q, name);
  // A chosen value the top counts leave out still shows, so it can be unticked.
  const shown = values.slice();
  for (const value of chosen) if (!shown.some((v) => v.key === value)) shown.push({ key: value, count: 0 });
  if (!shown.length) return null;
  const id = "facet-" + name;
  return el("section", { "aria-labelledby": id },
    el("h2", { id }, name),
    multiSelect ? el("div", { class: "note" }, `counted without the ${name} filter`) : null,
    valueList(name, shown, chosen));
}

function valueList(name, values, chosen) {
  return el("ul", {}, values.map((value) => el("li", {},
    el("label", {},
      el("input", {
        type: "checkbox", checked: chosen.includes(value.key), "data-field": name, "data-key": value.key,
        onchange: () => toggle(name, value.key),
      }),
      el("span", {}, value.key),
      el("span", { class: "count" }, value.count)),
    null)));
}

async function regionSection() {
  let tree;
  try {
    tree = await api("/api/facets", { field: "region", q: withoutField(state.q, "region"), limit: 6 });
  } catch (error) {
    return null;
  }
  if (!tree.values.length) return null;
  const chosen = selected(state.q, "region");
  const countries = selected(state.q, "country");
  const list = (values, depth) => el("ul", {}, values.map((value) => {
    // Below the top level, a leaf is a country; regions hold subregions or countries.
    const isCountry = depth > 0 && !(value.children && value.children.length);
    const name = isCountry ? "country" : "region";
    return el("li", {},
      el("label", {},
        el("input", {
          type: "checkbox", checked: (isCountry ? countries : chosen).includes(value.key),
          "data-field": name, "data-key": value.key, onchange: () => toggle(name, value.key),
        }),
        el("span", {}, value.key),
        el("span", { class: "count" }, value.count)),
      value.children && value.children.length ? list(value.children, depth + 1) : null);
  }));
  return el("section", { "aria-labelledby": "facet-region" },
    el("h2", { id: "facet-region" }, "region"),
    el("div", { class: "note" }, "regions › subregions › countries, counted without the region filter"),
    list(tree.values, 0));
}

// ---------- Timeline: an SVG bar per bucket; dragging across bars sets after:/before:.

async function renderTimeline(mine) {
  const box = $("timeline");
  let timeline;
  try {
    timeline = await api("/api/timeline", { q: state.q, by: "month" });
    if (timeline.buckets.length > 48) timeline = await api("/api/timeline", { q: state.q, by: "year" });
    else if (timeline.buckets.length > 0 && timeline.buckets.length <= 2) timeline = await api("/api/timeline", { q: state.q, by: "day" });
  } catch (error) {
    if (!stale(mine)) box.replaceChildren();
    return;
  }
  if (stale(mine)) return;
  $("timeline-caption").textContent = timeline.buckets.length
    ? `Articles by ${timeline.by}, ${timeline.buckets[0].label} to ${timeline.buckets[timeline.buckets.length - 1].label}` +
      (timeline.undated ? ` (${timeline.undated} undated)` : "") + " — drag across bars to set dates"
    : "No dated articles";
  box.replaceChildren(chart(timeline));
}

function chart(timeline) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const buckets = timeline.buckets;
  const width = 600, height = 120, bottom = 16;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", buckets.map((b) => `${b.label}: ${b.count}`).join(", "));
  if (!buckets.length) return svg;
  const longest = Math.max(...buckets.map((b) => b.count), 1);
  const slot = width / buckets.length;
  const shape = (tag, attributes) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    return node;
  };
  buckets.forEach((bucket, i) => {
    const h = (bucket.count / longest) * (height - bottom - 4);
    const bar = shape("rect", { class: "bar", x: i * slot + slot * 0.1, width: slot * 0.8, y: height - bottom - h, height: h, "data-start": bucket.start });
    bar.append(shape("title", {}));
    bar.lastChild.textContent = `${bucket.label}: ${bucket.count}`;
    svg.append(bar);
  });
  const first = shape("text", { class: "axis", x: 2, y: height - 3 });
  first.textContent = buckets[0].label;
  const last = shape("text", { class: "axis", x: width - 2, y: height - 3, "text-anchor": "end" });
  last.textContent = buckets[buckets.length - 1].label;
  svg.append(first, last);
  const selection = shape("rect", { class: "selection", y: 0, height: height - bottom, width: 0, x: 0 });
  svg.append(selection);
  let from = null;
  const index = (event) => {
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * width;
    return Math.min(buckets.length - 1, Math.max(0, Math.floor(x / slot)));
  };
  svg.addEventListener("pointerdown", (event) => { from = index(event); svg.setPointerCapture(event.pointerId); });
  svg.addEventListener("pointermove", (event) => {
    if (from === null) return;
    const to = index(event);
    const [a, b] = [Math.min(from, to), Math.max(from, to)];
    selection.setAttribute("x", a * slot);
    selection.setAttribute("width", (b - a + 1) * slot);
  });
  svg.addEventListener("pointerup", (event) => {
    if (from === null) return;
    const to = index(event);
    const [a, b] = [Math.min(from, to), Math.max(from, to)];
    from = null;
    const after = buckets[a].start;
    const before = b + 1 < buckets.length ? buckets[b + 1].start : nextStart(buckets[b].start, timeline.by);
    go({ q: withDates(state.q, after, before), offset: 0 });
  });
  return svg;
}

function nextStart(start, by) {
  const date = new Date(start + "T00:00:00Z");
  if (by === "day") date.setUTCDate(date.getUTCDate() + 1);
  else if (by === "week") date.setUTCDate(date.getUTCDate() + 7);
  else if (by === "month") date.setUTCMonth(date.getUTCMonth() + 1);
  else date.setUTCFullYear(date.getUTCFullYear() + 1);
  return date.toISOString().slice(0, 10);
}

// ---------- Article view: the text with each entity's evidence highlighted in place.

async function renderArticle(mine) {
  const view = $("article");
  if (!state.article) {
    view.hidden = true;
    view.replaceChildren();
    return;
  }
  let article, explained, related;
  try {
    [article, explained, related] = await Promise.all([
      api("/api/articles/" + encodeURIComponent(state.article)),
      api("/api/articles/" + encodeURIComponent(state.article) + "/explain"),
      api("/api/related/" + encodeURIComponent(state.article), { limit: 5 }).catch(() => ({ hits: [] })),
    ]);
  } catch (error) {
    if (stale(mine)) return;
    view.hidden = false;
    view.replaceChildren(el("p", { role: "alert" }, error.message));
    return;
  }
  if (stale(mine)) return;
  const text = [article.title, article.summary, article.body].filter(Boolean).join("\n\n");
  const titleBytes = new TextEncoder().encode(article.title).length;
  const spans = (explained.explain || []).filter((d) => d.kept);
  view.replaceChildren(
    el("button", { type: "button", onclick: () => go({ article: null }) }, "Close article"),
    el("h2", { id: "article-title" }, marked(text, spans, 0, titleBytes)),
    el("div", { class: "meta" }, [article.published ? article.published.slice(0, 10) : "undated", article.source, article.author, article.id].filter(Boolean).join(" · ")),
    article.url ? el("div", { class: "meta" }, webLink(article.url)) : null,
    el("p", { class: "legend" }, Object.keys(EVIDENCE_TYPES).map((t) => el("span", { class: "ev " + t }, t))),
    entityList(article.entities, explained),
    el("div", { class: "text" }, marked(text, spans, titleBytes + 2, new TextEncoder().encode(text).length)),
    relatedList(related),
  );
  view.hidden = false;
}

/// A link for an article's own URL when it is a web address; any other scheme (javascript:,
/// data:) stays text.
function webLink(url) {
  return /^https?:\/\//i.test(url) ? el("a", { href: url, rel: "noopener noreferrer" }, url) : url;
}

/// The bytes [from, to) of `text` with the kept evidence spans highlighted.
function marked(text, decisions, from, to) {
  const bytes = new TextEncoder().encode(text);
  const decode = (a, b) => new TextDecoder().decode(bytes.slice(a, b));
  const spans = decisions
    .map((d) => ({ start: d.offset, end: d.offset + new TextEncoder().encode(d.surface).length, type: EVIDENCE_TYPES[d.field] || "other", d }))
    .filter((s) => s.start >= from && s.end <= to)
    .sort((a, b) => a.start - b.start);
  const parts = [];
  let at = from;
  for (const span of spans) {
    if (span.start < at) continue;
    parts.push(decode(at, span.start));
    parts.push(el("span", { class: "ev " + span.type, title: `${span.d.field}:${span.d.key} — ${span.d.rule}` }, decode(span.start, span.end)));
    at = span.end;
  }
  parts.push(decode(at, to));
  return parts;
}

function entityList(entities, explained) {
  const list = el("dl", { class: "entities" });
  if (entities.countries.length) {
    list.append(el("dt", {}, "Countries (★ what the article is about)"), el("dd", {},
      entities.countries.map((c, i) => [i ? ", " : "", el("span", { class: c.salient ? "salient" : "" }, (c.salient ? "★ " : "") + c.key)]).flat()));
  }
  if (entities.topics.length) {
    list.append(el("dt", {}, "Topics, with their score and the rules that fired"));
    for (const topic of entities.topics) {
      const rules = (explained.explain || []).filter((d) => d.field === "topic" && d.key === topic.key && d.kept);
      list.append(el("dd", {}, `${topic.key} (score ${topic.score})`,
        el("ul", { class: "rules" }, rules.slice(0, 5).map((r) => el("li", {}, `“${r.surface}”: ${r.rule}`)))));
    }
  }
  for (const [label, values] of [["People", entities.people], ["Organizations", entities.organizations]]) {
    if (values && values.length) list.append(el("dt", {}, label), el("dd", {}, values.map((v) => v.key).join(", ")));
  }
  return list;
}

function relatedList(related) {
  if (!related.hits || !related.hits.length) return null;
  return el("section", { "aria-labelledby": "related-title" },
    el("h3", { id: "related-title" }, "Related articles"),
    el("ul", {}, related.hits.map((hit) => el("li", {},
      el("a", { href: "/?" + new URLSearchParams({ ...urlParams(), article: hit.id }), onclick: (e) => { e.preventDefault(); go({ article: hit.id }); } }, hit.title),
      el("span", { class: "meta" }, " " + (hit.published ? hit.published.slice(0, 10) : ""))))));
}

// ---------- Saved searches: each with its count of articles it has not seen, and its feed.

async function renderWatches() {
  let list;
  try {
    list = await api("/api/watches");
  } catch (error) {
    $("watches").hidden = true;
    return;
  }
  $("watch-list").replaceChildren(...list.watches.map((status) => el("li", {},
    el("a", {
      href: "/?" + new URLSearchParams({ q: status.query }),
      title: status.note || status.query,
      onclick: (event) => { event.preventDefault(); go({ q: status.query, offset: 0, article: null }); },
    }, status.name),
    status.unseen ? el("span", { class: "unseen", title: "articles it has not seen" }, status.unseen) : null,
    el("a", { class: "feed", href: feedUrl(status.name) }, "feed"))));
}

/// A watch's feed, with the token in the URL when the server needs one (feed readers cannot
/// send headers).
function feedUrl(name) {
  const token = sessionStorage.getItem("geonews-token");
  const path = `/feeds/${encodeURIComponent(name)}.atom`;
  return token ? path + "?" + new URLSearchParams({ token }) : path;
}

$("watch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("watch-name").value.trim();
  const response = await fetch("/api/watches/" + encodeURIComponent(name), {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify({ query: state.q }),
  });
  const body = await response.json();
  $("watch-status").textContent = response.ok ? `saved “${name}”` : body.error.message;
  if (response.ok) {
    $("watch-name").value = "";
    renderWatches();
  }
});

// ---------- Wiring

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  go({ q: $("q").value.trim(), sort: $("sort").value, offset: 0, article: null });
});
$("sort").addEventListener("change", () => go({ sort: $("sort").value, offset: 0 }));
$("help-toggle").addEventListener("click", () => {
  const help = $("help");
  help.hidden = !help.hidden;
  $("help-toggle").setAttribute("aria-expanded", String(!help.hidden));
});
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("q").focus();
  }
});

/// Loads the fields the sidebar shows, then everything else (again once a token is given).
function start() {
  api("/api/fields").then((list) => { fields = list; writeUrl(true); render(); renderWatches(); $("q").focus(); },
    (error) => showError(error));
}

start();
