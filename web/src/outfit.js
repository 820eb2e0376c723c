/**
 * Outfits in the widget: one garment per category (a top and a bottom, or a one-piece alone), checked before
 * anything runs, as `tryon.teacher.outfit.plan_outfit` checks them in Python.
 *
 * @module outfit
 */

import { DEFAULT_CATEGORIES, ErrorName, namedError, normaliseCategory, resolveCategory } from './protocol.js';

/** How an outfit's top meets its bottom (`tryon.teacher.outfit.TUCKS`); the first is the default. */
export const TUCKS = Object.freeze(['out', 'in']);

/**
 * Check an outfit of several garments, in the order the shopper picked them.
 * @param {Array<{src?: string, blob?: Blob, category: string, alt?: string}>} garments each garment's
 *   category must be named (`tops`, `bottoms`, `one-pieces` or a spelling `tryon.garment.category` accepts):
 *   the widget classifies a single garment's photo in its worker (`category.js`), not an outfit's garments
 * @param {string[]} [dressed] the categories the model dresses (a manifest's `categories`; default
 *   `DEFAULT_CATEGORIES`, what the deployed student dresses)
 * @returns {Array<{category: string}>} the garments with their categories in FASHN's names
 * @throws {Error} `TypeError` for a garment without a named category (or an unknown one); `UnsupportedCategoryError` for two
 *   garments of one category, a one-piece with other garments, or a category the in-browser model does not
 *   dress (`resolveCategory`'s message, prefixed with the garment's name)
 */
export function checkOutfit(garments, dressed = DEFAULT_CATEGORIES) {
  if (!Array.isArray(garments) || !garments.length) throw namedError('TypeError', 'an outfit needs at least one garment');
  const seen = new Map();
  const named = garments.map((g, i) => {
    const label = g.alt || `garment ${i + 1}`;
    const category = normaliseCategory(g.category); // TypeError for an unknown name
    if (category === 'auto') {
      throw namedError('TypeError', `${label}: name its category (tops, bottoms or one-pieces); an outfit's garments `
        + 'are not classified in the browser');
    }
    if (seen.has(category)) {
      throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `two ${category} in one outfit (${seen.get(category)} and `
        + `${label}): an outfit takes one garment per category; pick one of them`);
    }
    seen.set(category, label);
    return { ...g, category, label };
  });
  if (seen.has('one-pieces') && seen.size > 1) {
    throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `a one-piece (${seen.get('one-pieces')}) dresses the whole body `
      + 'and cannot be worn with other garments: try it on alone, or pick a top and a bottom instead');
  }
  for (const g of named) {
    try {
      resolveCategory(g.category, dressed);
    } catch (err) {
      throw namedError(err.name, `${g.label}: ${err.message}`);
    }
  }
  return named;
}
