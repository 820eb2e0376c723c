// Copy the onnxruntime-web runtime files the widget loads into web/vendor/ort/, so the site serves them from
// its own origin (no CDN). Only the default (JSEP) entry is copied: it holds both the WebGPU and the WASM
// execution providers in one .wasm (web-runtime.md §6), and it is the build that computes every try-on op
// correctly on WebGPU (§2). Runs as `npm run vendor` and after `npm install`.
//
// Each file also gets precompressed siblings, `<name>.br` and `<name>.gz`, which `tryon serve` sends to browsers
// that accept them (the 28 MB .wasm is about 4 MB as brotli). Brotli at its best quality takes about a minute
// on the .wasm, so files whose bytes did not change keep their siblings.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { ORT_FILES } from '../src/env.js';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'node_modules', 'onnxruntime-web', 'dist');
const dst = join(here, '..', 'vendor', 'ort');
const FILES = Object.values(ORT_FILES);
const COMPRESSED = {
  br: (bytes) => brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  }),
  gz: (bytes) => gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }),
};

/** Whether `path.<ext>` exists for every coding and is at least as new as `path` (the server's own rule). */
function siblingsFresh(path) {
  const mtime = statSync(path).mtimeMs;
  const fresh = (sibling) => existsSync(sibling) && statSync(sibling).mtimeMs >= mtime;
  return Object.keys(COMPRESSED).every((ext) => fresh(`${path}.${ext}`));
}

if (!existsSync(src)) {
  console.error(`copy-ort: ${src} is missing; run \`npm ci\` in web/ first`);
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8'));
mkdirSync(dst, { recursive: true });
for (const f of FILES) {
  const from = join(src, f);
  const to = join(dst, f);
  const bytes = readFileSync(from);
  if (existsSync(to) && readFileSync(to).equals(bytes) && siblingsFresh(to)) continue;
  copyFileSync(from, to);
  for (const [ext, compress] of Object.entries(COMPRESSED)) {
    const packed = compress(bytes);
    writeFileSync(`${to}.${ext}`, packed);
    console.log(`copy-ort: ${f}.${ext} ${bytes.length} -> ${packed.length} bytes`);
  }
}
// The widget's `load` event reports this version; a stale vendor folder shows up there. The server also lets
// browsers keep this folder's files for a year when asked for with `?v=<this version>`.
writeFileSync(join(dst, 'VERSION'), `${version}\n`);
console.log(`copy-ort: onnxruntime-web ${version} -> ${dst} (${FILES.join(', ')})`);
