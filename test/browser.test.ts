// The browser page of examples/browser/ in headless Chromium: with COOP/COEP headers it
// must run the threaded WebAssembly module, without them the single-threaded one; in
// both the PyTorch fixtures must pass inside the page, and the output canvas, read back
// from a screenshot, must show what the same layer computes in Node.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { fixtureNames } from './helpers.js';
// @ts-expect-error plain JavaScript modules of the example
import { buildPage } from '../examples/browser/build.mjs';
// @ts-expect-error
import { startServer } from '../examples/browser/serve.mjs';
// @ts-expect-error
import { demoLayer, imageToTensor, tensorToImage } from '../examples/browser/demo.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const FIXTURES = [...fixtureNames('wtconv2d_'), ...fixtureNames('dwt2d_')].map((f) => f.replace(/\.safetensors$/, ''));

interface DemoState {
  done: boolean;
  error: string | null;
  backend: { name: string; variant: string; threads: number; crossOriginIsolated: boolean; reason: string };
  run: { width: number; height: number; forwardMs: number };
  fixtures: { name: string; ok: boolean; error?: string; checks: { what: string; ok: boolean; relL2?: number }[] }[];
}

/** The pixels of a canvas as shown on screen: a screenshot of its content box, decoded. */
async function canvasScreenshot(page: Page, id: string): Promise<PNG> {
  const clip = await page.evaluate((sel) => {
    const c = document.getElementById(sel) as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    return { x: r.left + c.clientLeft, y: r.top + c.clientTop, width: c.width, height: c.height };
  }, id);
  return PNG.sync.read(await page.screenshot({ clip }));
}

function channelStats(rgba: Uint8Array | Uint8ClampedArray): { mean: number[]; std: number[] } {
  const n = rgba.length / 4;
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      mean[c] += rgba[4 * i + c];
      sq[c] += rgba[4 * i + c] ** 2;
    }
  }
  return { mean: mean.map((s) => s / n), std: mean.map((s, c) => Math.sqrt(sq[c] / n - (s / n) ** 2)) };
}

describe('the browser example in headless Chromium', () => {
  let context: BrowserContext;
  const servers: { url: string; close: () => Promise<void> }[] = [];
  const profile = mkdtempSync(path.join(tmpdir(), 'wtconv-chromium-'));
  const shots = path.join(root, 'build', 'browser');

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run bash scripts/setup.sh (it installs chromium)`).toBe(true);
    mkdirSync(shots, { recursive: true });
    await buildPage();
    servers.push(await startServer({ isolated: true }), await startServer({ isolated: false }));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 900 },
      deviceScaleFactor: 1,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await wt.init({ backend: 'auto' });
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all(servers.map((s) => s.close()));
    rmSync(profile, { recursive: true, force: true });
  });

  /** Opens the page with every fixture, waits for it, checks nothing failed; returns its state. */
  async function runDemo(page: Page, server: number): Promise<DemoState> {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
    await page.goto(`${servers[server].url}/examples/browser/?fixtures=${FIXTURES.join(',')}`);
    await page.waitForFunction(() => (window as unknown as { wtconvDemo?: DemoState }).wtconvDemo?.done, null, { timeout: 60_000 });
    const state = (await page.evaluate(() => (window as unknown as { wtconvDemo: DemoState }).wtconvDemo)) as DemoState;
    expect(state.error).toBeNull();
    expect(problems).toEqual([]);
    expect(state.fixtures.map((f) => f.name)).toEqual(FIXTURES);
    for (const f of state.fixtures) {
      expect(f.error, f.name).toBeUndefined();
      expect(f.checks.length, f.name).toBeGreaterThanOrEqual(6);
      expect(f.checks.filter((c) => !c.ok), f.name).toEqual([]);
    }
    return state;
  }

  it('falls back to single-threaded WASM, and says why, when the threaded module cannot start', async () => {
    const page = await context.newPage();
    // What Safari does to some pages: workers for the threaded module are refused.
    await page.addInitScript(() => {
      (window as unknown as { Worker: unknown }).Worker = class {
        constructor() {
          throw new DOMException('simulated refusal', 'DataCloneError');
        }
      };
    });
    const state = await runDemo(page, 0);
    expect(state.backend.crossOriginIsolated).toBe(true);
    expect([state.backend.variant, state.backend.threads]).toEqual(['single-threaded', 1]);
    expect(state.backend.reason).toMatch(/wasm single-threaded: the threaded module failed to start \(DataCloneError: simulated refusal\), so single-threaded/);
    await page.close();
  });

  for (const [i, isolated] of [[0, true], [1, false]] as const) {
    const variant = isolated ? 'threaded' : 'single-threaded';
    it(`${isolated ? 'with' : 'without'} COOP/COEP: ${variant} WASM, fixtures pass in the page, the output canvas is right, a picked image is filtered`, async () => {
      const page = await context.newPage();
      const state = await runDemo(page, i);
      expect(state.backend.crossOriginIsolated).toBe(isolated);
      expect(state.backend.name).toBe('wasm');
      expect(state.backend.variant).toBe(variant);
      if (isolated) expect(state.backend.threads).toBeGreaterThanOrEqual(2);
      else expect(state.backend.threads).toBe(1);

      expect(state.run.forwardMs).toBeGreaterThan(0);

      // What the page shows, against the same layer run in Node on the page's input pixels.
      const { width, height } = state.run;
      const input = await page.evaluate(() => {
        const c = document.getElementById('input') as HTMLCanvasElement;
        return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
      });
      const expected: Uint8ClampedArray = tensorToImage(demoLayer(wt).forward(imageToTensor(wt, input, width, height)));
      const shown = await canvasScreenshot(page, 'output');
      expect([shown.width, shown.height]).toEqual([width, height]);
      let diff = 0;
      let worst = 0;
      for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(shown.data[4 * p + c] - expected[4 * p + c]);
          diff += d;
          worst = Math.max(worst, d);
        }
      }
      expect(diff / (3 * width * height)).toBeLessThan(0.5);  // mean |difference| in 0..255 levels
      expect(worst).toBeLessThanOrEqual(3);
      const got = channelStats(shown.data);
      const want = channelStats(expected);
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(got.mean[c] - want.mean[c])).toBeLessThan(0.5);
        expect(Math.abs(got.std[c] - want.std[c])).toBeLessThan(0.5);
        expect(got.std[c]).toBeGreaterThan(10);  // an image, not a blank canvas
      }
      // The input canvas on screen is the sample the page drew (not a blank or broken canvas).
      const inputShown = channelStats((await canvasScreenshot(page, 'input')).data);
      const inputWant = channelStats(Uint8ClampedArray.from(input));
      for (let c = 0; c < 3; c++) expect(Math.abs(inputShown.mean[c] - inputWant.mean[c])).toBeLessThan(0.5);
      await page.screenshot({ path: path.join(shots, `page-${variant}.png`), fullPage: true });

      // An image the user picks: a 120x72 PNG goes through the file input.
      const picked = new PNG({ width: 120, height: 72 });
      for (let p = 0; p < 120 * 72; p++) picked.data.set([(p % 120) * 2, Math.floor(p / 120) * 3, (p * 7) % 256, 255], 4 * p);
      await page.setInputFiles('#picker', { name: 'picked.png', mimeType: 'image/png', buffer: PNG.sync.write(picked) });
      await page.waitForFunction(() => (window as unknown as { wtconvDemo: DemoState }).wtconvDemo.run.width === 120, null, { timeout: 30_000 });
      const after = (await page.evaluate(() => (window as unknown as { wtconvDemo: DemoState }).wtconvDemo.run)) as DemoState['run'];
      expect([after.width, after.height]).toEqual([120, 72]);
      const pickedShown = await canvasScreenshot(page, 'input');
      let pickedDiff = 0;
      for (let p = 0; p < 120 * 72; p++) for (let c = 0; c < 3; c++) pickedDiff = Math.max(pickedDiff, Math.abs(pickedShown.data[4 * p + c] - picked.data[4 * p + c]));
      expect(pickedDiff).toBeLessThanOrEqual(2);  // the picked image is what the page shows and filters
      expect(channelStats((await canvasScreenshot(page, 'output')).data).std[0]).toBeGreaterThan(5);
      await page.close();
    });
  }
});
