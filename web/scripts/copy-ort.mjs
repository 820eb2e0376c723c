// Copy the onnxruntime-web runtime files the widget loads into web/vendor/ort/, so the site serves them from
// its own origin (no CDN). Only the default (JSEP) entry is copied: it holds both the WebGPU and the WASM
// execution providers in one .wasm (web-runtime.md §6), and it is the build that computes every try-on op
// correctly on WebGPU (§2). Runs as `npm run vendor` and after `npm install`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'node_modules', 'onnxruntime-web', 'dist');
const dst = join(here, '..', 'vendor', 'ort');
const FILES = ['ort.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

if (!existsSync(src)) {
  console.error(`copy-ort: ${src} is missing; run \`npm ci\` in web/ first`);
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8'));
mkdirSync(dst, { recursive: true });
for (const f of FILES) copyFileSync(join(src, f), join(dst, f));
// The widget's `load` event reports this version; a stale vendor folder shows up there.
writeFileSync(join(dst, 'VERSION'), `${version}\n`);
console.log(`copy-ort: onnxruntime-web ${version} -> ${dst} (${FILES.join(', ')})`);
