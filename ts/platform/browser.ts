// Browsers (and web workers): no native addon; the threaded WASM module only
// where SharedArrayBuffer can really be posted (cross-origin isolation).
import { WTConvError } from '../errors.js';
import type { WasmModule } from '../backends/wasm.js';
import { WASM_FILES, checkWasmBytes, resolveWasmFile, type Platform, type WasmLoadOptions } from './types.js';

const defaultDir = new URL('../wasm/', import.meta.url).href;

async function loadScript(url: string): Promise<void> {
  const g = globalThis as unknown as { importScripts?: (u: string) => void; document?: Document };
  if (typeof g.importScripts === 'function') return g.importScripts(url);
  await new Promise<void>((resolve, reject) => {
    const s = g.document!.createElement('script');
    s.src = url;
    s.onload = () => resolve();
    s.onerror = () => reject(new WTConvError('E_BACKEND', `cannot load ${url}`));
    g.document!.head.appendChild(s);
  });
}

export const browserPlatform: Platform = {
  name: 'browser',

  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,

  loadNativeAddon: () => ({ reason: 'native addons do not run in a browser' }),

  async wasmThreadsUsable() {
    if (typeof SharedArrayBuffer === 'undefined' || !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
      return { ok: false, reason: 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so SharedArrayBuffer and threads are unavailable' };
    }
    try {
      // crossOriginIsolated can be true while posting a SharedArrayBuffer still fails.
      new MessageChannel().port1.postMessage(new SharedArrayBuffer(1));
    } catch (e) {
      return { ok: false, reason: `posting a SharedArrayBuffer failed (${(e as Error).message})` };
    }
    return { ok: true, reason: 'the page is cross-origin isolated' };
  },

  async loadWasmModule(options: WasmLoadOptions): Promise<WasmModule> {
    const files = WASM_FILES[options.variant];
    const glueUrl = new URL(resolveWasmFile(files.glue, options.wasmPaths, defaultDir), location.href).href;
    const wasmUrl = new URL(resolveWasmFile(files.wasm, options.wasmPaths, defaultDir), location.href).href;
    const response = await fetch(wasmUrl);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const bad = checkWasmBytes(bytes, `${wasmUrl} (HTTP ${response.status})`);
    if (bad) throw new WTConvError('E_BACKEND', bad);
    const g = globalThis as unknown as { createWtconvModule?: (m: object) => Promise<WasmModule>; module?: unknown; exports?: unknown };
    await loadScript(glueUrl);
    if (typeof g.createWtconvModule !== 'function') throw new WTConvError('E_BACKEND', `${glueUrl} did not define createWtconvModule`);
    return g.createWtconvModule({
      wasmBinary: bytes,
      wtconvPoolSize: Math.max(0, options.threads - 1),
      mainScriptUrlOrBlob: glueUrl,
      locateFile: (name: string) =>
        name.endsWith('.worker.js') && files.worker ? new URL(resolveWasmFile(files.worker, options.wasmPaths, defaultDir), location.href).href : new URL(name, glueUrl).href,
    });
  },
};

export const currentPlatform = browserPlatform;
