// The demo shop page: a catalogue of the project's procedurally rendered tops (built by `tryon web-build`
// into demo/garments/) driving one <tryon-widget>. External file, so the page works under a strict CSP.
const widget = document.getElementById('tryon');
const list = document.getElementById('catalogue');
const note = document.getElementById('backend-note');
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');

function select(item, button) {
  // A radio group is one Tab stop: only the checked radio is tabbable (roving tabindex).
  for (const b of list.querySelectorAll('.garment')) {
    b.setAttribute('aria-checked', String(b === button));
    b.tabIndex = b === button ? 0 : -1;
  }
  widget.garmentSrc = item.image;
  widget.garmentMaskSrc = item.mask || '';
  widget.setAttribute('garment-alt', item.label);
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
  const buttons = items.map((item) => {
    item.image = new URL(item.image, new URL('garments/', document.baseURI)).href;
    if (item.mask) item.mask = new URL(item.mask, new URL('garments/', document.baseURI)).href;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'garment';
    b.setAttribute('role', 'radio');
    b.dataset.name = item.name;
    const img = document.createElement('img');
    img.src = item.image;
    img.alt = '';
    img.loading = 'lazy';
    b.append(img, document.createTextNode(item.label));
    b.addEventListener('click', () => select(item, b));
    return b;
  });
  list.append(...buttons);
  select(items[0], buttons[0]);
  // Arrow keys move the checked radio through the group (wrapping), Home and End jump to its ends.
  list.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
    let to;
    if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = buttons.length - 1;
    else if (step) to = (i + step + buttons.length) % buttons.length;
    if (i < 0 || to === undefined) return;
    ev.preventDefault();
    buttons[to].focus();
    buttons[to].click();
  });
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
for (const key of ['backend', 'model', 'server-fallback']) if (params.has(key)) widget.setAttribute(key, params.get(key));
if (params.has('debug')) widget.setAttribute('debug', '');
loadCatalogue();
