/**
 * What a file is, decided from its bytes, never from what the client claims (its Content-Type
 * or the browser's `File.type`): images and PDFs by their signature ("magic bytes"), text by
 * being valid UTF-8 without NUL under a name with a known text extension. Everything else is
 * refused, SVG included: it is XML that can carry script.
 */

export type AttachmentKind = 'image' | 'pdf' | 'text';

export interface FileType {
  kind: AttachmentKind;
  /** The type it is stored and served with (text is always served as text/plain). */
  mediaType: string;
}

/** The bytes of the start of a file that the signatures below need. */
export const HEAD_BYTES = 16;

const ascii = (text: string) => Buffer.from(text, 'latin1');
const signatures: ReadonlyArray<{ test: (head: Buffer) => boolean; type: FileType }> = [
  {
    // PNG: \x89 P N G \r \n \x1a \n (ISO/IEC 15948, section 5.2)
    test: (h) =>
      h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    type: { kind: 'image', mediaType: 'image/png' },
  },
  {
    // JPEG: SOI marker then the next marker's 0xFF
    test: (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
    type: { kind: 'image', mediaType: 'image/jpeg' },
  },
  {
    test: (h) =>
      h.subarray(0, 6).equals(ascii('GIF87a')) || h.subarray(0, 6).equals(ascii('GIF89a')),
    type: { kind: 'image', mediaType: 'image/gif' },
  },
  {
    // WebP: a RIFF container whose form type is WEBP
    test: (h) => h.subarray(0, 4).equals(ascii('RIFF')) && h.subarray(8, 12).equals(ascii('WEBP')),
    type: { kind: 'image', mediaType: 'image/webp' },
  },
  {
    test: (h) => h.subarray(0, 5).equals(ascii('%PDF-')),
    type: { kind: 'pdf', mediaType: 'application/pdf' },
  },
];

/** Extensions of files read as text (lower case, without the dot). No svg: it may hold script. */
export const TEXT_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'txt text md markdown mdx rst adoc org tex bib csv tsv json jsonl ndjson json5 yaml yml toml ' +
    'ini cfg conf env properties xml html htm css scss sass less js mjs cjs jsx ts mts cts tsx vue ' +
    'svelte astro py pyi ipynb rb php java kt kts scala groovy gradle go rs c h cc cpp cxx hpp hh cs ' +
    'fs fsx swift m mm dart lua pl pm r jl hs ml mli ex exs erl hrl clj cljs elm zig nim v sql sh ' +
    'bash zsh fish ps1 psm1 bat cmd cmake mk dockerfile log diff patch srt vtt graphql gql proto tf ' +
    'hcl nix lock gitignore gitattributes editorconfig'
  ).split(' '),
);

/** Whole names of text files that often have no extension. */
const TEXT_NAMES: ReadonlySet<string> = new Set(
  'makefile dockerfile containerfile readme license licence changelog authors notice procfile gemfile rakefile vagrantfile jenkinsfile'.split(
    ' ',
  ),
);

/** Whether `name` is a file name read as text (by its extension, or as a known whole name). */
export function isTextName(name: string): boolean {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  if (dot === -1) return TEXT_NAMES.has(lower);
  return TEXT_EXTENSIONS.has(lower.slice(dot + 1)) || TEXT_NAMES.has(lower.slice(0, dot));
}

/**
 * Follows a file as its bytes stream by: keeps its first bytes and checks, as it goes, whether
 * the whole is valid UTF-8 without NUL (a partial character at a chunk's end waits for the next).
 */
export class Sniffer {
  private head = Buffer.alloc(0);
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private text = true;

  push(chunk: Buffer): void {
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    }
    if (!this.text) return;
    if (chunk.includes(0)) {
      this.text = false;
      return;
    }
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      this.text = false;
    }
  }

  /** The file's type once every byte was pushed, or null when it is not one that is accepted. */
  result(name: string): FileType | null {
    const signed = signatures.find((s) => s.test(this.head));
    if (signed) return signed.type;
    if (!this.text) return null;
    try {
      // A character cut off at the end is not valid UTF-8.
      this.decoder.decode();
    } catch {
      return null;
    }
    return isTextName(name) ? { kind: 'text', mediaType: 'text/plain' } : null;
  }
}

/** The type of a whole file in memory (tests, small inputs). */
export function sniff(name: string, bytes: Buffer): FileType | null {
  const sniffer = new Sniffer();
  sniffer.push(bytes);
  return sniffer.result(name);
}
