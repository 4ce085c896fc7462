// The platform of this build. The type checker sees the Node one; the browser
// bundle swaps in ./browser.ts (see scripts/bundle.mjs).
export { currentPlatform } from './node.js';
