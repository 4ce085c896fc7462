// Places the built native addon where the loader looks first, in the node-gyp-build
// layout prebuilds/<platform>-<arch>/wtconv.node, so `npm pack` ships it (the prepack
// script; postpack runs it with --clean to remove the copy again). The addon is loaded
// in a child process first: a binary that crashes or reports another version is
// refused, not packed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'build', 'native', 'Release', 'wtconv.node');
const target = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'wtconv.node');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

if (process.argv.includes('--clean')) {
  // postpack: the repository keeps no copy that could go stale beside build/native.
  rmSync(target, { force: true });
  for (const dir of [path.dirname(target), path.dirname(path.dirname(target))]) {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
  process.exit(0);
}
if (!existsSync(built)) {
  console.error(`prebuild: ${built} is missing: build it first (bash scripts/setup.sh or npm run build:native)`);
  process.exit(1);
}
let info;
try {
  info = JSON.parse(execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(built)}).runtimeInfo()))`], { encoding: 'utf8' }));
} catch (e) {
  console.error(`prebuild: ${built} does not load in a child process: ${e.message.split('\n')[0]}`);
  process.exit(1);
}
if (info.version !== version) {
  console.error(`prebuild: ${built} is wtconv ${info.version}, the package is ${version}: rebuild it`);
  process.exit(1);
}
mkdirSync(path.dirname(target), { recursive: true });
copyFileSync(built, target);
console.error(`prebuild: ${path.relative(root, target)} (wtconv ${info.version}, ${info.isa})`);
