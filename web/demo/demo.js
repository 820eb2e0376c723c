// The demo shop page: a catalogue of the project's procedurally rendered garments, grouped by category (built
// by `tryon web-build` into demo/garments/), driving one <tryon-widget>. External file, so the page works under a strict CSP.
const widget = document.getElementById('tryon');
const list = document.getElementById('catalogue');
const note = document.getElementById('backend-note');
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');

// The catalogue is grouped by category (one radio group each); the shopper picks at most one garment per
// group: a top and a bottom make an outfit, a one-piece is worn alone (picking one clears the top and the
// bottom, and the other way round). Clicking the checked garment again takes it off (except the last one).
const GROUPS = [['tops', 'Tops'], ['bottoms', 'Bottoms'], ['one-pieces', 'Dresses']];
const picks = new Map(); // category -> catalogue item

function showPicks() {
  for (const b of list.querySelectorAll('.garment')) {
    const on = picks.get(b.dataset.category)?.name === b.dataset.name;
    b.setAttribute('aria-checked', String(on));
  }
  // A radio group is one Tab stop: its checked radio, or its first one when none is checked (roving tabindex).
  for (const group of list.querySelectorAll('.group')) {
    const radios = [...group.querySelectorAll('.garment')];
    const stop = radios.find((b) => b.getAttribute('aria-checked') === 'true') || radios[0];
    for (const b of radios) b.tabIndex = b === stop ? 0 : -1;
  }
  // Tops before bottoms: the widget's outfit lists the garments in the catalogue's order.
  const order = GROUPS.map(([c]) => c);
  widget.outfit = [...picks.values()].sort((a, b) => order.indexOf(a.category) - order.indexOf(b.category))
    .map((item) => ({ src: item.image, maskSrc: item.mask || undefined, category: item.category, alt: item.label }));
}

function select(item) {
  if (picks.get(item.category)?.name === item.name) {
    if (picks.size > 1) picks.delete(item.category); // take it off, as long as something stays on
  } else {
    if (item.category === 'one-pieces') picks.clear();
    else picks.delete('one-pieces');
    picks.set(item.category, item);
  }
  showPicks();
}

async function loadCatalogue() {
  let items = [];
  try {
    const res = await fetch('garments/catalogue.json');
    if (res.ok) items = (await res.json()).garments;
  } catch { /* shown below */ }
  if (!items.length) {
    document.getElementById('catalogue-missing').hidden = false;
    return;
  }
  for (const [category, title] of GROUPS) {
    const members = items.filter((item) => (item.category || 'tops') === category);
    if (!members.length) continue;
    const group = document.createElement('div');
    group.className = 'group';
    const heading = document.createElement('h3');
    heading.id = `group-${category}`;
    heading.textContent = title;
    const row = document.createElement('div');
    row.className = 'garments';
    row.setAttribute('role', 'radiogroup');
    row.setAttribute('aria-labelledby', heading.id);
    const buttons = members.map((item) => {
      item.category = category;
      item.image = new URL(item.image, new URL('garments/', document.baseURI)).href;
      if (item.mask) item.mask = new URL(item.mask, new URL('garments/', document.baseURI)).href;
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'garment';
      b.setAttribute('role', 'radio');
      b.dataset.name = item.name;
      b.dataset.category = category;
      const img = document.createElement('img');
      img.src = item.image;
      img.alt = '';
      img.loading = 'lazy';
      b.append(img, document.createTextNode(item.label));
      b.addEventListener('click', () => select(item));
      return b;
    });
    row.append(...buttons);
    group.append(heading, row);
    list.append(group);
    // Arrow keys move the checked radio through the group (wrapping), Home and End jump to its ends.
    row.addEventListener('keydown', (ev) => {
      const i = buttons.indexOf(document.activeElement);
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
      let to;
      if (ev.key === 'Home') to = 0;
      else if (ev.key === 'End') to = buttons.length - 1;
      else if (step) to = (i + step + buttons.length) % buttons.length;
      if (i < 0 || to === undefined) return;
      ev.preventDefault();
      buttons[to].focus();
      if (buttons[to].getAttribute('aria-checked') !== 'true') buttons[to].click();
    });
  }
  const first = items.find((item) => item.category === 'tops') || items[0];
  select(first);
}

// On a phone the result lands below the fold: bring it into view once its image is decoded (so its size is
// known), without animation for people who asked for less motion.
widget.addEventListener('result', async () => {
  const figure = widget.shadowRoot?.querySelector('[part~="compare"]');
  if (!figure) return;
  await Promise.all([...figure.querySelectorAll('img')].map((img) => img.decode().catch(() => {})));
  figure.scrollIntoView({ block: 'nearest', behavior: reducedMotion.matches ? 'auto' : 'smooth' });
});
widget.addEventListener('backend-change', (ev) => {
  note.textContent = `Backend: ${ev.detail.backend}${ev.detail.reason ? ` (${ev.detail.reason})` : ''}`;
});
widget.addEventListener('load', (ev) => {
  note.textContent = `Backend: ${ev.detail.backend}, ${ev.detail.dtype} model ${ev.detail.modelVersion}`;
});

const params = new URLSearchParams(location.search);
for (const key of ['backend', 'model', 'server-fallback', 'quality-gate']) if (params.has(key)) widget.setAttribute(key, params.get(key));
if (params.has('debug')) widget.setAttribute('debug', '');
loadCatalogue();
