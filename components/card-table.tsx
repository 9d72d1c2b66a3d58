// A table from 768 px; below, one card per row with each field labelled: no sideways scroll on a phone.
import type { ReactNode } from 'react';

export const CARD_TABLE = 'block w-full text-left text-sm md:table';
export const CARD_THEAD = 'hidden md:table-header-group';
export const CARD_TBODY = 'block space-y-2 md:table-row-group md:space-y-0';
export const CARD_ROW =
  'grid grid-cols-2 gap-x-3 gap-y-2 rounded-lg border border-slate-200 p-3 align-top sm:grid-cols-3 md:table-row md:rounded-none md:border-0 md:border-b md:p-0 dark:border-slate-800';

/** A cell that says what it holds when its row is a card; `wide` spans the card's width. */
export function Cell({
  label,
  wide = false,
  className = '',
  children,
}: {
  label: string;
  wide?: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <td className={`min-w-0 md:py-1 ${wide ? 'col-span-2 sm:col-span-3 md:col-span-1' : ''} ${className}`}>
      <span className="block text-xs text-slate-500 md:hidden">{label}</span>
      {children}
    </td>
  );
}
