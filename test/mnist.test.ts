// examples/mnist in short: three epochs on 60 samples of each digit must lower the loss
// clearly and beat chance on the held-out digits. The run is seeded (initial weights, order,
// dropout), so it is the same run every time. (The full run is in the README.)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('examples/mnist', () => {
  it('trains a WTConv2D network on the mnist digits: the loss falls clearly', () => {
    const out = execFileSync(process.execPath, ['examples/mnist/train.mjs', '--epochs', '3', '--per-digit', '60', '--batch', '16', '--shift', '0', '--seed', '1', '--json'], {
      cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = JSON.parse(out) as { epochLoss: number[]; batchLoss: number[]; accuracy: number; trainCount: number; testCount: number };
    expect([r.trainCount, r.testCount]).toEqual([510, 90]);
    expect(r.epochLoss.length).toBe(3);
    expect(r.batchLoss.length).toBe(3 * Math.ceil(510 / 16));
    const first = r.batchLoss.slice(0, 4).reduce((a, b) => a + b, 0) / 4;  // ~ln(10) = 2.3 at the start
    expect(first).toBeGreaterThan(1.5);
    expect(r.epochLoss[2]).toBeLessThan(r.epochLoss[0]);
    expect(r.epochLoss[2]).toBeLessThan(0.6 * first);
    expect(r.accuracy).toBeGreaterThan(0.5);  // chance is 0.1
  });
});
