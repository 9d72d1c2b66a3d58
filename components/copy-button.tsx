'use client';

/** A "copy" link-style button that puts `text` on the clipboard (where the browser allows it). */
export function CopyButton({ text, className }: { text: string; className: string }) {
  return (
    <button type="button" className={className} onClick={() => void navigator.clipboard?.writeText(text)}>
      copy
    </button>
  );
}
