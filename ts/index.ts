// wtconv: wavelet convolutions and large-receptive-field operators for JavaScript.
export { WTConvError, type WTConvErrorCode } from './errors.js';
export { Tensor, tensor } from './tensor.js';
export { init, backend, availableBackends, zeros, type InitOptions } from './runtime.js';
export type { BackendInfo, BackendName, RuntimeStats } from './backends/backend.js';
export { wtconv2d, wtconv2dBackward, type WTConv2dOptions, type WTConv2dParams } from './ops/wtconv2d.js';
export { dwt2d, dwt2dBackward, idwt2d, idwt2dBackward, type Dwt2dOptions, type Idwt2dOptions } from './ops/dwt2d.js';
export { WTConv2d, type WTConv2dConfig, type LoadStateDictOptions } from './modules/wtconv2d.js';
export {
  conv1d, conv1dBackward, conv2d, conv2dBackward, conv3d, conv3dBackward, convTranspose2d, convTranspose2dBackward,
  type ConvOptions, type ConvTranspose2dOptions, type ConvGrads,
} from './ops/conv.js';
export {
  dclsConstructKernel, dclsConstructKernelBackward, dclsConv, dclsConvBackward,
  type DclsVersion, type DclsConstructOptions, type DclsConvOptions, type DclsConstructGrads, type DclsConvGrads,
} from './ops/dcls.js';
export { Conv2d, ConvTranspose2d, type Conv2dConfig, type ConvTranspose2dConfig } from './modules/conv.js';
export { Dcls1d, Dcls2d, Dcls3d, type DclsConfig } from './modules/dcls.js';
export { loadSafetensors, saveSafetensors, type SafetensorsFile, type LoadSafetensorsOptions } from './io/safetensors.js';
export { WAVELETS, waveletFilters1d, type WaveletName } from './wavelets.js';
export { VERSION as version } from './version.js';
export { runtimeStats, releaseMemory } from './stats.js';
export {
  add, gelu, geluBackward, dropout, dropoutBackward, batchNorm2d, batchNorm2dBackward, linear, linearBackward,
  globalAvgPool2d, globalAvgPool2dBackward, concatChannels, concatChannelsBackward, crossEntropy,
  type DropoutOptions, type BatchNorm2dOptions, type BatchNorm2dSaved, type GeluOptions, type GradOutOptions,
} from './ops/layers.js';
export { WaveMixBlock, WaveMix, type WaveMixBlockConfig, type WaveMixConfig } from './modules/wavemix.js';
export { SGD, AdamW, type SGDOptions, type AdamWOptions } from './optim.js';
