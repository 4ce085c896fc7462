import type { NativeAddon } from '../backends/native.js';
import type { CudaAddon, CudaProbe } from '../backends/cuda.js';
import type { WasmModule } from '../backends/wasm.js';

export type WasmVariant = 'threaded' | 'single-threaded';

/** Where the .wasm files are: a directory (path or URL prefix), or a file name -> URL/path map. */
export type WasmPaths = string | Partial<Record<string, string>>;

export interface WasmLoadOptions {
  variant: WasmVariant;
  threads: number;
  wasmPaths?: WasmPaths;
}

/** What differs between Node and browsers: how code and binaries are found and loaded. */
export interface Platform {
  name: 'node' | 'browser';
  /** Logical cores here. */
  cores(): number;
  /** The native addon, or why there is none. */
  loadNativeAddon(): { addon?: NativeAddon; reason: string };
  /** The CUDA addon and its device, or why there is none (Node only). */
  loadCudaAddon?(): { addon?: CudaAddon; probe?: CudaProbe; reason: string };
  /** Whether the threaded WASM module can run here, and why (not). */
  wasmThreadsUsable(): Promise<{ ok: boolean; reason: string }>;
  loadWasmModule(options: WasmLoadOptions): Promise<WasmModule>;
}

export const WASM_FILES: Record<WasmVariant, { glue: string; wasm: string; worker?: string }> = {
  threaded: { glue: 'wtconv-threaded.cjs', wasm: 'wtconv-threaded.wasm', worker: 'wtconv-threaded.worker.cjs' },
  'single-threaded': { glue: 'wtconv-simd.cjs', wasm: 'wtconv-simd.wasm' },
};

/** Resolves a file of dist/wasm against the user's wasmPaths (or the default directory). */
export function resolveWasmFile(file: string, wasmPaths: WasmPaths | undefined, defaultDir: string): string {
  if (wasmPaths && typeof wasmPaths === 'object') {
    const mapped = wasmPaths[file];
    if (mapped) return mapped;
  }
  const dir = typeof wasmPaths === 'string' ? wasmPaths : defaultDir;
  return dir.endsWith('/') ? dir + file : `${dir}/${file}`;
}

/** Checks the WebAssembly magic number; explains what came instead (e.g. an HTML 404 page). */
export function checkWasmBytes(bytes: Uint8Array, source: string): string | null {
  if (bytes.length >= 4 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return null;
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\s+/g, ' ');
  return `${source} is not WebAssembly: expected magic word 00 61 73 6d, found ${head || '(empty)'} ("${text}")`;
}
