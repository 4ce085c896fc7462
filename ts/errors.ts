/** Error codes carried by every {@link WTConvError}. */
export type WTConvErrorCode =
  /** A tensor's shape is wrong, inconsistent with another, or too large. */
  | 'E_SHAPE'
  /** An option or argument has a bad value (levels 0, stride 0, unknown wavelet, ...). */
  | 'E_ARG'
  /** Data of the wrong type (not a Float32Array, unsupported safetensors dtype, ...). */
  | 'E_DTYPE'
  /** A backend is unavailable, failed to load or was not initialised. */
  | 'E_BACKEND'
  /** Memory could not be allocated (WASM heap limit, failed native allocation). */
  | 'E_OOM'
  /** A state dict or file lacks, adds or mis-shapes a parameter. */
  | 'E_STATE'
  /** A file is not well formed (safetensors header, offsets, ...). */
  | 'E_FORMAT'
  /** A bug in wtconv: please report it. */
  | 'E_INTERNAL';

/** The one error type thrown by wtconv. `code` says what kind of mistake it is. */
export class WTConvError extends Error {
  readonly code: WTConvErrorCode;

  constructor(code: WTConvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WTConvError';
    this.code = code;
  }
}

export function fail(code: WTConvErrorCode, message: string): never {
  throw new WTConvError(code, message);
}
