/**
 * Downloads of exports and the upload of an import file: both report progress, which fetch
 * cannot do for an upload, hence XMLHttpRequest there.
 */
import { errorFromResponse, UNAUTHORIZED_EVENT, ApiError } from './client';
import type { ImportResult } from './types';

const enc = encodeURIComponent;

export const exportPaths = {
  conversation: (id: string, format: 'markdown' | 'json') =>
    `/api/export/conversations/${enc(id)}/${format}`,
  everything: '/api/export',
};

/** The file name a Content-Disposition header gives: `filename*` (UTF-8) first, else `filename`. */
export function fileNameOf(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      // Falls back to the plain name.
    }
  }
  return /filename="([^"]+)"/i.exec(header)?.[1] ?? fallback;
}

/**
 * GETs a download, reading it piece by piece so `onProgress` sees the bytes received (the
 * archive of everything is streamed, with no length known in advance), then hands it to the
 * browser to save under the server's file name.
 */
export async function downloadExport(
  path: string,
  fallbackName: string,
  onProgress?: (bytes: number) => void,
): Promise<{ name: string; bytes: number }> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  if (!res.ok) {
    const error = await errorFromResponse(res);
    if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    throw error;
  }
  const parts: BlobPart[] = [];
  let bytes = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      bytes += value.byteLength;
      onProgress?.(bytes);
    }
  }
  const name = fileNameOf(res.headers.get('content-disposition'), fallbackName);
  const type = res.headers.get('content-type') ?? 'application/octet-stream';
  saveFile(new Blob(parts, { type }), name);
  return { name, bytes };
}

function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the URL is kept a moment for slow browsers.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * POSTs an export file to /api/import as it is (its format is found from its content).
 * `onUpload` reports the bytes sent; once they all are, the server is reading and saving.
 */
export function importFile(
  file: Blob,
  onUpload?: (sent: number, total: number) => void,
): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/import');
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (event) => onUpload?.(event.loaded, event.total || file.size);
    xhr.onerror = () =>
      reject(new ApiError(0, 'network', 'Cannot reach the server. Check your connection.'));
    xhr.onload = () => {
      const res = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { 'retry-after': xhr.getResponseHeader('retry-after') ?? '' },
      });
      if (xhr.status === 201) {
        res.json().then((body) => resolve(body as ImportResult), reject);
        return;
      }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
      errorFromResponse(res).then(reject, reject);
    };
    xhr.send(file);
  });
}
