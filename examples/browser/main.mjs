// The page: loads wtconv (the browser build, through the package's exports), runs the
// demo WTConv2d layer on the sample or a picked image, shows input, output and the
// time per call, and checks the PyTorch fixtures in the page.
// Query options: ?wasm=<dir of the .wasm files>  ?fixtures=<comma list>|none  ?fixturesUrl=<dir>
import * as wt from 'wtconv';
import { LAYER, checkFixture, demoLayer, imageToTensor, tensorToImage } from './demo.mjs';

const query = new URLSearchParams(location.search);
// Bundlers do not copy the .wasm files: this page serves them from the package's dist/wasm/.
const wasmPaths = query.get('wasm') ?? '../../dist/wasm/';
const FIXTURES = [
  'wtconv2d_l1_k1', 'wtconv2d_l1_k5_even', 'wtconv2d_l1_k7_stride2', 'wtconv2d_l2_k3_db2', 'wtconv2d_l2_k3_even',
  'wtconv2d_l2_k4_evenk', 'wtconv2d_l2_k5_odd', 'wtconv2d_l3_k5_nobias', 'dwt2d_l2_db2', 'dwt2d_l2_odd', 'dwt2d_l3_even',
];
const MAX_SIDE = 256;
const $ = (id) => document.getElementById(id);
const state = { backend: null, run: null, fixtures: null, error: null, done: false };
window.wtconvDemo = state;

function drawSample(canvas) {
  canvas.width = MAX_SIDE;
  canvas.height = MAX_SIDE;
  const g = canvas.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, MAX_SIDE);
  sky.addColorStop(0, '#1d3b6f');
  sky.addColorStop(1, '#f0c27b');
  g.fillStyle = sky;
  g.fillRect(0, 0, MAX_SIDE, MAX_SIDE);
  g.fillStyle = '#ffe9a8';
  g.beginPath();
  g.arc(180, 70, 34, 0, 2 * Math.PI);
  g.fill();
  g.fillStyle = '#2e4a2c';
  g.beginPath();
  g.moveTo(0, 200);
  g.lineTo(70, 120);
  g.lineTo(130, 190);
  g.lineTo(200, 110);
  g.lineTo(256, 180);
  g.lineTo(256, 256);
  g.lineTo(0, 256);
  g.fill();
  for (let i = 0; i < 8; i++) {
    g.fillStyle = i % 2 ? '#d94f30' : '#f7f2e8';
    g.fillRect(20 + 28 * i, 222, 14, 22);
  }
}

async function drawFile(canvas, file) {
  const bitmap = await createImageBitmap(file);
  const s = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  canvas.width = Math.max(1, Math.round(bitmap.width * s));
  canvas.height = Math.max(1, Math.round(bitmap.height * s));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runLayer() {
  const input = $('input');
  const { width, height } = input;
  const rgba = input.getContext('2d').getImageData(0, 0, width, height).data;
  const layer = demoLayer(wt);
  const x = imageToTensor(wt, rgba, width, height);
  let y = layer.forward(x);  // warm-up
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    y = layer.forward(x);
    times.push(performance.now() - t0);
  }
  const output = $('output');
  output.width = width;
  output.height = height;
  output.getContext('2d').putImageData(new ImageData(tensorToImage(y), width, height), 0, 0);
  state.run = { width, height, forwardMs: median(times) };
  $('timing').textContent =
    `WTConv2d(channels ${LAYER.channels}, kernel ${LAYER.kernelSize}, levels ${LAYER.levels}) on ${width}x${height}: ` +
    `${state.run.forwardMs.toFixed(2)} ms per forward call (median of 5)`;
}

async function runFixtures(names) {
  const base = query.get('fixturesUrl') ?? '../../../shared/fixtures/';
  const results = [];
  for (const name of names) {
    try {
      const response = await fetch(new URL(`${name}.safetensors`, new URL(base, location.href)));
      if (!response.ok) throw new Error(`HTTP ${response.status} for ${response.url}`);
      results.push(checkFixture(wt, name, new Uint8Array(await response.arrayBuffer())));
    } catch (e) {
      results.push({ name, ok: false, error: String(e && e.message ? e.message : e), checks: [] });
    }
  }
  $('fixtures').innerHTML = results
    .map((r) => {
      const worst = Math.max(0, ...r.checks.map((c) => c.relL2 ?? 0));
      const note = r.error ?? `${r.checks.length} tensors, worst relative L2 error ${worst.toExponential(1)}`;
      return `<tr class="${r.ok ? 'pass' : 'fail'}"><td>${r.name}</td><td>${r.ok ? 'pass' : 'FAIL'}</td><td>${note}</td></tr>`;
    })
    .join('');
  return results;
}

async function start() {
  try {
    const info = await wt.init({ wasmPaths });
    state.backend = { ...info, crossOriginIsolated: globalThis.crossOriginIsolated === true };
    $('backend').textContent = `${info.name} ${info.variant ?? ''}, ${info.threads} thread(s): ${info.reason}`;
    drawSample($('input'));
    runLayer();
    const list = query.get('fixtures');
    if (list !== 'none') state.fixtures = await runFixtures(list ? list.split(',') : FIXTURES);
  } catch (e) {
    state.error = `${e && e.code ? e.code + ': ' : ''}${e && e.message ? e.message : e}`;
    $('backend').textContent = `failed: ${state.error}`;
  }
  state.done = true;
  $('picker').addEventListener('change', async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    if (!file) return;
    await drawFile($('input'), file);
    runLayer();
  });
  $('sample').addEventListener('click', () => {
    drawSample($('input'));
    runLayer();
  });
}

start();
