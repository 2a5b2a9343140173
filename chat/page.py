"""The chat page's own CSS and JavaScript (Gradio runs PAGE_JS once at load, ANSWER_JS after each answer).

The scripts only move plain text around: quotes reach the clipboard from the server as text (never parsed
as HTML), and announcements are set with textContent.
"""

import json

from .kept import LINK_KEYS

CSS = """
.peelqa-source { max-height: 70vh; overflow-y: auto; }
.peelqa-text { white-space: pre-wrap; line-height: 1.5; }
/* The report's own structure in the panel: headings, numbered paragraphs, lists (markers kept as written). */
.peelqa-text .peelqa-head { margin: 1em 0 0.4em; font-weight: 700; line-height: 1.3; }
.peelqa-text h4.peelqa-head { font-size: 1.1em; }
.peelqa-text h5.peelqa-head, .peelqa-text h6.peelqa-head { font-size: 1em; }
.peelqa-text .peelqa-aside { margin: 0.3em 0; font-style: italic; }
.peelqa-text .peelqa-p { margin: 0.5em 0; }
.peelqa-text .peelqa-list ul { list-style: none; margin: 0.3em 0 0.6em; padding-left: 1.2em; }
.peelqa-text .peelqa-list li { margin: 0.2em 0; }
.peelqa-num { display: inline-block; min-width: 2em; margin-right: 0.4em; padding: 0 0.3em; font-size: 0.85em;
              text-align: center; border-radius: 4px; background: #e5e7eb; color: #111827; }
.dark .peelqa-num { background: #374151; color: #f9fafb; }
.peelqa-text mark { background: #ffe58a; color: #000; padding: 2px 0; }
.peelqa-note { color: #b45309; }
.peelqa-grades { overflow-x: auto; }
.peelqa-grades table { border-collapse: collapse; font-size: 0.9em; }
.peelqa-grades th, .peelqa-grades td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; }
.peelqa-grades td.g-outstanding { background: #d1fae5; } .peelqa-grades td.g-good { background: #e0f2fe; }
.peelqa-grades td.g-adequate { background: #fef9c3; } .peelqa-grades td.g-ri { background: #ffedd5; }
.peelqa-grades td.g-inadequate { background: #fee2e2; }
.peelqa-grades a { color: #111; }
/* Read by screen readers, not shown. */
.peelqa-sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
                  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
/* The theme's orange Ask button is 2.8:1 with white text and its placeholder grey 1.9:1; these are >= 4.5:1
   (orange-800 with white 7.3:1; #595959 on white 7:1, #b3b3b3 on the dark theme's inputs over 7:1). */
#peelqa-ask, #peelqa-ask:hover { background: #9a3412; border-color: #9a3412; color: #fff; }
/* Gradio's primary (orange) and stop (red) buttons carry white text at 2.8:1 and 3.8:1; these are 7:1 and 6.5:1. */
button.primary, button.primary:hover { background: #9a3412 !important; border-color: #9a3412 !important;
  color: #fff !important; }
button.stop, button.stop:hover { background: #b91c1c !important; border-color: #b91c1c !important;
  color: #fff !important; }
#peelqa-question textarea::placeholder { color: #595959; opacity: 1; }
.dark #peelqa-question textarea::placeholder { color: #b3b3b3; }
/* A focus ring wherever the keyboard is: the theme shows none on links, sources and summaries. */
a:focus-visible, button:focus-visible, summary:focus-visible, textarea:focus-visible, input:focus-visible,
select:focus-visible, [tabindex]:focus-visible, label:has(input:focus-visible) {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important; }
.dark a:focus-visible, .dark button:focus-visible, .dark summary:focus-visible, .dark textarea:focus-visible,
.dark input:focus-visible, .dark [tabindex]:focus-visible, .dark label:has(input:focus-visible) {
  outline-color: #93c5fd !important; }
#peelqa-chat details > summary { cursor: pointer; }
/* The bold face: Gradio loads Source Sans at 400 and 600 only, so 700 fell back to another font for all but
   the first letter ("A|lthough"). */
#peelqa-chat strong, #peelqa-chat b, #peelqa-panel strong, h1, h2, h3, button { font-weight: 600 !important; }
/* Each source on one line (its full citation heads the panel when opened), so the panel starts higher and an
   opened quote is in sight at 1440x900. */
#peelqa-sources label span { display: -webkit-box; -webkit-line-clamp: 1; -webkit-box-orient: vertical;
  overflow: hidden; }
/* An empty filter's input is pale grey in Gradio's light theme (1.9:1 on white); the filters sit on the first
   screen, so they take the text colour. */
.peelqa-filter input { color: var(--body-text-color) !important; }
/* The upload box's "- or -" is as pale. */
#peelqa-upload .or { color: var(--body-text-color) !important; }
/* (Gradio puts its container's classes before every selector here, so nothing can start at body.)
   Phones: a smaller title, so the question box is on the first screen; a source opens in a sheet over the lower
   part of the screen, next to the answer it belongs to, instead of ~1,000 px below it (PAGE_JS opens it). */
#peelqa-sheet-close { display: none; }
@media (max-width: 640px) {
  h1 { font-size: 1.35rem !important; line-height: 1.25 !important; }
  #peelqa-chat { height: 360px !important; }
  #peelqa-chat a { scroll-margin-top: 12px; }
  #peelqa-sources-col.peelqa-sheet-open { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000;
    max-height: 62vh; margin: 0; padding: 6px 10px 10px; overflow-y: auto; min-width: 0 !important;
    flex-wrap: nowrap !important; gap: 6px;
    background: var(--body-background-fill); border-top: 2px solid #9a3412; box-shadow: 0 -6px 18px #0005; }
  #peelqa-sources-col.peelqa-sheet-open #peelqa-sources { display: none; }
  #peelqa-sources-col.peelqa-sheet-open #peelqa-sheet-close { display: block; margin-left: auto; }
  #peelqa-sources-col.peelqa-sheet-open .peelqa-source { max-height: calc(62vh - 70px) !important; }
}
/* Gradio's footer link is light grey on white (1.9:1). */
footer .show-api { color: #52525b !important; }
.dark footer .show-api { color: #d4d4d8 !important; }
"""

# Citations in answers are links to "#peelqa-src/<doc>/<start>/<end>"; a click hands the reference to a
# hidden textbox, whose Python handler renders the source panel. A timestamp makes repeat clicks fire.
# "Copy" links ("#peelqa-copy/<doc>/<start>/<end>+...") ask the server's `copy` endpoint for the plain text:
# the page never holds report text outside the rendered (escaped) message, so nothing of it can run.
PAGE_JS = """
() => {
  const live = document.createElement('div');
  live.id = 'peelqa-live';
  live.className = 'peelqa-sr-only';
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');
  document.body.appendChild(live);
  // Emptied first, so the same words said twice are announced twice.
  window.peelqaSay = (text) => { live.textContent = ''; setTimeout(() => { live.textContent = text; }, 100); };

  const base = location.pathname.replace(/[^/]*$/, '');
  async function fetchCopy(refs) {
    const call = await fetch(base + 'gradio_api/call/copy', {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({data: [refs]})});
    if (!call.ok) throw new Error('the server refused');
    const {event_id} = await call.json();
    const reply = await (await fetch(base + 'gradio_api/call/copy/' + event_id)).text();
    let event = '';
    for (const line of reply.split('\\n')) {  // server-sent events: "event: complete" then "data: [text]"
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:') && event === 'complete') return JSON.parse(line.slice(5))[0];
    }
    throw new Error('the quote is no longer in the index; ask again');
  }
  async function copy(link, refs) {
    const text = fetchCopy(refs);
    try {  // a promised item keeps the click's permission to write while the text is fetched (Safari)
      await navigator.clipboard.write([new ClipboardItem(
        {'text/plain': text.then((t) => new Blob([t], {type: 'text/plain'}))})]);
    } catch (first) {
      try { await navigator.clipboard.writeText(await text); } catch (err) {
        window.peelqaSay('Not copied: ' + err.message);
        return;
      }
    }
    const label = link.textContent;
    link.textContent = 'Copied ✓';
    setTimeout(() => { link.textContent = label; }, 1500);
    window.peelqaSay(refs.includes('+') ? 'Answer copied with citations.' : 'Quote copied with its citation.');
  }

  // "Link to this answer" copies the answer's full address; a ctrl- or middle-click still opens it.
  document.addEventListener('click', async (event) => {
    const link = event.target.closest('#peelqa-chat a[href^="?q="]');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    const url = new URL(link.getAttribute('href'), location.href).href;
    try { await navigator.clipboard.writeText(url); } catch (err) {
      window.peelqaSay('Not copied: ' + err.message);
      return;
    }
    const label = link.textContent;
    link.textContent = 'Link copied ✓';
    setTimeout(() => { link.textContent = label; }, 1500);
    window.peelqaSay('Link to this answer copied.');
  }, true);

  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href*="#peelqa-src/"], a[href*="#peelqa-page/"], a[href*="#peelqa-copy/"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const href = link.getAttribute('href');
    if (href.includes('#peelqa-copy/')) { copy(link, href.split('#peelqa-copy/')[1]); return; }
    const box = document.querySelector('#peelqa-jump textarea, #peelqa-jump input');
    if (!box) return;
    box.value = (href.includes('#peelqa-page/') ? 'page:' + href.split('#peelqa-page/')[1]
                                                 : href.split('#peelqa-src/')[1]) + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);

  // On a phone a source opens in a sheet over the lower part of the screen (see CSS); this closes it.
  window.peelqaSheet = (open) => {
    const column = document.getElementById('peelqa-sources-col');
    if (!column) return;
    let close = document.getElementById('peelqa-sheet-close');
    if (!close) {
      close = document.createElement('button');
      close.id = 'peelqa-sheet-close';
      close.type = 'button';
      close.textContent = 'Close source ✕';
      close.className = 'lg secondary sm';
      close.addEventListener('click', () => window.peelqaSheet(false));
      column.prepend(close);
    }
    const phone = window.matchMedia('(max-width: 640px)').matches;
    const wasOpen = column.classList.contains('peelqa-sheet-open');
    column.classList.toggle('peelqa-sheet-open', Boolean(open && phone));
    if (open && phone) {  // focus goes to the sheet, and back to the citation it came from when it closes
      if (!wasOpen) window.peelqaSheetFrom = document.activeElement;
      close.focus({preventScroll: true});
      // the answer quoting this source stays in sight above the sheet
      if (window.peelqaSheetFrom && window.peelqaSheetFrom.closest('#peelqa-chat')) {
        window.peelqaSheetFrom.scrollIntoView({block: 'start'});
      }
    } else if (wasOpen && window.peelqaSheetFrom) {
      window.peelqaSheetFrom.focus({preventScroll: true});
    }
  };

  // "/" goes to the question box (unless typing elsewhere); Esc there clears it, and elsewhere closes a sheet.
  document.addEventListener('keydown', (event) => {
    const box = document.querySelector('#peelqa-question textarea');
    const t = event.target;
    if (!box || event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (event.key === '/' && !typing) {
      event.preventDefault();
      box.focus();
    } else if (event.key === 'Escape' && t === box && box.value) {
      box.value = '';
      box.dispatchEvent(new Event('input', {bubbles: true}));
    } else if (event.key === 'Escape' && document.querySelector('.peelqa-sheet-open')) {
      window.peelqaSheet(false);
    }
  });
}
"""

# After an answer: scroll the chat (only the chat, not the page) so the new question and quote [1] are at
# its top, whatever the user scrolled; then announce the answer as the text it shows (not its markdown).
# The chat may render a few frames after the event ends, so it waits for the new question to appear.
ANSWER_JS = """
() => {
  if (window.peelqaSheet) window.peelqaSheet(false);
  const chat = document.getElementById('peelqa-chat');
  if (!chat) return;
  const seen = Number(chat.dataset.questions || 0);
  let frames = 0;
  const go = () => {
    const questions = chat.querySelectorAll('[data-testid=user]');
    const answers = chat.querySelectorAll('[data-testid=bot]');
    if (questions.length === seen && frames++ < 60) { requestAnimationFrame(go); return; }
    chat.dataset.questions = questions.length;
    const question = questions[questions.length - 1];
    if (!question) return;
    let box = question.parentElement;
    while (box && box !== chat.parentElement) {
      const overflow = getComputedStyle(box).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && box.scrollHeight > box.clientHeight) break;
      box = box.parentElement;
    }
    if (box && box !== chat.parentElement) {
      box.scrollTop += question.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
    const r = chat.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight - 200) chat.scrollIntoView({block: 'start'});
    // Gradio labels each message with its markdown source ("**[1]** [...](#peelqa-src/...)"), which screen
    // readers read instead of the text: without the label they read what is shown.
    chat.querySelectorAll('[data-testid=user][aria-label], [data-testid=bot][aria-label]')
        .forEach((m) => m.removeAttribute('aria-label'));
    const answer = answers[answers.length - 1];
    if (answer && window.peelqaSay) {
      const text = answer.innerText.replace(/ · Copy (quote|answer)/g, '')
          .replace(/\\s*Link to this answer\\s*$/, '').replace(/\\n{2,}/g, '\\n');
      window.peelqaSay(text.slice(0, 2000));
    }
  };
  requestAnimationFrame(go);
}
"""

# The source panel: bring the highlighted span into view by scrolling the panel's own box only. scrollIntoView
# also scrolled the window, so a click on a citation moved the page and left its link (and focus) off screen.
# Both panels (chat and Grades) may hold a mark; the hidden one has no size and is left alone. The opened
# source is announced by its citation.
SCROLL_JS = """
() => {
  if (window.peelqaSheet && document.querySelector('#peelqa-panel [id=peelqa-hit]')) window.peelqaSheet(true);
  let said = false;
  document.querySelectorAll('[id=peelqa-hit]').forEach((m) => {
    const box = m.closest('.peelqa-source');
    if (!box || !box.offsetParent) return;
    // A panel that starts on screen ends there too, so the quote scrolled into it is on screen.
    const boxTop = box.getBoundingClientRect().top;
    if (boxTop >= 0 && boxTop < window.innerHeight - 240) {
      box.style.maxHeight = (window.innerHeight - boxTop - 16) + 'px';
    }
    const top = m.getBoundingClientRect().top - box.getBoundingClientRect().top;
    box.scrollTop += top - Math.max(0, (box.clientHeight - m.offsetHeight) / 3);
    const title = box.querySelector('h3');
    if (!said && title && window.peelqaSay) { window.peelqaSay('Source: ' + title.textContent); said = true; }
  });
}
"""


# After the page loads (and the kept conversation is back): a link's question has been asked and answered,
# so its parameters leave the address (a reload must not ask it again; the answer has its own link), and the
# answer opens at its start like any other. Other parameters (?__theme=dark) stay.
LOAD_JS = """
() => {
  document.body.dataset.peelqaLoaded = '1';  // the kept conversation is back (tests wait for this)
  const keys = KEYS;
  const params = new URLSearchParams(location.search);
  const asked = params.has('q');
  for (const key of keys) params.delete(key);
  if (asked) {
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    (ANSWER)();
  }
}
""".replace("KEYS", json.dumps(LINK_KEYS)).replace("ANSWER", ANSWER_JS.strip())


def download_js(name: str, mime: str) -> str:
    """Saves the text it is given as a file called `name`: a Blob, so the text is never parsed as HTML."""
    return ("(text) => { if (!text) return; const a = document.createElement('a'); "
            f"a.href = URL.createObjectURL(new Blob([text], {{type: {json.dumps(mime + ';charset=utf-8')}}})); "
            f"a.download = {json.dumps(name)}; document.body.appendChild(a); a.click(); a.remove(); "
            "setTimeout(() => URL.revokeObjectURL(a.href), 10000); "
            f"window.peelqaSay && window.peelqaSay({json.dumps('Conversation saved as ' + name + '.')}); }}")
