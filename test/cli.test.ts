// The `wtconv` command line: `erf` (numbers and the PNG it draws), --help for every
// command, and user mistakes reported as one line with a non-zero status.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { effectiveReceptiveField } from '../ts/erf/compute.js';
import { colour, erfLayout, normalise } from '../ts/erf/render.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'wtconv-cli-'));
const cli = (args: string[]) => {
  try {
    return { status: 0, stdout: execFileSync(process.execPath, [path.join(root, 'bin', 'wtconv.cjs'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (e) {
    const r = e as { status: number; stdout: string; stderr: string };
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
};

describe('wtconv erf', () => {
  const opts = { layers: 2, kernelSize: 3, levels: 2, size: 32, channels: 2, samples: 3, seed: 5, wavelet: 'db1' as const, waveletScale: 0.1 };
  const png = path.join(tmp, 'erf.png');
  let out: { output: string; size: number; wtconv: Record<string, number>; depthwise: Record<string, number> };

  beforeAll(async () => {
    await wt.init({ backend: 'native' });
    const r = cli(['erf', '--layers', '2', '--kernel', '3', '--levels', '2', '--size', '32', '--channels', '2', '--samples', '3', '--seed', '5', '-o', png, '--json', '--threads', '1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    out = JSON.parse(r.stdout);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('compares stacks with the same parameter count and reports their receptive fields', () => {
    expect(out.output).toBe(png);
    // WTConv2d k=3, 2 levels: 9 + 2 + 2 * 4 * 10 = 91 parameters per channel; the closest
    // odd depthwise kernel is 9x9 (82); two 9x9 layers see exactly +-8 pixels.
    expect(out.wtconv).toMatchObject({ kernelSize: 3, paramsPerChannel: 91 });
    expect(out.depthwise).toMatchObject({ kernelSize: 9, paramsPerChannel: 82, support: 8 });
    // Two 3x3 base convs alone would see +-2 pixels: the wavelet levels reach much further.
    expect(out.wtconv.support).toBeGreaterThanOrEqual(8);
    for (const m of [out.wtconv, out.depthwise]) {
      expect(m.r50).toBeGreaterThan(0);
      expect(m.r90).toBeGreaterThanOrEqual(m.r50);
      expect(m.r90).toBeLessThanOrEqual(m.support * Math.SQRT2);
    }
    expect(out.depthwise.r90).toBeGreaterThan(out.wtconv.r50);
  });

  it('draws both heat maps as computed, on one PNG', () => {
    const image = PNG.sync.read(readFileSync(png));
    const L = erfLayout(32);
    expect([image.width, image.height]).toEqual([L.width, L.height]);
    const expected = effectiveReceptiveField(opts);
    expect(expected.depthwise.support).toBe(out.depthwise.support);
    [expected.wtconv, expected.depthwise].forEach((m, p) => {
      const n = normalise(m.map, 4);
      let worst = 0;
      const distinct = new Set<number>();
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const px = L.left[p] + x * L.zoom + (L.zoom >> 1);
          const py = L.top + y * L.zoom + (L.zoom >> 1);
          const i = 4 * (py * image.width + px);
          const want = colour(n[y * 32 + x]);
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(image.data[i + c] - want[c]));
          distinct.add((image.data[i] << 16) | (image.data[i + 1] << 8) | image.data[i + 2]);
        }
      }
      expect(worst, `panel ${p}`).toBeLessThanOrEqual(2);
      expect(distinct.size, `panel ${p}`).toBeGreaterThan(50);
    });
    // Outside the depthwise stack's reach the map is the colour of zero.
    const i = 4 * ((L.top + 2) * image.width + L.left[1] + 2);
    expect(Array.from(image.data.subarray(i, i + 3))).toEqual(colour(0));
  });
});

describe('the CLI', () => {
  it('has --help for every command', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^Usage: wtconv <command> \[options\]/);
    expect(top.stdout).toMatch(/^\s+info \[options\]/m);
    expect(top.stdout).toMatch(/^\s+erf \[options\]/m);
    for (const command of ['info', 'erf']) {
      for (const args of [[command, '--help'], ['help', command]]) {
        const r = cli(args);
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: wtconv ${command} \\[options\\]`));
      }
    }
    expect(cli(['erf', '-h']).stdout).toMatch(/--layers <n>[\s\S]*--kernel <k>[\s\S]*--levels <L>[\s\S]*--size <px>[\s\S]*--output <file>/);
    expect(cli([]).status).toBe(1);  // no command: the help, and a failure status
  });

  it('reports user mistakes as one line, with status 2 and no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['erf', '--layers', '0'], /^wtconv: option '-l, --layers <n>' argument '0' is invalid\. expected a positive integer\.\n$/],
      [['erf', '--kernel', 'five'], /^wtconv: option '-k, --kernel <k>' argument 'five' is invalid/],
      [['erf', '--wavelet', 'db7'], /^wtconv: option '-w, --wavelet <name>' argument 'db7' is invalid\. Allowed choices are db1, db2, db3, db4, haar\.\n$/],
      [['erf', '--size', '16', '--levels', '5'], /^wtconv: --levels: expected 1\.\.4 for --size 16, got 5\n$/],
      [['erf', '-o', path.join(tmp, 'no', 'such', 'x.png')], /^wtconv: --output: the folder .*no\/such does not exist\n$/],
      [['erf', '--bogus'], /^wtconv: unknown option '--bogus'\n$/],
      [['info', '--shape', '1,2'], /^wtconv: --shape: expected 4 positive integer\(s\) separated by commas, got '1,2'\n$/],
      [['nosuch'], /^wtconv: unknown command 'nosuch'\n$/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});
