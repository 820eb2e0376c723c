// Golden-test runner for the category names of web/src/protocol.js: reads a JSON list of names from argv[2] and
// prints, per name, what requireSupportedCategory does with it ({error, message} or {error: null}).
import { readFileSync } from 'node:fs';
import { requireSupportedCategory } from '../../web/src/protocol.js';

const out = {};
for (const name of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  try {
    requireSupportedCategory(name);
    out[name] = { error: null, message: '' };
  } catch (e) {
    out[name] = { error: e.name, message: e.message };
  }
}
process.stdout.write(JSON.stringify(out));
