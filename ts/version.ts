/** The package version; the native addon must report the same (test/api.test.ts checks package.json). */
export const VERSION = '0.1.0';
