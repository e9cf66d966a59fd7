/**
 * The console's static assets besides the stylesheet: a favicon, and one small script that only
 * enhances pages that work without it (the CSP allows scripts from the console itself, nothing
 * inline). It tells the server the browser's time zone (for "local time"), and makes the Copy
 * buttons copy; without it, times stay in UTC and the JSON is selected and copied by hand.
 */
export const CONSOLE_JS = `(() => {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.cookie = 'cts_tz=' + encodeURIComponent(zone) + '; path=/console; SameSite=Strict';
  } catch (e) {}
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener('click', () => {
      navigator.clipboard.writeText(source.textContent).then(
        () => { button.textContent = 'Copied'; },
        () => { button.textContent = 'Copy failed: select the text'; },
      );
    });
  }
})();
`;

/** A small SVG icon: a dark square with three timeline bars (no more /favicon.ico 404s). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#14213d"/><rect x="6" y="17" width="5" height="9" fill="#7fb3ff"/><rect x="13.5" y="8" width="5" height="18" fill="#fff"/><rect x="21" y="13" width="5" height="13" fill="#f0a000"/></svg>`;

/** A short content hash for an asset's URL, so browsers may cache it for good. */
export function assetVersion(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16);
}

export const CONSOLE_JS_VERSION = assetVersion(CONSOLE_JS);
