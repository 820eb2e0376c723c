/**
 * Model file delivery: streamed download with progress, the Cache API, and a sha256 check against the
 * manifest before any byte reaches onnxruntime.
 *
 * A cached copy that fails the check is deleted and fetched again; a downloaded copy that fails it is never
 * cached and raises `IntegrityError`. Works in windows and workers (`fetch`, `caches`, `crypto.subtle`).
 *
 * @module cache
 */

import { ErrorName, namedError } from './protocol.js';

/**
 * Hex sha256 of bytes.
 * @param {ArrayBuffer|Uint8Array} bytes
 * @returns {Promise<string>}
 */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The URL a model file is fetched and cached under: its manifest URL pinned by `?v=<sha256 prefix>`, so a new
 * file never meets an old cache entry and the server may mark it immutable.
 * @param {string} url absolute URL of the file
 * @param {string} sha256
 */
export function pinnedUrl(url, sha256) {
  const u = new URL(url);
  if (!u.searchParams.has('v')) u.searchParams.set('v', sha256.slice(0, 16));
  return u.href;
}

async function openCache(name) {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(name);
  } catch (err) { // e.g. opaque origins, some private modes: continue uncached (transformers.js does the same)
    console.warn(`tryon: Cache API unavailable (${err.message}); model files will not be cached`);
    return null;
  }
}

/**
 * Stream a response body into one buffer, reporting progress against the manifest's byte count (a
 * Content-Length may count compressed bytes).
 */
async function readWithProgress(response, total, onProgress) {
  const reader = response.body.getReader();
  let buf = new Uint8Array(total || 1 << 20);
  let loaded = 0;
  let last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, loaded + value.length));
      bigger.set(buf.subarray(0, loaded));
      buf = bigger;
    }
    buf.set(value, loaded);
    loaded += value.length;
    const now = Date.now();
    if (now - last > 100 || loaded === total) { // throttled, like model-viewer's progress bar
      last = now;
      onProgress({ status: 'progress', loaded, total: Math.max(total, loaded) });
    }
  }
  return buf.subarray(0, loaded);
}

/**
 * Fetch a model file listed in the manifest, verified by sha256, through the Cache API.
 *
 * @param {string} url absolute URL of the file
 * @param {{sha256: string, bytes: number, path: string}} entry the manifest's file entry
 * @param {{cacheName: string, useCache: boolean, onProgress?: (p: object) => void}} options onProgress gets
 *   `{status: 'initiate'|'download'|'progress'|'done', file, loaded, total, cached}`
 * @returns {Promise<Uint8Array>}
 * @throws {Error} `IntegrityError` on a sha256 mismatch of downloaded bytes, `ManifestError` on HTTP errors
 */
export async function fetchModelFile(url, entry, { cacheName, useCache = true, onProgress = () => {} }) {
  const file = entry.path;
  const total = entry.bytes || 0;
  const report = (p) => onProgress({ file, loaded: 0, total, ...p });
  const key = pinnedUrl(url, entry.sha256);
  report({ status: 'initiate' });
  const cache = useCache ? await openCache(cacheName) : null;
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if (await sha256Hex(bytes) === entry.sha256) {
        report({ status: 'done', loaded: bytes.length, total: bytes.length, cached: true });
        return bytes;
      }
      console.warn(`tryon: cached ${file} fails its sha256 check; deleting it and downloading again`);
      await cache.delete(key);
    }
  }
  report({ status: 'download' });
  const response = await fetch(key);
  if (!response.ok) throw namedError(ErrorName.MANIFEST, `${file}: HTTP ${response.status} from ${key}`);
  const bytes = await readWithProgress(response, total, (p) => report(p));
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256) {
    if (cache) await cache.delete(key);
    throw namedError(ErrorName.INTEGRITY, `${file}: sha256 ${digest.slice(0, 12)}… does not match the manifest's `
      + `${entry.sha256.slice(0, 12)}…; the file was not used`);
  }
  if (cache) {
    try {
      await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
    } catch (err) { // quota exceeded and the like: the model still runs, uncached
      console.warn(`tryon: could not cache ${file}: ${err.message}`);
    }
  }
  report({ status: 'done', loaded: bytes.length, total: bytes.length, cached: false });
  return bytes;
}
