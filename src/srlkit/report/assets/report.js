// srl report: renders the embedded data (#srl-data). Lists render PAGE rows at a time, more
// as the reader scrolls; a row's detail (prompt, highlighted comparison) is built when opened.
"use strict";
(function () {
  performance.mark("srl:start");
  const DATA = JSON.parse(document.getElementById("srl-data").textContent);
  performance.mark("srl:data");
  const PAGE = 60;
  const main = document.getElementById("main");
  const toc = document.getElementById("toc");

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "cls") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }
  const fmt = (v, d = 3) => (v === null || v === undefined ? "-" : Number(v).toFixed(d));
  const pct = (v) => (v === null || v === undefined ? "-" : (100 * v).toFixed(1));
  const runLabel = (k) => DATA.runs[k].label;

  function section(id, title) {
    const s = el("section", { id: id }, [el("h2", { text: title })]);
    main.append(s);
    toc.append(el("a", { href: "#" + id, text: title }));
    return s;
  }

  function header() {
    const box = el("div", { cls: "runs" });
    DATA.runs.forEach((r) => {
      const parts = [el("b", { text: r.label }), ` ${r.kind} run · ${r.path}`];
      if (r.best && r.best.step !== undefined && r.best.step !== null)
        parts.push(` · best checkpoint: step ${r.best.step} (${r.best.metric} ${fmt(r.best.value)})`);
      if (r.skipped_lines) parts.push(el("span", { cls: "warn", text: ` · ${r.skipped_lines} unreadable lines skipped` }));
      box.append(el("span", {}, parts));
    });
    document.getElementById("runs").append(box);
  }

  function plot(container, item) {
    const div = el("div", { cls: "figure", id: "fig-" + item.id.replace(/[^a-zA-Z0-9_-]/g, "_") });
    container.append(div);
    Plotly.newPlot(div, item.figure.data, item.figure.layout, { displaylogo: false, responsive: true });
  }

  function table(rows, columns) {
    const head = el("tr", {}, columns.map((c) => el("th", { text: c[0] })));
    const body = rows.map((r) => el("tr", {}, columns.map((c) => el("td", { text: String(c[1](r)) }))));
    return el("table", { cls: "data" }, [el("thead", {}, [head]), el("tbody", {}, body)]);
  }

  function evalTable(container) {
    // One row per benchmark, the runs side by side.
    const runs = [...new Set(DATA.eval_table.map((r) => r.run))];
    const benches = [...new Set(DATA.eval_table.map((r) => r.benchmark))];
    const cell = (b, k) => DATA.eval_table.find((r) => r.benchmark === b && r.run === k) || {};
    const cols = [["benchmark", (b) => b], ["problems", (b) => runs.map((k) => cell(b, k).problems ?? "-").join(" / ")]];
    runs.forEach((k) => {
      const L = runLabel(k);
      cols.push([`${L}: greedy %`, (b) => pct(cell(b, k).greedy)]);
      cols.push([`${L}: avg@k %`, (b) => (cell(b, k).k ? `${pct(cell(b, k).avg)} (k=${cell(b, k).k})` : "-")]);
      cols.push([`${L}: pass@k %`, (b) => (cell(b, k).pass_k ? `${pct(cell(b, k).pass)} (k=${cell(b, k).pass_k})` : "-")]);
      cols.push([`${L}: mean tokens`, (b) => fmt(cell(b, k).mean_tokens, 1)]);
    });
    const t = table(benches, cols);
    t.id = "eval-table";
    container.append(t);
  }

  function stepsTable(container) {
    const t = table(DATA.steps_table, [
      ["run", (r) => runLabel(r.run)], ["instances", (r) => r.n_instances ?? "-"],
      ["mean step reward", (r) => fmt(r.mean_reward)], ["similarity when formatted", (r) => fmt(r.mean_similarity_formatted)],
      ["format failures %", (r) => pct(r.format_failure_rate)], ["exact steps %", (r) => pct(r.exact_match_rate)],
    ]);
    t.id = "steps-table";
    container.append(t);
  }

  function demoTable(container) {
    const methods = [...new Set(DATA.demo_table.flatMap((r) => Object.keys(r.values)))];
    const several = new Set(DATA.demo_table.map((r) => r.run)).size > 1; // else "run" says nothing
    const t = table(DATA.demo_table, [
      ...(several ? [["run", (r) => runLabel(r.run)]] : []), ["metric", (r) => r.metric],
      ...methods.map((m) => [m, (r) => fmt(r.values[m])]),
    ]);
    t.id = "demo-table";
    container.append(t);
    (DATA.demo_reading || []).forEach((r) => {
      const list = el("ul", { cls: "demo-reading" });
      r.lines.forEach((line) => list.append(el("li", { text: line })));
      container.append(el("p", { text: `${runLabel(r.run)}, in plain words:` }), list);
    });
  }

  function loopSections() {
    // An srl loop: accuracy and pool per round, each round's filtering, the totals, its reading.
    const s = section("loop", "Loop rounds");
    const n = (v) => (v === null || v === undefined ? "-" : String(v));
    DATA.loops.forEach((L) => {
      const box = el("div", { cls: "loop" });
      s.append(box);
      if (DATA.loops.length > 1) box.append(el("h3", { text: runLabel(L.run) }));
      if (L.figure) plot(box, L.figure);
      const exact = L.rounds.some((r) => r.exact_step !== null);
      const t = table(L.rounds, [
        ["round", (r) => n(r.round)], ["sampled from", (r) => r.sampled_from ?? "-"],
        ["unsolved before", (r) => n(r.unsolved_before)], ["samples asked", (r) => n(r.samples_asked)],
        ["outcome-verified", (r) => n(r.outcome_verified)], ["renumbered", (r) => n(r.renumbered)],
        ["process failures", (r) => n(r.process_failed) + (r.process_failed_why ? ` (${r.process_failed_why})` : "")],
        ["wrongly let in by outcome-only", (r) => n(r.wrongly_let_in)],
        ["new entries", (r) => n(r.new_entries)], ["newly solved", (r) => n(r.newly_solved)],
        ["solved", (r) => n(r.solved)], ["pool", (r) => n(r.pool)], ["instances", (r) => n(r.instances)],
        ["instances added", (r) => n(r.instances_added)],
        ["accuracy %", (r) => pct(r.accuracy)], ...(exact ? [["exact step %", (r) => pct(r.exact_step)]] : []),
      ]);
      t.classList.add("loop-table");
      box.append(t);
      const totals = table(L.totals, [["over all rounds", (x) => x[0]], ["", (x) => x[1]]]);
      totals.classList.add("loop-totals");
      box.append(totals);
      if (L.reading.length) {
        const list = el("ul", { cls: "loop-reading" });
        L.reading.forEach((line) => list.append(el("li", { text: line })));
        box.append(el("p", { text: "In plain words:" }), list);
      }
    });
  }

  // ---- lazily rendered lists ---------------------------------------------------------------
  function lazyList(container, rows, summary, detail) {
    container.replaceChildren();
    let shown = 0;
    const sentinel = el("button", { cls: "more", text: "show more" });
    function more() {
      const end = Math.min(rows.length, shown + PAGE);
      const frag = document.createDocumentFragment();
      for (let i = shown; i < end; i++) {
        const d = el("details", {}, [summary(rows[i])]);
        Object.entries(rows[i].attrs || {}).forEach(([k, v]) => d.setAttribute(k, v));
        const row = rows[i];
        d.addEventListener("toggle", () => {
          if (d.open && !d.dataset.built) { d.append(detail(row)); d.dataset.built = "1"; }
        });
        frag.append(d);
      }
      shown = end;
      container.append(frag);
      if (shown < rows.length) container.append(sentinel); else sentinel.remove();
    }
    sentinel.addEventListener("click", more);
    if (container._observer) container._observer.disconnect();
    container._observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && shown < rows.length) more();
    });
    more();
    container._observer.observe(sentinel);
  }

  function highlighted(text, blocks, side) {
    // side 0: prediction (block[0] is its offset), 1: reference (block[1]); block[2] = length.
    const out = el("pre", { cls: side === 0 ? "pred" : "ref" });
    const order = blocks.map((b, k) => [b[side], b[2], k]).sort((a, b) => a[0] - b[0]);
    let pos = 0;
    for (const [start, n, k] of order) {
      if (start > pos) out.append(text.slice(pos, start));
      out.append(el("mark", { cls: "m" + (k % 2 ? " alt" : ""), "data-block": String(k), text: text.slice(start, start + n) }));
      pos = start + n;
    }
    if (pos < text.length) out.append(text.slice(pos));
    return out;
  }

  function linkBlocks(box) {
    box.addEventListener("mouseover", (e) => {
      const k = e.target.dataset && e.target.dataset.block;
      box.querySelectorAll("mark.hot").forEach((m) => m.classList.remove("hot"));
      if (k !== undefined) box.querySelectorAll(`mark[data-block="${k}"]`).forEach((m) => m.classList.add("hot"));
    });
  }

  function rolloutDetail(row) {
    const g = row.g, r = row.r;
    const box = el("div", { cls: "detail" });
    box.append(el("h4", { text: `prompt (step ${g.step}, group ${g.group}, round ${g.round}; group reward mean ${fmt(g.mean)}, std ${fmt(g.std)}, ${g.kept === null ? "no dynamic sampling" : g.kept ? "kept" : "dropped"} by dynamic sampling)` }));
    box.append(el("pre", { cls: "prompt", text: g.prompt }));
    if (r.over_budget) {
      box.append(el("div", { cls: "pair" }, [
        el("div", {}, [el("h4", { text: "action (as compared)" }), el("pre", { cls: "pred", text: r.pred })]),
        el("div", {}, [el("h4", { text: "expert step (as compared)" }), el("pre", { cls: "ref", text: r.ref })]),
      ]));
      box.append(el("div", { cls: "formula over-budget", text: "over the matching budget: matching this pair needs more work than the step reward allows, so the reward scored it " },
        [el("b", { cls: "ratio", text: "0.000000" })]));
    } else if (r.blocks) {
      const matched = r.blocks.reduce((s, b) => s + b[2], 0);
      const total = r.pred.length + r.ref.length;
      box.append(el("div", { cls: "pair" }, [
        el("div", {}, [el("h4", { text: "action (as compared)" }), highlighted(r.pred, r.blocks, 0)]),
        el("div", {}, [el("h4", { text: "expert step (as compared)" }), highlighted(r.ref, r.blocks, 1)]),
      ]));
      box.append(el("div", { cls: "formula", text: `matched ${matched} characters in ${r.blocks.length} blocks of ${total}: 2·${matched}/${total} = ` },
        [el("b", { cls: "ratio", text: total ? (2 * matched / total).toFixed(6) : "1.000000" })]));
      linkBlocks(box);
    } else {
      box.append(el("div", { cls: "pair" }, [
        el("div", {}, [el("h4", { text: r.ok ? "action" : `action (format check failed: ${r.why})` }), el("pre", { text: r.action || "" })]),
        el("div", {}, [el("h4", { text: g.target !== null ? "expert step" : "gold answer" }), el("pre", { text: g.target ?? g.answer ?? "" })]),
      ]));
      if (r.not_compared) box.append(el("div", { cls: "formula over-budget", text: r.not_compared }));
      if ("extracted" in r) box.append(el("div", { cls: "formula", text: `extracted answer: ${r.extracted ?? "(none)"} · gold: ${g.answer ?? "-"}` }));
    }
    box.append(el("h4", { text: "reward parts" }));
    box.append(table(Object.entries(r.parts), [["reward function", (p) => p[0]], ["value", (p) => fmt(p[1], 4)]]));
    box.append(el("h4", { text: "completion" }), el("pre", { cls: "completion", text: r.completion }));
    return box;
  }

  function rolloutSummary(row) {
    const g = row.g, r = row.r;
    const kept = g.kept === null ? [] : [el("span", { cls: "badge " + (g.kept ? "kept" : "dropped"), text: g.kept ? "kept" : "dropped" })];
    return el("summary", {}, [
      el("span", { cls: "num", text: `${g.split} ${g.step}` }),
      DATA.runs.length > 1 ? el("span", { text: runLabel(g.run) }) : "",
      ...kept,
      el("span", { cls: "num reward", text: fmt(r.reward) }),
      el("span", { cls: "badge " + (r.ok ? "" : "fail"), text: r.ok ? "format ok" : r.why || "format failed" }),
      el("span", { cls: "snippet", text: (r.action || r.completion || "").slice(0, 160) }),
    ]);
  }

  function select(id, label, options) {
    const s = el("select", { id: id }, options.map(([v, t]) => el("option", { value: v, text: t })));
    return [el("label", { for: id, text: label }), s];
  }
  function number(id, label, attrs) {
    return [el("label", { for: id, text: label }), el("input", Object.assign({ id: id, type: "number" }, attrs || {}))];
  }

  function rolloutBrowser() {
    const s = section("rollouts", "Rollouts");
    const rows = [];
    DATA.groups.forEach((g) => g.rollouts.forEach((r, i) => rows.push({ g: g, r: r, i: i })));
    // A loop, not Math.min(...steps): spreading 200,000 arguments overflows the call stack.
    let lo = Infinity, hi = -Infinity;
    for (const x of rows) { if (x.g.step < lo) lo = x.g.step; if (x.g.step > hi) hi = x.g.step; }
    const filters = el("div", { cls: "filters" }, [
      ...(DATA.runs.length > 1 ? select("f-run", "run", [["", "all"], ...DATA.runs.map((r, k) => [String(k), r.label])]) : []),
      ...select("f-split", "pass", [["", "all"], ["train", "training"], ["eval", "validation"]]),
      ...number("f-step-min", "step from", { min: lo, max: hi, placeholder: String(lo) }),
      ...number("f-step-max", "to", { min: lo, max: hi, placeholder: String(hi) }),
      ...select("f-kept", "dynamic sampling", [["", "all"], ["kept", "kept"], ["dropped", "dropped"]]),
      ...number("f-reward-min", "reward from", { step: "0.01", placeholder: "min" }),
      ...number("f-reward-max", "to", { step: "0.01", placeholder: "max" }),
      ...select("f-format", "format", [["", "all"], ["ok", "ok"], ["fail", "failed"]]),
    ]);
    const count = el("div", { cls: "count", id: "rollout-count" });
    const list = el("div", { cls: "list", id: "rollout-list" });
    const note = DATA.total_rollouts > rows.length ? ` (${DATA.total_rollouts - rows.length} of ${DATA.total_rollouts} logged rollouts left out of this page, evenly over the run)` : "";
    s.append(filters, count, list);
    const val = (id) => { const e = document.getElementById(id); return e ? e.value : ""; };
    const num = (id) => { const v = val(id); return v === "" ? null : Number(v); };
    let lastKey = null;
    function apply() {
      const run = val("f-run"), split = val("f-split"), kept = val("f-kept"), format = val("f-format");
      const smin = num("f-step-min"), smax = num("f-step-max"), rmin = num("f-reward-min"), rmax = num("f-reward-max");
      const key = JSON.stringify([run, split, kept, format, smin, smax, rmin, rmax]);
      if (key === lastKey) return; // "change" after "input" (on blur): nothing new, keep open rows
      lastKey = key;
      const shown = rows.filter((x) =>
        (run === "" || String(x.g.run) === run) && (split === "" || x.g.split === split) &&
        (smin === null || x.g.step >= smin) && (smax === null || x.g.step <= smax) &&
        (kept === "" || (kept === "kept" ? x.g.kept === true : x.g.kept === false)) &&
        (rmin === null || (x.r.reward !== null && x.r.reward >= rmin)) &&
        (rmax === null || (x.r.reward !== null && x.r.reward <= rmax)) &&
        (format === "" || (format === "ok") === Boolean(x.r.ok)));
      count.textContent = `${shown.length} of ${rows.length} rollouts${note}`;
      shown.forEach((x) => { x.attrs = { class: "rollout", "data-step": x.g.step, "data-kept": String(x.g.kept), "data-reward": String(x.r.reward), "data-split": x.g.split }; });
      lazyList(list, shown, rolloutSummary, rolloutDetail);
    }
    filters.addEventListener("input", apply);
    filters.addEventListener("change", apply);
    apply();
  }

  function sampleBrowser() {
    const s = section("samples", "Evaluation samples");
    const rows = DATA.samples.map((x) => ({ x: x }));
    const benches = [...new Set(DATA.samples.map((x) => x.benchmark))];
    const filters = el("div", { cls: "filters" }, [
      ...(DATA.runs.length > 1 ? select("s-run", "run", [["", "all"], ...DATA.runs.map((r, k) => [String(k), r.label])]) : []),
      ...select("s-bench", "benchmark", [["", "all"], ...benches.map((b) => [b, b])]),
      ...select("s-mode", "mode", [["", "all"], ["greedy", "greedy"], ["sample", "sampled"]]),
      ...select("s-verdict", "verdict", [["", "all"], ["right", "right"], ["wrong", "wrong"], ["none", "ungradable"]]),
    ]);
    const count = el("div", { cls: "count", id: "sample-count" });
    const list = el("div", { cls: "list", id: "sample-list" });
    s.append(filters, count, list);
    const verdict = (c) => (c === true ? "right" : c === false ? "wrong" : "none");
    const val = (id) => { const e = document.getElementById(id); return e ? e.value : ""; };
    function apply() {
      const run = val("s-run"), bench = val("s-bench"), mode = val("s-mode"), v = val("s-verdict");
      const shown = rows.filter((r) => (run === "" || String(r.x.run) === run) && (bench === "" || r.x.benchmark === bench) &&
        (mode === "" || r.x.mode === mode) && (v === "" || verdict(r.x.correct) === v));
      const note = DATA.total_samples > rows.length ? ` (${DATA.total_samples - rows.length} of ${DATA.total_samples} left out of this page)` : "";
      count.textContent = `${shown.length} of ${rows.length} samples${note}`;
      shown.forEach((r) => { r.attrs = { class: "sample", "data-verdict": verdict(r.x.correct) }; });
      lazyList(list, shown, (r) => el("summary", {}, [
        DATA.runs.length > 1 ? el("span", { text: runLabel(r.x.run) }) : "",
        el("span", { text: `${r.x.benchmark} · ${r.x.problem_id} · ${r.x.mode}${r.x.mode === "sample" ? " #" + r.x.sample_index : ""}` }),
        el("span", { cls: "badge " + verdict(r.x.correct), text: verdict(r.x.correct) === "none" ? "ungradable" : verdict(r.x.correct) }),
        el("span", { cls: "snippet", text: `answer ${r.x.extracted ?? "(none)"} · gold ${r.x.gold ?? "-"}` }),
      ]), (r) => el("div", { cls: "detail" }, [
        ...(r.x.prompt ? [el("h4", { text: DATA.runs[r.x.run].kind === "eval-steps" ? "expert step" : "problem (prompt)" }), el("pre", { cls: "prompt", text: r.x.prompt })] : []),
        el("h4", { text: `completion${r.x.tokens ? " (" + r.x.tokens + " tokens)" : ""}` }), el("pre", { text: r.x.completion }),
        el("div", { cls: "formula", text: `extracted: ${r.x.extracted ?? "(none)"} · gold: ${r.x.gold ?? "-"} · verdict: ${verdict(r.x.correct)}${r.x.reason ? " (" + r.x.reason + ")" : ""}` }),
      ]));
    }
    filters.addEventListener("change", apply);
    apply();
  }

  header();
  if (DATA.loops.length) loopSections(); // a loop's rounds first: its training follows
  if (DATA.training_figures.length) {
    const s = section("training", "Training");
    const grid = el("div", { cls: "figures" });
    s.append(grid);
    DATA.training_figures.forEach((f) => plot(grid, f));
  }
  if (DATA.result_figures.length || DATA.eval_table.length || DATA.demo_table.length || DATA.steps_table.length) {
    const s = section("results", "Results");
    if (DATA.eval_table.length) evalTable(s);
    if (DATA.steps_table.length) stepsTable(s);
    if (DATA.demo_table.length) demoTable(s);
    const grid = el("div", { cls: "figures" });
    s.append(grid);
    DATA.result_figures.forEach((f) => plot(grid, f));
  }
  performance.mark("srl:plots");
  if (DATA.groups.length) rolloutBrowser();
  if (DATA.samples.length) sampleBrowser();
  performance.mark("srl:ready");
  document.body.dataset.ready = "1";
})();
