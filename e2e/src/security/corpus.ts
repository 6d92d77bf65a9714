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
 */
export function unsafeMarkup(root: Locator): Promise<string[]> {
  return root.evaluateAll((elements) => {
    const found: string[] = [];
    const forbidden =
      'script, iframe, frame, object, embed, img, image, picture, source, video, audio, track, ' +
      'svg, math, style, link, meta, base, form, button, textarea, select, portal, template, ' +
      'input:not([type="checkbox"])';
    for (const root of elements) {
      for (const el of root.querySelectorAll(forbidden)) found.push(`<${el.tagName}>`);
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
