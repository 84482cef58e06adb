import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, safeHref } from '../src/http/console/html.js';
import { markdown } from '../src/http/console/discord-view.js';

describe('the console escaping helper', () => {
  it('escapes every character that could open markup or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
  });

  it('escapes interpolated text and attribute values, and keeps markup made by html itself', () => {
    const title = '<script>alert(1)</script>';
    const attr = '" onmouseover="alert(1)';
    const inner = html`<b>${title}</b>`;
    const out = html`<div title="${attr}">${inner}${[html`<i>${'&'}</i>`, '<u>']}${null}${undefined}${false}${0}</div>`.value;
    expect(out).toBe('<div title="&quot; onmouseover=&quot;alert(1)"><b>&lt;script&gt;alert(1)&lt;/script&gt;</b><i>&amp;</i>&lt;u&gt;0</div>');
    expect(raw('<svg></svg>').value).toBe('<svg></svg>');
  });

  it('lets only http(s) and same-site paths into an href', () => {
    expect(safeHref('https://grafana.example/d/1?x=1')).toBe('https://grafana.example/d/1?x=1');
    expect(safeHref('/console/alerts/1')).toBe('/console/alerts/1');
    expect(safeHref('javascript:alert(1)')).toBe('#');
    expect(safeHref('data:text/html,<b>x</b>')).toBe('#');
    expect(safeHref('//evil.example/x')).toBe('#');
  });

  it("renders Discord's markdown in a card without letting its text become markup", () => {
    const names = new Map([['123456789012345678', 'alice']]);
    const out = markdown('**<img src=x onerror=alert(1)>** `a<b` [docs](javascript:void) <@123456789012345678> <t:0:R>', names).value;
    expect(out).toBe(
      '<strong>&lt;img src=x onerror=alert(1)&gt;</strong> <code>a&lt;b</code> <a href="#" rel="noopener noreferrer">docs</a> <span class="mention">@alice</span> <span class="ts">1970-01-01 00:00:00</span>',
    );
  });
});
