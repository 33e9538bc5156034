// The dashboard page: reads GET /api/dashboard (the session cookie of GET / authorises it), draws the
// live series with uPlot and everything else as tables; every number links to the SQL that produced it.
"use strict";
(() => {
  const POLL_MS = 3000;
  const LIVE = ["live_totals", "live_series"];
  const LAYOUT = [
    ["Live", ["live_totals", "live_series"]],
    ["Business", ["kpis", "funnel", "channels", "products"]],
    ["Pipeline health", ["watermarks", "dead_letters", "late_rates", "counters", "models"]],
  ];
  const STREAM_COLORS = { events: "#1f77b4", webhooks: "#ff7f0e", cdc: "#2ca02c", unknown: "#7f7f7f" };
  const KPI_LABELS = {
    sessions: "Sessions",
    users: "Users",
    orders: "Orders",
    gross_revenue: "Gross revenue",
    net_revenue: "Net revenue",
    conversion_rate: "Conversion rate",
    average_order_value: "Average order value",
  };

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  };

  const todayUtc = () => new Date().toISOString().slice(0, 10);
  const params = new URLSearchParams(location.search);
  let range = { from: params.get("from") || todayUtc(), to: params.get("to") || todayUtc() };
  let generation = 0;
  let polling = false;
  const charts = new Map();

  function kindOf(column) {
    if (/rate$/.test(column)) return "rate";
    if (/revenue|average_order_value/.test(column)) return "money";
    return "number";
  }

  function format(column, value) {
    if (value === null || value === undefined) return "—";
    const n = Number(value);
    if (typeof value === "boolean" || Number.isNaN(n) || typeof value === "object") return String(value);
    if (typeof value === "string" && !/^-?\d+(\.\d+)?$/.test(value)) return value;
    const kind = kindOf(column);
    if (kind === "rate") return `${(n * 100).toFixed(1)} %`;
    if (kind === "money") return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return n.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }

  const isNumeric = (v) => typeof v === "number" || (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v));

  /** A number that opens the panel's SQL when clicked. */
  function num(panelId, column, value) {
    const a = el("a", { class: "num", href: `#sql-${panelId}`, "data-col": column, "data-value": String(value), title: "show the SQL that produced this number", text: format(column, value) });
    a.addEventListener("click", () => {
      const d = document.getElementById(`sql-${panelId}`);
      if (d) d.open = true;
    });
    return a;
  }

  function table(panel, columns) {
    const cols = columns ?? panel.columns.map((c) => c.name);
    const head = el("tr", {}, ...cols.map((c) => el("th", { text: c })));
    const body = panel.rows.map((row) =>
      el("tr", { "data-row": "" }, ...cols.map((c) => el("td", { "data-col": c }, isNumeric(row[c]) ? num(panel.id, c, row[c]) : document.createTextNode(row[c] === null || row[c] === undefined ? "—" : String(row[c]))))),
    );
    return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
  }

  function sqlDetails(panel) {
    return el(
      "details",
      { id: `sql-${panel.id}`, class: "sql" },
      el("summary", { text: "SQL" }),
      el("pre", { text: panel.sql }),
      el("p", { class: "hint", text: "Run it yourself: npx tideline query \"<this SQL>\"" }),
    );
  }

  function emptyNote(panel) {
    return el("p", { class: "empty", text: `No rows for ${range.from} to ${range.to}. Send events (npx tideline generate) while npm start runs, run the models (npx tideline models run), or pick another range.` });
  }

  function renderKpis(panel) {
    const [today, yesterday] = [panel.rows.find((r) => r.day === range.to), panel.rows.find((r) => r.day !== range.to)];
    if (!today && !yesterday) return emptyNote(panel);
    const cards = Object.entries(KPI_LABELS).map(([col, label]) => {
      const t = today ? today[col] : null;
      const y = yesterday ? yesterday[col] : null;
      const delta = t !== null && y !== null && Number(y) !== 0 ? (Number(t) - Number(y)) / Math.abs(Number(y)) : null;
      return el(
        "div",
        { class: "kpi", "data-kpi": col },
        el("div", { class: "label", text: label }),
        el("div", { class: "today" }, t === null ? document.createTextNode("—") : num(panel.id, col, t)),
        el("div", { class: "yesterday" }, document.createTextNode("day before: "), y === null ? document.createTextNode("—") : num(panel.id, col, y)),
        el("div", { class: delta === null ? "delta" : delta >= 0 ? "delta up" : "delta down", text: delta === null ? "" : `${delta >= 0 ? "+" : ""}${(delta * 100).toFixed(1)} %` }),
      );
    });
    return el("div", { class: "kpis" }, ...cards);
  }

  function renderFunnel(panel) {
    const row = panel.rows[0];
    if (!row || Number(row.sessions) === 0) return emptyNote(panel);
    const steps = ["sessions", "product_viewed", "product_added", "checkout_started", "order_completed"];
    const first = Number(row.sessions) || 1;
    return el(
      "table",
      { class: "funnel" },
      el("thead", {}, el("tr", {}, el("th", { text: "step" }), el("th", { text: "sessions" }), el("th", { text: "of all sessions" }))),
      el(
        "tbody",
        {},
        ...steps.map((s) => {
          const share = Number(row[s]) / first;
          const bar = el("span", { class: "bar" });
          bar.style.width = `${Math.max(0, Math.min(70, share * 70))}%`;
          return el("tr", { "data-row": "" }, el("td", { text: s }), el("td", { "data-col": s }, num(panel.id, s, row[s])), el("td", {}, bar, document.createTextNode(` ${(share * 100).toFixed(1)} %`)));
        }),
      ),
    );
  }

  function renderSeries(panel, container) {
    const streams = [...new Set(panel.rows.map((r) => r.stream))].sort();
    const xs = [...new Set(panel.rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const wrap = el("div", { class: "charts" });
    for (const measure of ["events", "orders", "revenue"]) {
      const data = [xs, ...streams.map(() => xs.map(() => null))];
      for (const r of panel.rows) data[1 + streams.indexOf(r.stream)][index.get(Number(r.t))] = Number(r[measure]);
      const key = `${measure}:${streams.join(",")}`;
      let chart = charts.get(measure);
      if (chart && chart.key === key && chart.root.isConnected) {
        chart.plot.setData(data);
        wrap.append(chart.root);
        continue;
      }
      chart?.plot.destroy();
      const root = el("div", { class: "chart", "data-measure": measure });
      const plot = new uPlot(
        {
          title: `${measure} per ${panel.title.includes("hour") ? "hour" : "minute"}`,
          width: 420,
          height: 180,
          scales: { x: { time: true } },
          series: [{}, ...streams.map((s) => ({ label: s, stroke: STREAM_COLORS[s] ?? "#333", width: 1.5, spanGaps: false }))],
        },
        data,
        root,
      );
      charts.set(measure, { key, plot, root });
      wrap.append(root);
    }
    container.append(wrap);
  }

  function renderCounters(body) {
    const s = body.pipeline;
    const section = panelShell({ id: "counters", title: "Pipeline counters since it started", note: "GET /api/pipeline: the streaming pipeline's in-process counters (duplicates are dropped before the warehouse, so no table holds them)" });
    const content = section.querySelector(".content");
    if (!s) {
      content.append(el("p", { class: "empty", text: "The streaming pipeline is not running in this process; npm start runs it." }));
    } else {
      const t = s.totals;
      const rate = (n) => (t.messages > 0 ? n / t.messages : null);
      const rows = [
        ["messages", t.messages],
        ["loaded", t.loaded],
        ["duplicates", t.duplicates],
        ["duplicate_rate", rate(t.duplicates)],
        ["late", t.late],
        ["late_rate", rate(t.late)],
        ["dead_lettered", t.deadLettered],
      ];
      content.append(el("table", {}, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { "data-col": k }, v === null ? document.createTextNode("—") : el("a", { class: "num", href: "/api/pipeline", "data-value": String(v), text: format(k, v) })))))));
    }
    section.dataset.range = `${body.range.from}..${body.range.to}`;
    return section;
  }

  function renderModels(panel, body) {
    const parts = [panel.rows.length ? table(panel) : el("p", { class: "empty", text: "No models run recorded yet: npx tideline models run (npm start also runs them every TIDELINE_MODELS_INTERVAL seconds)." })];
    const run = body.lastModelsRun;
    if (run) {
      const failing = run.assertions.filter((a) => a.failingRows > 0);
      parts.push(
        el("p", { class: "note", text: `Last run in this process: ${run.finishedAt}, ${run.fullRefresh ? "full refresh" : "incremental"}, ${run.seconds.toFixed(1)} s; ${run.assertions.length} assertions, ${failing.length} with rows (warnings: ${run.warnings.map((w) => `${w.assertion} ${w.rows}`).join(", ") || "none"}). Each assertion's SQL is printed by npx tideline models run.` }),
      );
    }
    return el("div", {}, ...parts);
  }

  function panelShell(p) {
    return el("section", { id: `panel-${p.id}`, class: "panel", "data-panel": p.id }, el("h2", { text: p.title }), el("p", { class: "note", text: p.note }), el("div", { class: "content" }));
  }

  function renderPanel(panel, body) {
    let section = document.getElementById(`panel-${panel.id}`);
    const fresh = panelShell(panel);
    const content = fresh.querySelector(".content");
    if (panel.error) {
      content.append(el("div", { class: "error", "data-code": panel.error.code }, el("strong", { text: panel.error.message }), el("p", { text: `What to do: ${panel.error.hint}` })));
    } else if (panel.id === "live_series") {
      if (panel.rows.length === 0) content.append(emptyNote(panel));
      else renderSeries(panel, content);
    } else if (panel.id === "kpis") content.append(renderKpis(panel));
    else if (panel.id === "funnel") content.append(renderFunnel(panel));
    else if (panel.id === "models") content.append(renderModels(panel, body));
    else content.append(panel.rows.length ? table(panel) : emptyNote(panel));
    if (panel.truncated) content.append(el("p", { class: "hint", text: "Only the first rows are shown: narrow the range." }));
    fresh.append(sqlDetails(panel));
    if (section) {
      const wasOpen = section.querySelector("details.sql")?.open;
      if (wasOpen) fresh.querySelector("details.sql").open = true;
      section.replaceWith(fresh);
    } else {
      section = fresh;
      document.querySelector(`[data-slot="${panel.id}"]`)?.replaceWith(fresh);
    }
    fresh.dataset.range = `${body.range.from}..${body.range.to}`;
    fresh.dataset.state = panel.error ? "error" : panel.rows.length ? "ok" : "empty";
    fresh.dataset.updated = body.generatedAt;
  }

  function layout() {
    const main = $("#panels");
    main.replaceChildren(...LAYOUT.map(([title, ids]) => el("div", { class: "group" }, el("h2", { class: "group-title", text: title }), el("div", { class: "grid" }, ...ids.map((id) => el("div", { "data-slot": id }))))));
  }

  async function fetchPanels(ids) {
    const qs = new URLSearchParams({ from: range.from, to: range.to });
    if (ids) qs.set("panels", ids.join(","));
    const r = await fetch(`/api/dashboard?${qs}`, { headers: { accept: "application/json" }, credentials: "same-origin" });
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const e = body && body.error;
      throw new Error(e ? `${e.message}${e.hint ? `. What to do: ${e.hint}` : ""}` : `the operator API answered HTTP ${r.status}`);
    }
    return body;
  }

  function setStatus(text, isError) {
    const s = $("#status");
    s.textContent = text;
    s.className = isError ? "error" : "";
  }

  async function load(ids) {
    const mine = generation;
    try {
      const body = await fetchPanels(ids);
      if (mine !== generation) return;
      for (const p of body.panels) renderPanel(p, body);
      if (!ids) {
        const counters = renderCounters(body);
        const slot = document.querySelector('[data-slot="counters"]') ?? document.getElementById("panel-counters");
        slot?.replaceWith(counters);
      }
      setStatus(`${body.warehouse} · ${body.range.from} to ${body.range.to} · updated ${new Date(body.generatedAt).toLocaleTimeString()}`, false);
      document.body.dataset.generation = String(mine);
      document.body.dataset.loaded = `${body.range.from}..${body.range.to}`;
    } catch (e) {
      if (mine === generation) setStatus(`Could not load the dashboard: ${e.message}`, true);
    }
  }

  async function poll() {
    if (polling || document.hidden) return;
    polling = true;
    try {
      await load(LIVE);
    } finally {
      polling = false;
    }
  }

  $("#from").value = range.from;
  $("#to").value = range.to;
  $("#range").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const from = $("#from").value;
    const to = $("#to").value;
    if (!from || !to || from > to) {
      setStatus("Pick a start date on or before the end date.", true);
      return;
    }
    range = { from, to };
    generation += 1;
    history.replaceState(null, "", `?from=${from}&to=${to}`);
    void load();
  });

  layout();
  void load();
  setInterval(poll, POLL_MS);
})();
