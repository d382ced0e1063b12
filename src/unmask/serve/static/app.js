// The unmask page: sample a grid, watch a sample's unmasking chain, paint a region and inpaint it.
// Talks to the JSON endpoints of unmask.serve.app; every long piece of work is a job polled for
// progress and cancellable.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { info: null, sampleJob: null, running: null, chains: [], timer: null, selected: null };

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.classList.toggle("hidden", !message);
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, opts);
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: `HTTP ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function settings() {
  const out = {
    sampler: $("sampler").value,
    steps: $("steps").value,
    cfg: $("cfg").value,
    temperature: $("temperature").value,
    seed: $("seed").value,
  };
  if (state.info.text_to_image) out.caption = $("caption").value;
  return out;
}

// Run a job to its end: progress bar, cancel button, status line; resolves with its result.
async function runJob(path, body, label) {
  showError("");
  const started = await api(path, body);
  const id = started.job.id;
  state.running = id;
  if (path === "/api/sample") state.sampleJob = id;
  $("cancel-btn").disabled = false;
  $("sample-btn").disabled = true;
  $("inpaint-btn").disabled = true;
  try {
    for (;;) {
      const polled = await api(`/api/jobs/${id}`);
      const job = polled.job;
      $("progress").value = job.progress;
      $("status").textContent = `${label}: ${job.status} ${(100 * job.progress).toFixed(0)}%`;
      if (job.status === "done") return polled.result;
      if (job.status === "failed") throw new Error(job.error);
      if (job.status === "cancelled") throw new Error(`${label} cancelled`);
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    state.running = null;
    $("cancel-btn").disabled = true;
    $("sample-btn").disabled = false;
    $("inpaint-btn").disabled = false;
  }
}

async function loadInfo() {
  const info = await api("/api/info");
  state.info = info;
  $("model-info").textContent =
    `${info.preset} · ${info.kind}${info.text_to_image ? " (text-to-image)" : ""} · step ${info.step}` +
    (info.recorded ? " · sampler settings from sampling.json" : "");
  const label = $("label");
  info.classes.forEach((name, i) => {
    const opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = `${i}: ${name}`;
    label.appendChild(opt);
  });
  $("class-row").classList.toggle("hidden", info.classes.length === 0);
  $("caption-row").classList.toggle("hidden", !info.text_to_image);
  for (const name of info.samplers) {
    const opt = document.createElement("option");
    opt.value = opt.textContent = name;
    $("sampler").appendChild(opt);
  }
  $("sampler").value = info.defaults.sampler;
  $("steps").value = info.defaults.steps;
  $("cfg").value = info.defaults.cfg;
  $("temperature").value = info.defaults.temperature;
  $("edit-panel").classList.toggle("hidden", !info.editable);
}

async function sample() {
  const body = { ...settings(), n: Number($("n").value) };
  if ($("label").value !== "") body.labels = [Number($("label").value)];
  try {
    const result = await runJob("/api/sample", body, "sampling");
    showSamples(result);
    $("status").textContent = `${result.n} samples, ${result.nfe} network calls`;
  } catch (err) { showError(err.message); }
}

function showSamples(result) {
  const grid = $("grid");
  grid.innerHTML = "";
  $("texts").innerHTML = "";
  (result.texts || []).forEach((text, i) => {
    const pre = document.createElement("pre");
    pre.textContent = text;
    pre.dataset.index = i;
    pre.addEventListener("click", () => openChain(i));
    $("texts").appendChild(pre);
  });
  (result.clips || result.images || []).forEach((src, i) => {
    const cell = document.createElement("div");
    cell.className = "sample";
    const img = document.createElement("img");
    img.src = src;
    img.alt = `sample ${i}`;
    img.dataset.index = i;
    img.addEventListener("click", () => openChain(i));
    cell.appendChild(img);
    if (state.info.editable) {
      const edit = document.createElement("button");
      edit.textContent = "edit";
      edit.className = "secondary edit-sample";
      edit.addEventListener("click", () => loadEditImage(result.images[i]));
      cell.appendChild(edit);
    }
    grid.appendChild(cell);
  });
  const dl = $("grid-download");
  dl.classList.toggle("hidden", !result.grid);
  if (result.grid) dl.href = result.grid;
}

async function openChain(index) {
  document.querySelectorAll(".sample img").forEach((el) => el.classList.toggle("selected", el.dataset.index == index));
  try {
    const result = await runJob("/api/chain", { job: state.sampleJob, index, other: true }, "chain");
    state.chains = result.chains;
    const box = $("chains");
    box.innerHTML = "";
    for (const chain of result.chains) {
      const div = document.createElement("div");
      div.className = "chain";
      const title = document.createElement("div");
      title.textContent = chain.sampler.replace("Sampler", "");
      div.appendChild(title);
      if (chain.frames) {
        const img = document.createElement("img");
        img.className = "chain-frame";
        div.appendChild(img);
        const gif = document.createElement("a");
        gif.href = chain.gif;
        gif.download = `chain-${chain.sampler}.gif`;
        gif.textContent = "download GIF";
        div.appendChild(document.createElement("br"));
        div.appendChild(gif);
      } else {
        const pre = document.createElement("pre");
        pre.className = "chain-text";
        div.appendChild(pre);
      }
      box.appendChild(div);
    }
    const frames = Math.max(...result.chains.map((c) => (c.frames || c.texts).length));
    $("frame").max = frames - 1;
    $("frame").value = 0;
    $("chain-caption").textContent = result.chains.length > 1
      ? `sample ${index} and a draw of the same class by the other sampler` : `sample ${index}`;
    $("chain-panel").classList.remove("hidden");
    showFrame(0);
  } catch (err) { showError(err.message); }
}

function showFrame(k) {
  document.querySelectorAll("#chains .chain").forEach((div, c) => {
    const chain = state.chains[c];
    const list = chain.frames || chain.texts;
    const i = Math.min(k, list.length - 1);
    if (chain.frames) div.querySelector("img").src = chain.frames[i];
    else div.querySelector("pre").textContent = chain.texts[i];
  });
  const first = state.chains[0];
  const i = Math.min(k, first.steps.length - 1);
  $("frame-label").textContent = `step ${first.steps[i]} · ${(100 * first.revealed[i]).toFixed(0)}% revealed`;
}

function togglePlay() {
  if (state.timer) {
    clearInterval(state.timer);
    state.timer = null;
    $("play-btn").textContent = "Play";
    return;
  }
  $("play-btn").textContent = "Pause";
  state.timer = setInterval(() => {
    const slider = $("frame");
    slider.value = (Number(slider.value) + 1) % (Number(slider.max) + 1);
    showFrame(Number(slider.value));
  }, 150);
}

// --- inpainting: an image canvas under a mask canvas the user paints on ---------------------------
function loadEditImage(src, uploaded = false) {
  const img = new Image();
  state.editSource = uploaded ? src : null;
  img.onerror = () => showError("image is not an image file (PNG, JPEG, …)");
  img.onload = () => {
    showError("");
    const ctx = $("edit-image").getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, 256, 256);
    ctx.drawImage(img, 0, 0, 256, 256);
    clearMask();
    $("edit-results").innerHTML = "";
    $("edit-note").textContent = "";
  };
  img.src = src;
}

function clearMask() {
  $("edit-mask").getContext("2d").clearRect(0, 0, 256, 256);
}

// Paint a stroke from the last point to this one (a line with round ends, so a fast drag leaves no gaps).
function paintAt(event, start = false) {
  const canvas = $("edit-mask");
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  const ctx = canvas.getContext("2d");
  const last = start || !state.lastPoint ? { x, y } : state.lastPoint;
  ctx.globalCompositeOperation = "source-over";
  ctx.strokeStyle = ctx.fillStyle = "rgba(255, 60, 60, 1)";
  ctx.globalAlpha = 0.6;
  ctx.lineCap = "round";
  ctx.lineWidth = Number($("brush").value);
  ctx.beginPath();
  ctx.moveTo(last.x, last.y);
  ctx.lineTo(x, y);
  ctx.stroke();
  state.lastPoint = { x, y };
}

async function inpaint() {
  const body = {
    ...settings(),
    // an upload goes as it is (the server checks it and resizes it); a sample as the canvas shows it
    image: state.editSource || $("edit-image").toDataURL("image/png"),
    mask: $("edit-mask").toDataURL("image/png"),
    samples: Number($("edit-samples").value),
  };
  if ($("label").value !== "") body.label = Number($("label").value);
  try {
    const result = await runJob("/api/inpaint", body, "inpainting");
    $("edit-note").textContent =
      `${result.note}. ${result.regenerated_tokens} tokens regenerated; given region unchanged: ${result.given_unchanged}`;
    const box = $("edit-results");
    box.innerHTML = "";
    for (const [i, src] of [result.masked, ...result.images].entries()) {
      const img = document.createElement("img");
      img.src = src;
      img.className = i === 0 ? "edit-masked" : "edit-completion";
      img.alt = i === 0 ? "masked input" : `completion ${i}`;
      box.appendChild(img);
      const a = document.createElement("a");
      a.href = src;
      a.download = i === 0 ? "masked.png" : `completion-${i}.png`;
      a.className = "hidden";
      box.appendChild(a);
    }
    $("status").textContent = `inpainted: ${result.images.length} completions, ${result.nfe} network calls`;
  } catch (err) { showError(err.message); }
}

function wire() {
  $("sample-btn").addEventListener("click", sample);
  $("cancel-btn").addEventListener("click", () => {
    if (state.running) api(`/api/jobs/${state.running}/cancel`, {}).catch((e) => showError(e.message));
  });
  $("frame").addEventListener("input", (e) => showFrame(Number(e.target.value)));
  $("play-btn").addEventListener("click", togglePlay);
  $("clear-mask").addEventListener("click", clearMask);
  $("inpaint-btn").addEventListener("click", inpaint);
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => loadEditImage(reader.result, true);
    reader.readAsDataURL(file);
  });
  let painting = false;
  const mask = $("edit-mask");
  mask.addEventListener("mousedown", (e) => { painting = true; paintAt(e, true); });
  mask.addEventListener("mousemove", (e) => { if (painting) paintAt(e); });
  window.addEventListener("mouseup", () => { painting = false; });
}

wire();
loadInfo().catch((err) => showError(`cannot load the model: ${err.message}`));
