import { describe, expect, it } from 'vitest';
import { cleanText, cutAfter, cutBefore, linkMarkup, linkTarget, MAX_LINK_LENGTH, senderMarkdown } from '../src/discord/text.js';

const ZWSP = '\u200B';
const md = (s: string) => senderMarkdown(s, { multiline: true });

describe('cleanText', () => {
  it('removes C0 and C1 controls and DEL, keeps line breaks and tabs in a multi-line text', () => {
    const controls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f' + Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
    // \r\n, \r and NEL (U+0085) are line breaks: each becomes one \n.
    expect(cleanText(`a${controls}b`, { multiline: true })).toBe('a\t\n\n\nb');
    expect(cleanText('one\r\ntwo\rthree\u2028four\u2029five', { multiline: true })).toBe('one\ntwo\nthree\nfour\nfive');
  });

  it('turns line breaks and tabs into spaces in a one-line text, so it cannot fake a line of its own', () => {
    expect(cleanText('x\nseverity=P0\r\nteam=\tops')).toBe('x severity=P0 team= ops');
  });

  it('removes every bidi mark, embedding, override and isolate', () => {
    const bidi = '\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069';
    for (const ch of bidi) expect(cleanText(`pay${ch}ments`)).toBe('payments');
    // The classic: an override that makes "exe.pdf" read as "fdp.exe".
    expect(cleanText('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
  });

  it('replaces lone surrogates, keeps pairs, emoji sequences and other text as they are', () => {
    expect(cleanText('a\uD800b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
    const text = 'déjà vu 😀 👩‍💻 日本語 — “quotes”';
    expect(cleanText(text)).toBe(text);
  });
});

describe('senderMarkdown: markdown is shown as text', () => {
  it('escapes every character Discord reads as inline markdown', () => {
    expect(md('**bold** __under__ *it* _it_ ~~strike~~ `code` ```block``` ||spoiler||')).toBe(
      '\\*\\*bold\\*\\* \\_\\_under\\_\\_ \\*it\\* \\_it\\_ \\~\\~strike\\~\\~ \\`code\\` \\`\\`\\`block\\`\\`\\` \\|\\|spoiler\\|\\|',
    );
    expect(md('a\\b')).toBe('a\\\\b');
  });

  it('escapes block markers (heading, quote, list, subtext, numbered list) wherever they stand', () => {
    expect(md('# Heading\n## Sub\n> quote\n>>> all\n- item\n+ item\n-# small\n1. first\n  12. indented')).toBe(
      '\\# Heading\n\\#\\# Sub\n\\> quote\n>>\\> all\n\\- item\n\\+ item\n\\-\\# small\n1\\. first\n  12\\. indented',
    );
    // Mid-line too, because a cut may put any position at the start of a line.
    expect(md('a # b > c - d 3. e')).toBe('a \\# b \\> c \\- d 3\\. e');
    // What is not a marker stays as it is.
    expect(md('eu-west-1 10.0.0.1 a>b #42 C#')).toBe('eu-west-1 10.0.0.1 a>b #42 C#');
  });

  it('shows mentions, channels, timestamps and custom emoji as text, and defuses @everyone and @here', () => {
    expect(md('<@&123456789012345678> <@123456789012345678> <@!1> <#1> <t:1700000000:R> <:e:1> </cmd:1>')).toBe(
      // (a `>` before a space is escaped too: it would start a quote at the start of a line)
      '\\<@&123456789012345678\\> \\<@123456789012345678\\> \\<@!1\\> \\<#1\\> \\<t:1700000000:R\\> \\<:e:1\\> \\</cmd:1>',
    );
    expect(md('@everyone @here @Everyone mail@here.example')).toBe(`@${ZWSP}everyone @${ZWSP}here @${ZWSP}Everyone mail@${ZWSP}here.example`);
  });
});

describe('senderMarkdown: what reads as a link is where it goes', () => {
  it('shows a bare URL as <url>, its own text, normalised', () => {
    expect(md('see https://grafana.example/d/1?a=b_c*d, then')).toBe('see <https://grafana.example/d/1?a=b_c*d>, then');
    expect(md('HTTPS://Grafana.Example')).toBe('<https://grafana.example/>');
    // A look-alike host is shown in punycode, as it really is.
    expect(md('https://grаfana.example/')).toBe('<https://xn--grfana-4nf.example/>');
  });

  it('shows the real host of a URL with credentials in front of it', () => {
    expect(md('https://grafana.example@evil.example/login')).toBe('<https://evil.example/login>');
    expect(md('https://grafana.example:pw@evil.example/')).toBe('<https://evil.example/>');
  });

  it('unmasks a masked link: its label as text, its real target beside it', () => {
    expect(md('[https://grafana.example/d/1](https://evil.example/x)')).toBe('<https://grafana.example/d/1> (<https://evil.example/x>)');
    expect(md('open [the **dashboard**](<https://evil.example/>) now')).toBe('open the \\*\\*dashboard\\*\\* (<https://evil.example/>) now');
  });

  it('keeps a URL with `)[…](…` in it one link to its real host', () => {
    expect(md('https://grafana.example/d/1)[Grafana](https://evil.example')).toBe('<https://grafana.example/d/1)[Grafana](https://evil.example>');
  });

  it('shows what cannot be linked safely as text Discord does not link', () => {
    expect(md('[click](javascript:alert(1))')).toBe('\\[click\\](javascript:alert(1))');
    expect(md('[x](https://exa mple.com)')).toBe('\\[x\\](<https://exa/> mple.com)');
    expect(md('http://[bad')).toBe('http\\://\\[bad');
    const long = `https://x.example/${'p'.repeat(MAX_LINK_LENGTH)}`;
    expect(md(long)).toBe(`https\\://x.example/${'p'.repeat(MAX_LINK_LENGTH)}`);
  });

  it('leaves no link, mention or markdown of the sender unescaped (whatever the input)', () => {
    const hostile = '[a](https://evil.example) **b** <@&1> @everyone ```c``` > d\n# e https://x.example/)[f](https://evil.example/)';
    const out = md(hostile);
    // Outside Herald's <url> links, no markdown character is left unescaped.
    const outside = out.replace(/<https?:\/\/[^\s>]+>/g, '');
    expect(outside).not.toMatch(/(^|[^\\])(\\\\)*[*_~`|<[\]]/);
    expect(outside).not.toMatch(/(^|[^\\])(\\\\)*#\s/);
    expect(outside).not.toContain('@everyone');
  });
});

describe('linkTarget', () => {
  it('takes http(s) only, without whitespace or control characters, at most MAX_LINK_LENGTH long', () => {
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'ftp://x.example/', 'file:///etc/passwd', 'https://x.example/ a', 'https://x.exa\tmple/', 'https://x.example/\u0000', '//x.example', 'not a url', '']) {
      expect(linkTarget(bad), bad).toBeUndefined();
    }
    expect(linkTarget(`https://x.example/${'a'.repeat(MAX_LINK_LENGTH)}`)).toBeUndefined();
  });

  it('normalises: no credentials, lower-case scheme and host, nothing that could end a <url>', () => {
    expect(linkTarget('HTTP://user:pw@Host.Example:80/a<b>c"d`e')).toBe('http://host.example/a%3Cb%3Ec%22d%60e');
    expect(linkMarkup('https://x.example/q?a=<b>#<c>')).toBe('<https://x.example/q?a=%3Cb%3E#%3Cc%3E>');
  });
});

/**
 * The units a cut must not split, found independently of text.ts: a backslash with the character it
 * escapes, an unescaped `<` up to its `>`, a surrogate pair. Returns [start, end) of each.
 */
function units(s: string): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (s[i] === '\\' && i + 1 < s.length) {
      out.push([i, i + 2]);
      i++;
    } else if (s[i] === '<') {
      const close = s.indexOf('>', i);
      if (close > 0) {
        out.push([i, close + 1]);
        i = close;
      }
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      out.push([i, i + 2]);
      i++;
    }
  }
  return out;
}

describe('cutBefore / cutAfter', () => {
  const samples = [
    md('**' + '*'.repeat(50) + ' <@&1> ' + '\\'.repeat(7) + ' see https://grafana.example/' + 'p'.repeat(80) + ' 😀😀😀 # x'),
    md('[x](https://evil.example/a) ' + '_'.repeat(30) + '😀'.repeat(20)),
    `Acknowledged by <@123456789012345678> <t:1700000000:R>\n${md('<t:1:R> *')}`,
  ];

  it('never cut inside an escape, a <…> or a surrogate pair, and move as little as they must', () => {
    for (const s of samples) {
      const spans = units(s);
      const inside = (i: number) => spans.some(([a, b]) => a < i && i < b);
      for (let n = 0; n <= s.length; n++) {
        const before = cutBefore(s, n);
        const after = cutAfter(s, n);
        expect(before).toBeLessThanOrEqual(n);
        expect(after).toBeGreaterThanOrEqual(n);
        expect(inside(before), `cutBefore(${n}) = ${before} in ${JSON.stringify(s)}`).toBe(false);
        expect(inside(after), `cutAfter(${n}) = ${after}`).toBe(false);
        // Exactly the nearest allowed point on each side.
        if (!inside(n)) {
          expect(before).toBe(n);
          expect(after).toBe(n);
        } else {
          const [a, b] = spans.find(([x, y]) => x < n && n < y)!;
          expect(before).toBe(a);
          expect(after).toBe(b);
        }
      }
    }
  });

  it('take 0 and the length as they are, and clamp what is out of range', () => {
    expect(cutBefore('\\*', 0)).toBe(0);
    expect(cutAfter('\\*', 2)).toBe(2);
    expect(cutBefore('\\*', 99)).toBe(2);
    expect(cutAfter('\\*', -3)).toBe(0);
  });
});
