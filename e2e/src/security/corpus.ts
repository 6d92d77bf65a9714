import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';

interface CorpusFile {
  payloads: Record<string, string[]> | string[];
}

/** A corpus file's payloads, in order, with their category. */
export function loadCorpus(file: string): Array<{ category: string; text: string }> {
  const raw = JSON.parse(readFileSync(path.join(import.meta.dirname, file), 'utf8')) as CorpusFile;
  if (Array.isArray(raw.payloads)) return raw.payloads.map((text) => ({ category: '', text }));
  return Object.entries(raw.payloads).flatMap(([category, list]) =>
    list.map((text) => ({ category, text })),
  );
}

/**
 * What a rendered piece of untrusted text may contain, checked in the page: none of the
 * elements that run script, load something or navigate; no event handler or style attribute;
 * links to absolute http(s) or mailto URLs only. Returns the violations found.
 *
 * Two exceptions, both the app's own: the MathML that KaTeX typesets inside a math element
 * (`.math-inline`, `.math-display`; only MathML elements inside it, held to the same attribute
 * rules), and the copy button the app puts in a code block's head.
 */
export function unsafeMarkup(root: Locator): Promise<string[]> {
  return root.evaluateAll((elements) => {
    const found: string[] = [];
    const forbidden =
      'script, iframe, frame, object, embed, img, image, picture, source, video, audio, track, ' +
      'svg, math, style, link, meta, base, form, button, textarea, select, portal, template, ' +
      'input:not([type="checkbox"])';
    const ownMath = [
      '.math-inline > math',
      '.math-display > math',
      '.math-inline > .katex > math',
      '.math-display > .katex > math',
    ].join(', ');
    const ownButton = '.code-block > .code-head > button.code-copy[type="button"]';
    const mathMl = 'http://www.w3.org/1998/Math/MathML';
    for (const root of elements) {
      for (const el of root.querySelectorAll(forbidden)) {
        if (el.matches(ownButton) && el.children.length === 0) continue;
        if (el.matches(ownMath)) {
          for (const inner of el.querySelectorAll('*')) {
            if (inner.namespaceURI !== mathMl) found.push(`<${inner.tagName}> in math`);
          }
          continue;
        }
        found.push(`<${el.tagName}>`);
      }
      for (const el of root.querySelectorAll('*')) {
        for (const attr of Array.from(el.attributes)) {
          const name = attr.name.toLowerCase();
          if (
            name.startsWith('on') ||
            [
              'style',
              'src',
              'srcset',
              'srcdoc',
              'action',
              'formaction',
              'background',
              'poster',
              'ping',
              'xlink:href',
            ].includes(name)
          ) {
            found.push(`<${el.tagName} ${name}>`);
          }
          if (name === 'href' && !/^(https?:\/\/|mailto:)/i.test(attr.value)) {
            found.push(`<${el.tagName} href=${attr.value}>`);
          }
        }
      }
    }
    return found;
  });
}
