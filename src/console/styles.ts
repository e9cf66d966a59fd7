import { assetVersion } from './assets';

/**
 * The console's one stylesheet, served from `/console/assets/console.css` so that the CSP can
 * forbid inline styles. Plain CSS, no external fonts or assets; works from 320 px up.
 */
export const CONSOLE_CSS = `
:root {
  --fg: #1d2433; --muted: #5b6478; --line: #d9dee8; --bg: #f5f7fa; --card: #fff;
  --accent: #1f5fbf; --accent-fg: #fff; --ok: #1d7a3a; --warn: #a45a00; --bad: #b3261e;
  --ok-bg: #e3f4e8; --warn-bg: #fdf0dc; --bad-bg: #fbe4e2;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.45; }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }

.topbar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem;
  background: #14213d; color: #fff; padding: .5rem 1rem; }
.topbar .brand { font-weight: 700; color: #fff; text-decoration: none; margin-right: .5rem; }
.topbar nav { display: flex; gap: .25rem; flex-wrap: wrap; }
.topbar nav a { color: #dfe6f3; text-decoration: none; padding: .35rem .6rem; border-radius: 4px; }
.topbar nav a[aria-current="page"] { background: #2c3f66; color: #fff; }
.topbar .who { margin-left: auto; display: flex; align-items: center; gap: .5rem; font-size: .85rem; color: #c9d3e6; min-width: 0; }
.topbar .who > span { overflow-wrap: anywhere; }
.topbar .who form { margin: 0; }
.topbar .who button { background: transparent; color: #fff; border-color: #6c7a96; }

main { max-width: 1400px; margin: 0 auto; padding: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }

.notice, .error, .empty { border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
.notice { background: var(--ok-bg); border: 1px solid #b7dfc3; }
.error { background: var(--bad-bg); border: 1px solid #efb8b3; color: #6d1711; }
.error code { color: inherit; }
.empty { background: var(--card); border: 1px dashed var(--line); text-align: center; padding: 2rem 1rem; }

label { display: flex; flex-direction: column; gap: .2rem; font-size: .8rem; color: var(--muted); }
input, select, button { font: inherit; font-size: .9rem; }
input[type=text], input[type=password], input[type=datetime-local], select {
  height: 2.25rem; padding: .3rem .5rem; border: 1px solid #b9c1d0; border-radius: 4px; background: #fff; color: var(--fg); min-width: 0; }
button, .button { display: inline-block; padding: .4rem .85rem; border: 1px solid #b9c1d0; border-radius: 4px;
  background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; line-height: 1.3; white-space: nowrap; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.danger, .button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.actions form { margin: 0; }
.check { flex-direction: row; align-items: center; gap: .4rem; font-size: .9rem; color: var(--fg); }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; width: 100%;
  padding: .4rem .5rem; border: 1px solid #b9c1d0; border-radius: 4px; color: var(--fg); resize: vertical; margin-bottom: .75rem; }
.wrap, .secret { overflow-wrap: anywhere; }

.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .6rem .75rem; align-items: end; }
.filters > * { min-width: 0; }
.filters input, .filters select { width: 100%; }
.filters .search { grid-column: span 2; display: grid; grid-template-columns: minmax(0, 8rem) minmax(0, 9rem) minmax(0, 1fr); gap: .4rem; align-items: end; border: 0; margin: 0; padding: 0; min-width: 0; }
.filters details.more { grid-column: 1 / -1; }
.filters details.more > summary { cursor: pointer; color: var(--accent); font-size: .9rem; width: max-content; padding: .2rem 0; }
.filters-more { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .6rem .75rem; margin-top: .5rem; }
.filters-more > * { min-width: 0; }
.filters-more input, .filters-more select { width: 100%; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.topbar :focus-visible { outline-color: #ffd166; }
.filters .buttons { display: flex; gap: .5rem; }
.summary-line { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; margin: .75rem 0; color: var(--muted); font-size: .85rem; }

.table-wrap { background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
table.traces { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.traces th, table.traces td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; font-size: .88rem; }
table.traces tbody tr:last-child td { border-bottom: 0; }
table.traces th { font-size: .72rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fafbfd; font-weight: 600; }
/* Fixed layout: the header cells' widths are the columns' widths. */
table.traces th.c-name { width: 15%; } table.traces th.c-rtype { width: 8%; } table.traces th.c-svc { width: 6%; }
table.traces th.c-rid { width: 14%; } table.traces th.c-rname { width: 12%; } table.traces th.c-rating { width: 7.5rem; }
table.traces th.c-user { width: 9%; } table.traces th.c-ip { width: 9%; } table.traces th.c-time { width: 10.5rem; } table.traces th.c-op { width: 6rem; }
table.traces td.cut { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.traces td:not(.c-name) { overflow-wrap: anywhere; }
table.traces tr:has(details[open]) td { background: #f2f6fc; }
table.traces details > summary { cursor: pointer; font-weight: 600; overflow-wrap: anywhere; }
table.traces details[open] > summary { margin-bottom: .35rem; }
.c-time time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.none { color: var(--muted); }
.fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: .35rem 1.25rem; margin: 0; padding: .6rem .75rem; background: #fbfcfe; border: 1px solid var(--line); border-radius: 4px; }
/* Open, a row's fields span the whole row under its one-line cells (the name cell lets them overflow). */
table.traces details[open] > .fields { position: relative; z-index: 1; width: calc(min(100vw, 1400px) - 3.5rem); }
.fields div { min-width: 0; }
.fields dt { font-size: .72rem; color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; font-weight: 400; }
.hint { color: var(--muted); font-size: .85rem; max-width: 60rem; margin-left: auto; margin-right: auto; }
.empty .actions { justify-content: center; }

.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .78rem; font-weight: 600; }
.badge.normal, .badge.enabled { background: var(--ok-bg); color: var(--ok); }
.badge.warning, .badge.disabled { background: var(--warn-bg); color: var(--warn); }
.badge.incident, .badge.error { background: var(--bad-bg); color: var(--bad); }

.pager { display: flex; gap: .5rem; align-items: center; justify-content: flex-end; margin-top: .75rem; }
.pager .disabled { color: var(--muted); border-style: dashed; cursor: default; }

.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .5rem 1.5rem; margin: 0 0 .75rem; }
.facts div { min-width: 0; }
.facts dt { font-size: .75rem; color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.sub-inline { color: var(--muted); }
.export-note { font-size: .8rem; color: var(--muted); margin: -.4rem 0 .6rem; }
.export-note p { margin: 0 0 .25rem; }
.export-note code { display: block; background: #eef2f8; padding: .3rem .5rem; border-radius: 4px; color: var(--fg); }
.chart { padding: .6rem .75rem .4rem; margin: 0 0 .75rem; }
.chart figcaption { display: flex; flex-wrap: wrap; gap: .25rem 1rem; justify-content: space-between; font-size: .85rem; color: var(--muted); margin-bottom: .35rem; }
.chart .sub { margin: 0 0 .35rem; font-size: .8rem; }
.chart svg { display: block; width: 100%; height: 96px; background: #fafbfd; border-bottom: 1px solid var(--line); }
.chart rect.hit { fill: transparent; }
.chart svg a:hover rect.hit, .chart svg a:focus rect.hit { fill: #e3ebf8; }
.chart svg a:focus { outline: none; }
.chart svg a:focus-visible rect.hit { stroke: #f0a000; stroke-width: 3px; vector-effect: non-scaling-stroke; }
.chart rect.normal, .chart .key.normal::before { fill: #5aa872; background: #5aa872; }
.chart rect.warning, .chart .key.warning::before { fill: #e09a2c; background: #e09a2c; }
.chart rect.incident, .chart .key.incident::before { fill: #c8453c; background: #c8453c; }
.chart a.partial rect { opacity: .45; }
.chart .legend { display: flex; gap: .75rem; }
.chart .key::before { content: ""; display: inline-block; width: .7rem; height: .7rem; margin-right: .3rem; border-radius: 2px; vertical-align: -1px; }
.chart .axis { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); font-variant-numeric: tabular-nums; }
.skip { position: absolute; left: -9999px; }
.skip:focus { position: static; display: inline-block; margin-bottom: .25rem; }
pre.json:focus-visible { outline-offset: 0; }
pre.json { background: #0f1726; color: #e6edf7; padding: 1rem; border-radius: 6px; overflow: auto; max-height: 75vh; white-space: pre-wrap; overflow-wrap: anywhere; }

table.list { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
table.list th, table.list td { text-align: left; padding: .55rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.list th { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fafbfd; }
table.list td .actions { flex-wrap: nowrap; }
.sub { display: block; color: var(--muted); font-size: .8rem; }
.form-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: .75rem 1rem; }
.signin { max-width: 420px; margin: 3rem auto; }
.signin input { width: 100%; }
.crumbs { display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: center; font-size: .9rem; margin-bottom: .75rem; }

@media (max-width: 760px) {
  main { padding: .6rem; }
  .topbar { padding: .5rem .6rem; }
  .topbar .who { margin-left: 0; width: 100%; justify-content: space-between; }
  .filters { grid-template-columns: 1fr 1fr; }
  .filters .search { grid-column: 1 / -1; }
  .filters .buttons { grid-column: 1 / -1; }
  .filters .search { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  .filters .search > label:last-child { grid-column: 1 / -1; }
  .filters-more { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  /* A trace is a compact card of three lines: name and status; resource and View Trace; who, where, when. */
  table.traces, table.traces tbody { display: block; }
  table.traces thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.traces tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) auto; column-gap: .6rem; row-gap: .05rem;
    grid-template-areas: "name name rating" "rname rname op" "user ip time"; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
  table.traces tbody tr:last-child { border-bottom: 0; }
  table.traces td { display: block; padding: 0; border: 0; width: auto; font-size: .82rem; min-width: 0; }
  table.traces td.c-name { grid-area: name; font-size: .92rem; }
  table.traces td.c-rating { grid-area: rating; width: auto; text-align: right; }
  table.traces td.c-rname { grid-area: rname; }
  table.traces td.c-op { grid-area: op; width: auto; text-align: right; }
  table.traces td.c-user { grid-area: user; }
  table.traces td.c-ip { grid-area: ip; }
  table.traces td.c-time { grid-area: time; color: var(--muted); width: auto; }
  table.traces td.c-rtype, table.traces td.c-svc, table.traces td.c-rid { display: none; }
  table.traces details[open] > .fields { width: auto; }
  table.list thead { display: none; }
  table.list, table.list tbody, table.list tr, table.list td { display: block; width: 100%; }
  table.list tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.list td { border: 0; padding: .25rem .75rem; }
  table.list td .actions { flex-wrap: wrap; }
  table.list td[data-label]::before { content: attr(data-label); display: block; font-size: .72rem; text-transform: uppercase; color: var(--muted); }
}
`;

export const CONSOLE_CSS_VERSION = assetVersion(CONSOLE_CSS);
