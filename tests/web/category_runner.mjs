// Golden-test runner for the category names of web/src/protocol.js: reads a JSON list of names from argv[2] and
// prints, per name, what the widget's category check does with it for a folder without `categories` (tops only:
// resolveCategory against DEFAULT_CATEGORIES; auto passes, the worker classifies) as {error, message} or {error: null}.
import { readFileSync } from 'node:fs';
import { DEFAULT_CATEGORIES, normaliseCategory, resolveCategory } from '../../web/src/protocol.js';

const out = {};
for (const name of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  try {
    if (normaliseCategory(name) !== 'auto') resolveCategory(name, DEFAULT_CATEGORIES);
    out[name] = { error: null, message: '' };
  } catch (e) {
    out[name] = { error: e.name, message: e.message };
  }
}
process.stdout.write(JSON.stringify(out));
