// veil's page: tabs, drag-and-drop, and one fetch per form; results and errors go to #result.
"use strict";

const result = document.getElementById("result");
const tabs = Array.from(document.querySelectorAll('[role="tab"]'));

function select(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  result.replaceChildren();
}

tabs.forEach((t, i) => {
  t.addEventListener("click", () => select(t));
  t.addEventListener("keydown", (e) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (step) {
      const next = tabs[(i + step + tabs.length) % tabs.length];
      select(next);
      next.focus();
    }
  });
});

// a file dropped on a drop zone goes into its input
for (const zone of document.querySelectorAll(".drop")) {
  const input = zone.querySelector('input[type="file"]');
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
}

// the image routes' model lists come from the service: codec first, then every released image model
async function fillModels() {
  try {
    const models = await (await fetch("/api/models")).json();
    for (const select of document.querySelectorAll('select[data-task="image"]')) {
      for (const m of models) {
        if (m.task === "image" && m.name !== "codec") {
          select.append(el("option", { value: m.name, title: m.summary }, m.name));
        }
      }
    }
  } catch (_) { /* codec alone is still offered */ }
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function showError(message) {
  result.replaceChildren(el("p", { class: "error", role: "alert" }, message));
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
  } catch (_) { /* not JSON */ }
  return `the service answered ${response.status} ${response.statusText}`;
}

function showImage(blob, headers, name) {
  const url = URL.createObjectURL(blob);
  const parts = [];
  const stats = [];
  if (headers.get("X-Veil-PSNR")) stats.push(`PSNR ${headers.get("X-Veil-PSNR")} dB`);
  if (headers.get("X-Veil-SSIM")) stats.push(`SSIM ${headers.get("X-Veil-SSIM")}`);
  if (headers.get("X-Veil-Secret-PSNR")) stats.push(`hidden image stored at ${headers.get("X-Veil-Secret-PSNR")} dB`);
  if (headers.get("X-Veil-Model")) stats.push(`model ${headers.get("X-Veil-Model")}`);
  if (stats.length) parts.push(el("p", { id: "result-stats" }, stats.join(" · ")));
  parts.push(el("a", { href: url, download: name, class: "button", id: "result-download" }, "Download PNG"));
  parts.push(el("img", { src: url, alt: "the result image", id: "result-image" }));
  result.replaceChildren(...parts);
}

function showMessage(body) {
  if (!body.found) {
    result.replaceChildren(el("p", { id: "result-message", class: "none" },
      "No hidden message found (none there, a wrong passphrase, or too much damage)."));
    return;
  }
  const text = body.message !== null ? body.message : `(bytes, base64) ${body.bytes_base64}`;
  result.replaceChildren(
    el("p", {}, "Hidden message:"),
    el("pre", { id: "result-message" }, text),
    el("p", { id: "result-stats" }, `model ${body.model} · confidence ${body.confidence}`));
}

function showScores(body) {
  const table = el("table", { id: "result-scores" });
  table.append(el("caption", {}, `Verdict: ${body.verdict} (fused rate above ${body.threshold} means stego)`));
  for (const [k, v] of Object.entries(body.scores)) {
    const row = el("tr");
    row.append(el("th", { scope: "row" }, k), el("td", {}, v.toFixed(4)));
    table.append(row);
  }
  result.replaceChildren(table);
}

fillModels();

for (const form of document.querySelectorAll("form[data-route]")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    const data = new FormData(form);
    for (const [k, v] of Array.from(data.entries())) {   // empty optional fields are left out
      if (v === "" || (v instanceof File && v.size === 0)) data.delete(k);
    }
    if (form.dataset.ssim) data.set("ssim", "1");
    button.disabled = true;
    result.replaceChildren(el("p", { class: "busy" }, "Working…"));
    try {
      const response = await fetch(form.dataset.route, { method: "POST", body: data });
      if (!response.ok) {
        showError(await errorOf(response));
      } else if (form.dataset.result === "image") {
        showImage(await response.blob(), response.headers, form.dataset.route.includes("reveal") ? "revealed.png" : "stego.png");
      } else if (form.dataset.result === "message") {
        showMessage(await response.json());
      } else {
        showScores(await response.json());
      }
    } catch (err) {
      showError(`cannot reach the service: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });
}
