import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn } from './browser.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;

/** A 1×1 PNG, a small PDF, a text file. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);
const NOTES = 'Remember the milk, the bread and the eggs.';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  // A small limit, so that a file over it is quick to make.
  stack = await startStack({ ATTACHMENT_MAX_MB: '1' });
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const lastAnswer = () => byTestId('message-assistant').last();
const chips = () => byTestId('attachment-chip');
const attachmentsDir = () => path.join(path.dirname(stack.databasePath), 'attachments');

/** Every attachment file on disk, as user/id. */
async function filesOnDisk(): Promise<string[]> {
  if (!existsSync(attachmentsDir())) return [];
  const out: string[] = [];
  for (const user of await readdir(attachmentsDir())) {
    for (const file of await readdir(path.join(attachmentsDir(), user)))
      out.push(`${user}/${file}`);
  }
  return out.sort();
}

/** Drops a file onto the chat as a drag from the desktop would: dragenter, dragover, drop. */
async function dropFile(name: string, type: string, bytes: Buffer) {
  await page.evaluate(
    ([fileName, fileType, base64]) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], fileName, { type: fileType }));
      const target = document.querySelector('[data-testid="chat-scroll"]')!;
      for (const kind of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(
          new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }),
        );
      }
    },
    [name, type, bytes.toString('base64')] as const,
  );
}

/** Pastes a file into the message box, as a copied file or screenshot would be. */
async function pasteFile(name: string, type: string, text: string) {
  await page.evaluate(
    ([fileName, fileType, content]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], fileName, { type: fileType }));
      document
        .querySelector('[data-testid="composer-input"]')!
        .dispatchEvent(
          new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer }),
        );
    },
    [name, type, text] as const,
  );
}

describe('attachments in Chromium', () => {
  it('sets up the admin account', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
  });

  it('attaches an image with the button, a PDF by drop and a text file by paste, and the model gets them all', async () => {
    await pickModelIn(page, 'openai/gpt-4o-mini');
    await byTestId('attach-input').setInputFiles({
      name: 'pixel.png',
      mimeType: 'image/png',
      buffer: PNG,
    });
    await dropFile('report.pdf', 'application/pdf', PDF);
    await pasteFile('notes.txt', 'text/plain', NOTES);
    await expect.poll(() => chips().count()).toBe(3);
    await expect
      .poll(() => chips().evaluateAll((els) => els.map((el) => el.getAttribute('data-status'))))
      .toEqual(['ready', 'ready', 'ready']);
    // The image's preview is the local file (a blob: URL, allowed by the page's CSP).
    expect(await chips().first().locator('img').getAttribute('src')).toMatch(/^blob:/);

    const requestsBefore = stack.fake.requests.length;
    await byTestId('composer-input').fill('What is in these files?');
    await byTestId('send-button').click();
    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    expect(await chips().count()).toBe(0);

    // What OpenRouter received: an image_url part, a file part, the text file inlined.
    const sent = stack.fake.requests
      .slice(requestsBefore)
      .find((r) => r.path === '/api/v1/chat/completions')!;
    expect(sent.parts).toEqual([
      expect.objectContaining({ type: 'image', mediaType: 'image/png', sha256: sha256(PNG) }),
      expect.objectContaining({
        type: 'file',
        filename: 'report.pdf',
        mediaType: 'application/pdf',
        sha256: sha256(PDF),
      }),
    ]);
    expect(JSON.stringify(sent.body)).toContain(NOTES);
    const answer = await lastAnswer().textContent();
    expect(answer).toContain(`[image image/png, ${PNG.length} bytes]`);
    expect(answer).toContain(`[file report.pdf: application/pdf, ${PDF.length} bytes]`);

    // The question shows the image as a thumbnail served by the app, the files as downloads.
    const thumbnail = byTestId('attachment-thumbnail');
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(1);
    const files = byTestId('attachment-file');
    expect(await files.allTextContents()).toEqual([
      expect.stringContaining('report.pdf'),
      expect.stringMatching(/^notes\.txt/),
    ]);
    expect(await files.first().getAttribute('href')).toMatch(/^\/api\/attachments\/[0-9a-f-]{36}$/);
    const download = await page.request.get(
      `${stack.url}${await files.first().getAttribute('href')}`,
    );
    expect(download.headers()['content-type']).toBe('application/pdf');
    expect(download.headers()['x-content-type-options']).toBe('nosniff');
    expect(Buffer.from(await download.body())).toEqual(PDF);

    // The image opens larger; Escape closes it.
    await thumbnail.click();
    await byTestId('image-dialog').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => byTestId('image-dialog').count()).toBe(0);

    // After a reload, the files are still there with the question.
    await page.reload();
    await byTestId('attachment-thumbnail').waitFor();
    expect(await byTestId('attachment-file').count()).toBe(2);

    // Edited, the question keeps its files: the new version carries copies, sent again.
    const before = stack.fake.requests.length;
    await byTestId('edit-message').first().click();
    await byTestId('edit-message-input').fill('And now, what is in them?');
    await byTestId('edit-message-send').click();
    await expect
      .poll(() => byTestId('sibling-count').first().textContent(), { timeout: 15_000 })
      .toBe('2/2');
    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    expect(await byTestId('message-user').first().textContent()).toBe('And now, what is in them?');
    await byTestId('attachment-thumbnail').waitFor();
    expect(await byTestId('attachment-file').count()).toBe(2);
    const resent = stack.fake.requests
      .slice(before)
      .find((r) => r.path === '/api/v1/chat/completions')!;
    expect(resent.parts.map((p) => p.sha256)).toEqual([sha256(PNG), sha256(PDF)]);
  });

  it('says why a file cannot be attached: too large, not a type it takes, an image for a text-only model', async () => {
    await byTestId('new-chat').click();
    await pickModelIn(page, 'fake/echo');
    const onDisk = await filesOnDisk();

    // Over ATTACHMENT_MAX_MB: refused before any upload.
    await byTestId('attach-input').setInputFiles({
      name: 'huge.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.concat([PDF, Buffer.alloc(1024 * 1024)]),
    });
    const tooLarge = chips().last();
    await expect.poll(() => tooLarge.getAttribute('data-status')).toBe('failed');
    expect(await tooLarge.getByTestId('attachment-error').textContent()).toBe(
      'huge.pdf is larger than 1 MB, the most one attachment may be.',
    );

    // An SVG, whatever the browser calls it: refused by the server, which reads the bytes.
    await byTestId('attach-input').setInputFiles({
      name: 'drawing.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      ),
    });
    const refused = chips().last();
    await expect.poll(() => refused.getAttribute('data-status')).toBe('failed');
    expect(await refused.getByTestId('attachment-error').textContent()).toContain(
      'This kind of file cannot be attached',
    );
    expect(await filesOnDisk()).toEqual(onDisk);
    await page.getByRole('button', { name: 'Remove huge.pdf' }).click();
    await page.getByRole('button', { name: 'Remove drawing.svg' }).click();
    expect(await chips().count()).toBe(0);

    // An image for a model that takes none: said at once, and sending waits for another model.
    await byTestId('attach-input').setInputFiles({
      name: 'pixel.png',
      mimeType: 'image/png',
      buffer: PNG,
    });
    await expect.poll(() => chips().first().getAttribute('data-status')).toBe('ready');
    expect(await byTestId('attachment-warning').textContent()).toContain(
      'does not accept images: choose a model with image input',
    );
    await byTestId('composer-input').fill('Describe it');
    expect(await byTestId('send-button').isDisabled()).toBe(true);
    // Removed from the box, the upload is deleted on the server too.
    const withUpload = await filesOnDisk();
    expect(withUpload).toHaveLength(onDisk.length + 1);
    await page.getByRole('button', { name: 'Remove pixel.png' }).click();
    await expect.poll(filesOnDisk).toEqual(onDisk);
    expect(await byTestId('attachment-warning').count()).toBe(0);
  });

  it('deletes the files on disk with their conversation', async () => {
    // Three files, and their copies on the edited question.
    const before = await filesOnDisk();
    expect(before).toHaveLength(6);
    await byTestId('conversation-item').first().hover();
    await byTestId('conversation-menu').first().click();
    await byTestId('delete-conversation').click();
    await byTestId('confirm-delete').click();
    await expect.poll(() => byTestId('conversation-item').count()).toBe(0);
    await expect.poll(filesOnDisk).toEqual([]);
  });
});
