// The one error for "this file is not a well-formed snapshot" (as opposed to an I/O failure), so callers can tell the two apart.

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}
