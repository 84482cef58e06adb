/**
 * The console's stylesheet, served as /console/assets/console.css (a file of its own: the
 * Content-Security-Policy allows no inline styles). Kept in TypeScript so `tsc` is the only build step.
 */
export const CONSOLE_CSS = `
:root { --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --line: #d9dde5; --card: #fff; --accent: #5865f2;
  --p0: #d92d20; --p1: #f79009; --p2: #eaaa08; --p3: #667085; --ok: #12b76a; --bad: #d92d20; --warn: #f79009; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: #1d2330; color: #fff; flex-wrap: wrap; }
header.top .brand { font-weight: 700; font-size: 16px; color: #fff; }
header.top nav { display: flex; gap: 4px; flex-wrap: wrap; flex: 1; }
header.top nav a { color: #c9cedb; padding: 4px 9px; border-radius: 6px; }
header.top nav a.on { background: #3a4255; color: #fff; }
header.top form { margin: 0; }
main { padding: 18px 20px 40px; max-width: 1320px; margin: 0 auto; }
h1 { font-size: 20px; margin: 4px 0 14px; } h2 { font-size: 16px; margin: 22px 0 8px; }
.muted { color: var(--muted); } .small { font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(175px, 1fr)); gap: 12px; margin-bottom: 12px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; margin-bottom: 12px; }
.card + .card { margin-top: 12px; } .grid > .card + .card, .grid2 > .card + .card { margin-top: 0; }
.card > h2:first-child { margin-top: 0; }
.channels-list h3 + form, .channels-list a + h3 { margin-top: 14px; }
.inline-check { flex-direction: row; align-items: center; gap: 3px; color: var(--fg); display: inline-flex; margin-right: 6px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .big { font-size: 26px; font-weight: 700; } .card h3 { margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
.wide { grid-column: 1 / -1; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 6px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f4; font-size: 12px; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { display: inline-block; min-width: 28px; text-align: center; border-radius: 4px; color: #fff; font-weight: 700; font-size: 12px; padding: 0 4px; }
.sev-P0 { background: var(--p0); } .sev-P1 { background: var(--p1); } .sev-P2 { background: var(--p2); color: #1d2330; } .sev-P3 { background: var(--p3); }
.pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; background: #eef0f4; }
.pill.ok { background: #d1fadf; color: #05603a; } .pill.bad { background: #fee4e2; color: #912018; } .pill.warn { background: #fef0c7; color: #93370d; }
.pill.file { background: #e0e7ff; color: #3538cd; }
.card.config { margin-bottom: 12px; }
ul.problems { margin: 4px 0 8px; padding-left: 18px; font-size: 12px; color: #912018; } ul.problems.warnings { color: #93370d; }
form.inline { display: inline; margin: 0; }
form.filters, form.stack { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin-bottom: 12px; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: #fff; color: var(--fg); border-color: var(--line); }
button.danger { background: var(--bad); border-color: var(--bad); }
.flash { padding: 9px 12px; border-radius: 6px; margin-bottom: 12px; border: 1px solid; }
.flash.ok { background: #ecfdf3; border-color: #a6f4c5; } .flash.error { background: #fef3f2; border-color: #fecdca; }
.login { max-width: 380px; margin: 80px auto; }
.login form { display: flex; flex-direction: column; gap: 10px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 10px; fill: var(--muted); } svg.chart text.label { font-size: 14px; fill: var(--fg); }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.legend .c-req { background: var(--accent); } .legend .c-429 { background: var(--bad); }
.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
.timeline li { position: relative; padding: 2px 0 10px 14px; }
.timeline li::before { content: ""; position: absolute; left: -6px; top: 7px; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
/* The emulated Discord channel */
.discord { background: #313338; color: #dbdee1; border-radius: 8px; padding: 12px 16px; }
.discord a { color: #00a8fc; }
.discord .msg { display: flex; gap: 12px; padding: 8px 0; border-bottom: 1px solid #3f4147; }
.discord .msg:target { background: #3f3a2a; }
.discord .avatar { width: 36px; height: 36px; border-radius: 50%; background: #5865f2; flex: none; display: flex; align-items: center; justify-content: center; color: #fff; font-weight: 700; }
.discord .who { font-weight: 600; color: #f2f3f5; } .discord .who .tag { background: #5865f2; color: #fff; font-size: 10px; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
.discord .when { color: #949ba4; font-size: 12px; margin-left: 6px; }
.discord .content { white-space: pre-wrap; }
.discord .deleted { color: #949ba4; font-style: italic; }
.embed { display: flex; margin-top: 6px; max-width: 560px; background: #2b2d31; border-radius: 4px; overflow: hidden; }
.embed svg.bar { width: 4px; flex: none; }
.embed .body { padding: 8px 14px 10px 12px; min-width: 0; }
.embed .author { font-size: 12px; font-weight: 600; color: #f2f3f5; }
.embed .title { font-weight: 700; color: #f2f3f5; margin-top: 2px; }
.embed .desc { white-space: pre-wrap; margin-top: 4px; font-size: 13px; }
.embed .fields { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-top: 6px; }
.embed .field { min-width: 150px; flex: 1 1 150px; } .embed .field.block { flex-basis: 100%; }
.embed .field .n { font-size: 12px; font-weight: 700; color: #f2f3f5; } .embed .field .v { font-size: 13px; white-space: pre-wrap; }
.embed .footer { font-size: 11px; color: #949ba4; margin-top: 8px; }
.discord code { background: #1e1f22; padding: 0 3px; border-radius: 3px; }
.components { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; } .components .row { display: flex; gap: 8px; flex-wrap: wrap; }
.dbtn { border: 0; border-radius: 3px; padding: 5px 14px; color: #fff; font-weight: 500; }
.dbtn.s1 { background: #5865f2; } .dbtn.s2 { background: #4e5058; } .dbtn.s3 { background: #248046; } .dbtn.s4 { background: #da373c; } .dbtn.s5 { background: #4e5058; }
.dbtn:disabled { opacity: .5; cursor: not-allowed; }
.actas { display: flex; gap: 8px; align-items: center; margin-bottom: 10px; color: #dbdee1; }
.actas label { color: #b5bac1; }
.split { display: grid; grid-template-columns: 220px 1fr; gap: 14px; }
.channels-list a { display: block; padding: 4px 8px; border-radius: 4px; } .channels-list a.on { background: #e3e6ff; }
`;
