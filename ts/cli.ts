// The `wtconv` command line (commander): `wtconv info` lists the backends that run
// here and times one WTConv2d layer forward and backward on each; `wtconv erf` draws
// the effective receptive field of WTConv2d layers against plain depthwise convs;
// `wtconv bench` runs the CPU benchmark of a repository checkout.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { WTConvError } from './errors.js';
import { Tensor } from './tensor.js';
import { init, availableBackends } from './runtime.js';
import { WTConv2d } from './modules/wtconv2d.js';
import { Random } from './random.js';
import { VERSION } from './version.js';
import { WAVELETS, type WaveletName } from './wavelets.js';
import { effectiveReceptiveField, matchingDepthwiseKernel, wtconvParamsPerChannel } from './erf/compute.js';
import { renderErf } from './erf/render.js';
import type { BackendName } from './backends/backend.js';

function positiveInts(text: string, count: number, what: string): number[] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== count || parts.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new WTConvError('E_ARG', `${what}: expected ${count} positive integer(s) separated by commas, got '${text}'`);
  }
  return parts;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface InfoOptions {
  shape: string;
  kernel: string;
  levels: string;
  threads?: string;
  repeat: string;
}

async function info(values: InfoOptions): Promise<void> {
  const [n, c, h, w] = positiveInts(values.shape, 4, '--shape');
  const [k] = positiveInts(values.kernel, 1, '--kernel');
  const [levels] = positiveInts(values.levels, 1, '--levels');
  const [repeat] = positiveInts(values.repeat, 1, '--repeat');
  const threads = values.threads === undefined ? undefined : positiveInts(values.threads, 1, '--threads')[0];

  console.log(`wtconv ${VERSION} on Node ${process.version} (${process.platform}-${process.arch})`);
  const auto = await init({ threads });
  console.log(`auto-selected backend: ${auto.name}\n  reason: ${auto.reason.split('; ').join('\n          ')}\n`);
  const names: BackendName[] = await availableBackends();
  console.log(`WTConv2d N=${n} C=${c} ${h}x${w} k=${k} levels=${levels}: median of ${repeat} runs\n`);
  console.log('backend  variant          isa            threads  forward ms  backward ms');
  const rng = new Random(1);
  const x = new Tensor(rng.uniform(new Float32Array(n * c * h * w), 1), [n, c, h, w]);
  const layer = new WTConv2d({ channels: c, kernelSize: k, levels, seed: 1 });
  for (const name of names) {
    const b = await init({ backend: name, threads });
    const y = layer.forward(x);
    const gy = new Tensor(rng.uniform(new Float32Array(y.size), 1), y.shape);
    // Outputs and gradients written into those of the warm-up, as a serving or
    // training loop would: fresh memory per call would be timed as page faults.
    let grads = layer.backward(gy);
    const fwd: number[] = [];
    const bwd: number[] = [];
    for (let i = 0; i < repeat; i++) {
      let t = performance.now();
      layer.forward(x, y);
      fwd.push(performance.now() - t);
      t = performance.now();
      grads = layer.backward(gy, grads);
      bwd.push(performance.now() - t);
    }
    console.log(
      `${b.name.padEnd(8)} ${(b.variant ?? '-').padEnd(16)} ${b.isa.padEnd(14)} ${String(b.threads).padStart(7)}  ${median(fwd).toFixed(2).padStart(10)}  ${median(bwd).toFixed(2).padStart(11)}`,
    );
  }
  const missing = (['cuda', 'native', 'wasm'] as const).filter((b) => !names.includes(b));
  if (missing.length) console.log(`\nnot available here: ${missing.join(', ')} (see the reason above)`);
}

interface ErfCliOptions {
  layers: number;
  kernel: number;
  levels: number;
  size: number;
  channels: number;
  samples: number;
  seed: number;
  wavelet: WaveletName;
  waveletScale: number;
  decades: number;
  threads?: number;
  output: string;
  json?: boolean;
  progress: boolean;
}

async function erf(o: ErfCliOptions): Promise<void> {
  if (o.size < 8 || o.size > 1024) throw new WTConvError('E_ARG', `--size: expected 8..1024, got ${o.size}`);
  if (o.layers > 16) throw new WTConvError('E_ARG', `--layers: expected 1..16, got ${o.layers}`);
  if (o.levels > 8 || 2 ** o.levels > o.size) throw new WTConvError('E_ARG', `--levels: expected 1..${Math.min(8, Math.floor(Math.log2(o.size)))} for --size ${o.size}, got ${o.levels}`);
  if (o.kernel > o.size) throw new WTConvError('E_ARG', `--kernel: expected at most --size (${o.size}), got ${o.kernel}`);
  const output = path.resolve(o.output);
  if (!existsSync(path.dirname(output))) throw new WTConvError('E_ARG', `--output: the folder ${path.dirname(output)} does not exist`);
  const info = await init({ threads: o.threads });
  const K = matchingDepthwiseKernel(wtconvParamsPerChannel(o.kernel, o.levels));
  const log = (s: string) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  log(`ERF of ${o.layers} WTConv2d layer(s) (k=${o.kernel}, ${o.levels} level(s), ${o.wavelet}) vs ${o.layers} depthwise conv(s) (k=${K}), ` +
    `${o.channels} channel(s), ${o.size}x${o.size}, ${o.samples} random input(s), on ${info.name}${info.variant ? ` ${info.variant}` : ''}`);
  const bar = new SingleBar({ format: 'erf [{bar}] {value}/{total} passes', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  if (o.progress) bar.start(2 * o.samples, 0);
  let result;
  try {
    result = effectiveReceptiveField({
      layers: o.layers, kernelSize: o.kernel, levels: o.levels, size: o.size, channels: o.channels, samples: o.samples,
      seed: o.seed, wavelet: o.wavelet, waveletScale: o.waveletScale, onStep: () => o.progress && bar.increment(),
    });
  } finally {
    if (o.progress) bar.stop();
  }
  writeFileSync(output, renderErf(result, { layers: o.layers, levels: o.levels, decades: o.decades }));
  const summary = (name: string, m: typeof result.wtconv) =>
    `  ${name.padEnd(10)} k=${String(m.kernelSize).padEnd(3)} ${String(m.paramsPerChannel).padStart(5)} params/channel  ` +
    `r50 ${m.r50.toFixed(1).padStart(5)} px  r90 ${m.r90.toFixed(1).padStart(5)} px  support +-${m.support} px`;
  log(summary('WTConv2d', result.wtconv));
  log(summary('depthwise', result.depthwise));
  log(`wrote ${output}`);
  if (o.json) {
    const strip = ({ map: _map, ...rest }: typeof result.wtconv) => rest;
    process.stdout.write(JSON.stringify({ output, size: result.size, wtconv: strip(result.wtconv), depthwise: strip(result.depthwise) }) + '\n');
  }
}

const int = (min: number, what: string) => (text: string): number => {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`expected ${what}.`);
  return v;
};
const real = (text: string): number => {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError('expected a number.');
  return v;
};

function program(): Command {
  const cmd = new Command('wtconv')
    .description(`wtconv ${VERSION}: wavelet convolutions for JavaScript`)
    .usage('<command> [options]')
    .version(VERSION, '-v, --version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`wtconv: ${text.replace(/^error: /, '')}`) });
  cmd
    .command('info')
    .description('list the backends available here (and why others are not), then time one WTConv2d layer forward and backward on each')
    .option('--shape <N,C,H,W>', 'input shape', '8,64,64,64')
    .option('--kernel <k>', 'kernel size', '5')
    .option('--levels <L>', 'wavelet levels', '2')
    .option('--threads <T>', 'CPU threads (default: all cores)')
    .option('--repeat <R>', 'timed runs per measurement', '10')
    .helpOption('-h, --help', 'show this help')
    .action((opts: InfoOptions) => info(opts));
  cmd
    .command('erf')
    .description(
      'effective receptive field: the gradient of the centre output with respect to the input, averaged over random inputs, ' +
        'of a stack of WTConv2d layers and of a stack of depthwise convs with about the same parameter count; writes one PNG with both heat maps and a legend',
    )
    .option('-l, --layers <n>', 'layers in each stack (ReLU between them)', int(1, 'a positive integer'), 2)
    .option('-k, --kernel <k>', 'WTConv2d kernel size (the depthwise kernel is chosen to match the parameter count)', int(1, 'a positive integer'), 5)
    .option('-L, --levels <L>', 'wavelet levels', int(1, 'a positive integer'), 3)
    .option('-s, --size <px>', 'input height and width', int(1, 'a positive integer'), 64)
    .option('-c, --channels <C>', 'channels', int(1, 'a positive integer'), 4)
    .option('-n, --samples <n>', 'random inputs to average over', int(1, 'a positive integer'), 16)
    .addOption(new Option('-w, --wavelet <name>', 'wavelet').choices([...WAVELETS, 'haar']).default('db1'))
    .option('--wavelet-scale <s>', "initial wavelet_scale (PyTorch's init: 0.1)", real, 0.1)
    .option('--decades <d>', 'decades of the log colour scale', int(1, 'a positive integer'), 4)
    .option('--seed <n>', 'seed of the weights and inputs', int(0, 'a non-negative integer'), 1)
    .option('--threads <T>', 'CPU threads (default: all cores)', int(1, 'a positive integer'))
    .option('-o, --output <file>', 'the PNG to write', 'erf.png')
    .option('--json', 'print the numbers as JSON on stdout (the text goes to stderr)')
    .option('--no-progress', 'no progress bar')
    .helpOption('-h, --help', 'show this help')
    .action((opts: ErfCliOptions) => erf(opts));
  cmd
    .command('bench')
    .description('the CPU benchmark of the specification\'s WTConv2d workloads: ours (native, WASM threaded and single-threaded) against ONNX Runtime (Node and Web), the layer composed from TF.js ops (on TF.js\'s WASM backend) and PyTorch in one run; writes bench/results/cpu-<date>.json (needs a checkout of the repository with its dev dependencies)')
    .option('--workloads <list>', 'comma-separated workloads of b1, b2, b3, b4', 'b1,b2,b3,b4')
    .option('--repeat <R>', 'timed runs per measurement', '10')
    .option('--threads <T>', 'CPU threads', '2')
    .option('--no-pytorch', 'do not run the PyTorch peer')
    .helpOption('-h, --help', 'show this help')
    .action((opts: { workloads: string; repeat: string; threads: string; pytorch: boolean }) => bench(opts));
  return cmd;
}

/** Runs bench/cpu.mjs of the repository checkout this CLI belongs to. */
function bench(opts: { workloads: string; repeat: string; threads: string; pytorch: boolean }): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const script = path.join(root, 'bench', 'cpu.mjs');
  if (!existsSync(script)) {
    throw new WTConvError('E_ARG', `the benchmark runs from a checkout of the wtconv repository (npm run bench there); ${script} is not here`);
  }
  const args = [script, '--workloads', opts.workloads, '--repeat', opts.repeat, '--threads', opts.threads];
  if (!opts.pytorch) args.push('--no-pytorch');
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new WTConvError('E_ARG', `the benchmark failed (exit status ${r.status})`);
}

/** Runs the CLI; resolves with the exit status. User mistakes print one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const cmd = program();
  if (argv.length === 0) {
    process.stdout.write(cmd.helpInformation());
    return 1;
  }
  if (argv[0] === 'help' && argv.length === 1) argv = ['--help'];
  try {
    await cmd.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;  // help/version, or a usage error already printed
    const code = (e as { code?: unknown }).code;
    if (e instanceof WTConvError || (typeof code === 'string' && /^E[A-Z]+$/.test(code) && (e as { syscall?: string }).syscall)) {
      process.stderr.write(`wtconv: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}
