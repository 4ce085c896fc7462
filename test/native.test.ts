// The native tests of the C ABI (test/native/c_api_test.cc), built by scripts/setup.sh
// under AddressSanitizer + UBSan and under ThreadSanitizer, run here with ctest so that
// npm test and CI run them. Their output goes to the log; any sanitizer report fails a test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GROUPS = ['fixtures', 'random', 'invalid', 'oom', 'pool', 'cache', 'concurrency'];

describe('native C ABI tests under sanitizers (ctest)', () => {
  for (const [build, sanitize] of [['address', 'address,undefined'], ['thread', 'thread']]) {
    it(`-fsanitize=${sanitize}: every group passes with no report`, () => {
      const dir = path.join(root, 'build', 'native-test', build);
      expect(existsSync(path.join(dir, 'CTestTestfile.cmake')), `${dir}: run bash scripts/setup.sh (or test/native/run.sh)`).toBe(true);
      expect(readFileSync(path.join(dir, 'CMakeCache.txt'), 'utf8')).toContain(`WTCONV_SANITIZE:STRING=${sanitize}`);
      const r = spawnSync('ctest', ['--test-dir', dir, '--output-on-failure', '-V'], { encoding: 'utf8', timeout: 600_000 });
      const out = `${r.stdout}${r.stderr}`;
      // Only the summaries (the full output stays in the assertion message on failure).
      console.log(`native tests (-fsanitize=${sanitize}):\n${out.split('\n').filter((l) => /^\d+: (\w+: seed|\w+: \d|fixtures:|random:|invalid:|oom:|pool:|weight cache:|concurrency:)|tests passed|Test #/.test(l)).join('\n')}`);
      expect(out, out).not.toMatch(/ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error:/);
      expect(r.status, out).toBe(0);
      expect(out).toContain(`100% tests passed, 0 tests failed out of ${GROUPS.length}`);
      for (const g of GROUPS) expect(out).toMatch(new RegExp(`c_api\\.${g} \\.+\\s+Passed`));
    });
  }
});
