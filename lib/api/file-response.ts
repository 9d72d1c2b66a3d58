// A file streamed as a download: the body never passes through memory whole; HEAD gets the headers alone.
import 'server-only';
import { Readable } from 'node:stream';

export function fileResponse(file: { body: Readable | null; bytes: number; name: string }): Response {
  return new Response(file.body === null ? null : (Readable.toWeb(file.body) as ReadableStream<Uint8Array>), {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(file.bytes),
      'Content-Disposition': `attachment; filename="${file.name}"`,
      'Cache-Control': 'no-store',
    },
  });
}
