// detprob's classroom pages: the projector (/) and the student page (/join).
// Every text from the model or a person goes into the page as textContent,
// never as markup. The words come from the server's catalogue (en / zh).
"use strict";
const W = JSON.parse(document.getElementById("words").textContent);
const $ = (id) => document.getElementById(id);
const page = document.body.dataset.page;
const params = new URLSearchParams(location.search);

function t(key, args) {
  let text = W[key] ?? key;
  for (const [name, value] of Object.entries(args || {})) text = text.split("{" + name + "}").join(String(value));
  return text;
}
for (const el of document.querySelectorAll("[data-w]")) el.textContent = t(el.dataset.w);
const LANG = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
// A histogram label: the answer read, or "cut off" / "no answer" in this page's words.
const label = (l) => (l.kind === "answer" ? l.text : t(l.kind));
const same = (a, b) => a && b && a.kind === b.kind && a.text === b.text;

let snapshot = null;
let myAnswer = null;
// Refreshes the next-token bars (the projector's; nothing on the student page).
let refreshNext = () => {};

function bars(container, rows) {
  // rows: [{label, value, text, classes}]
  container.replaceChildren();
  const max = Math.max(1e-9, ...rows.map((r) => r.value));
  for (const r of rows) {
    const row = document.createElement("div");
    row.className = "bar " + (r.classes || []).join(" ");
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = r.label;
    label.title = r.label;
    const track = document.createElement("span");
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    fill.style.width = (100 * r.value / max).toFixed(1) + "%";
    track.append(fill);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = r.text;
    row.append(label, track, count);
    container.append(row);
  }
}

function show(s) {
  const changed = !snapshot || snapshot.question !== s.question;
  snapshot = s;
  $("question").textContent = s.question;
  $("rule-answer").textContent = s.rule ? s.rule.outcome[LANG] : t("no_rule");
  if ($("model")) $("model").textContent = t("model", { model: s.model });
  if ($("rule-steps")) {
    $("rule-steps").replaceChildren(...(s.rule ? s.rule.steps : []).map((step) => {
      const li = document.createElement("li");
      li.textContent = step[LANG];
      return li;
    }));
  }
  $("total").textContent = t("total", { n: s.total });
  bars($("histogram"), s.answers.map((a) => ({
    label: (a.rule ? "★ " : "") + label(a.answer),
    value: a.count,
    text: String(a.count),
    classes: [a.rule ? "rule" : "", same(a.answer, myAnswer) ? "mine" : ""],
  })));
  if ($("recent")) {
    $("recent").replaceChildren(...s.recent.map((r) => {
      const li = document.createElement("li");
      li.textContent = t("recent_line", { seed: r.seed, temperature: r.temperature, answer: label(r.answer), text: r.text });
      return li;
    }));
  }
  if ($("own-row")) $("own-row").hidden = !s.own_questions;
  if ($("code-row") && !s.code_required) $("code-row").hidden = true;
  if (changed) refreshNext();
}

function follow() {
  const events = new EventSource("/class/events");
  events.onmessage = (e) => show(JSON.parse(e.data));
  events.onerror = () => { events.close(); setTimeout(follow, 2000); };
}

// One sample, streamed: resolves to {sample} or rejects with a message.
async function sample(body, onText) {
  const response = await fetch("/class/sample", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (_) {}
    throw new Error(message);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let result = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      const event = JSON.parse(data);
      if (event.error) throw new Error(event.error);
      if (event.text !== undefined) onText(event.text);
      if (event.sample) result = event;
    }
  }
  if (!result) throw new Error(t("error_incomplete"));
  return result;
}

function temperature() { return Number($("temperature").value); }
$("temperature").addEventListener("input", () => {
  $("temperature-value").textContent = temperature().toFixed(1);
});

let busy = false;
async function draw(seed, question) {
  if (busy) return null;
  busy = true;
  $("sample").disabled = true;
  $("output").textContent = "";
  $("verdict").textContent = t("waiting");
  const body = { temperature: temperature(), seed };
  if (question) body.question = question;
  const code = $("code") ? $("code").value.trim().toUpperCase() : "";
  if (code) body.code = code;
  try {
    const result = await sample(body, (text) => { $("output").textContent += text; });
    return result;
  } catch (e) {
    $("verdict").textContent = t("error", { message: e.message });
    return null;
  } finally {
    busy = false;
    $("sample").disabled = false;
  }
}

if (page === "projector") {
  let last = null;
  const verdict = (s) => t("sample_verdict", { answer: label(s.answer), seed: s.seed, temperature: s.temperature })
    + (s.repeat === null ? "" : " " + t("not_counted_again"));
  $("sample").addEventListener("click", async () => {
    const seed = Number($("seed").value);
    const result = await draw(seed);
    if (!result) return;
    last = { seed, temperature: temperature(), text: result.sample.text };
    $("verdict").textContent = verdict(result.sample);
    $("seed").value = seed + 1;
  });
  $("again").addEventListener("click", async () => {
    if (!last) { $("verdict").textContent = t("same_seed_first"); return; }
    $("temperature").value = last.temperature;
    $("temperature-value").textContent = last.temperature.toFixed(1);
    const result = await draw(last.seed);
    if (!result) return;
    const same = result.sample.text === last.text;
    $("verdict").textContent = verdict(result.sample) + " " + t(same ? "identical" : "different", { seed: last.seed });
  });
  $("ask").addEventListener("submit", async (e) => {
    e.preventDefault();
    const question = $("new-question").value;
    const response = await fetch("/class/question", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ question }),
    });
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error.message; } catch (_) {}
      $("verdict").textContent = t("error", { message });
      return;
    }
    $("new-question").value = "";
    $("output").textContent = "";
    $("verdict").textContent = "";
    last = null;
  });
  $("reset").addEventListener("click", () => fetch("/class/reset", { method: "POST" }));
  let pending = null;
  async function nextTokens() {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const T = temperature();
      const response = await fetch("/class/next?temperature=" + T);
      if (!response.ok) return;
      const next = await response.json();
      if (next.temperature !== temperature()) return;
      bars($("next"), next.tokens.map((tok) => ({
        label: JSON.stringify(tok.piece),
        value: tok.probability,
        text: (100 * tok.probability).toFixed(1) + "%",
      })));
    }, 150);
  }
  refreshNext = nextTokens;
  $("temperature").addEventListener("input", nextTokens);
  $("join-hint").textContent = t("join_hint", { url: location.origin + "/join" });
}

if (page === "student") {
  if (params.get("code")) { $("code").value = params.get("code"); $("code-row").hidden = true; }
  $("seed").value = Math.floor(Math.random() * 1e6);
  $("draw").addEventListener("submit", async (e) => {
    e.preventDefault();
    const seed = Number($("seed").value);
    const own = $("own") && !$("own-row").hidden ? $("own").value.trim() : "";
    const result = await draw(seed, own || undefined);
    if (!result) return;
    const s = result.sample;
    myAnswer = result.own ? null : s.answer;
    $("verdict").textContent = result.own
      ? t("own_verdict", { answer: label(s.answer), seed: s.seed })
      : t("student_verdict", { answer: label(s.answer), seed: s.seed, count: s.count, total: s.number })
        + (s.repeat === null ? "" : " " + t("not_counted_again"));
    $("replay").textContent = s.replay;
    if (snapshot) show(snapshot);
  });
}
follow();
