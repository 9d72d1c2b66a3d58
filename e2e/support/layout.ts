// What a person sees as broken layout: text or boxes that stick out of the screen or out of their own card.
import type { Page } from '@playwright/test';

/**
 * The innermost visible elements whose box reaches past the viewport's right edge, named so that a failure says
 * which card or text overflows (tag, test id, classes, text), not only by how many pixels.
 */
export async function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = (el: Element) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.right > width + 0.5;
    };
    const all = [...document.body.querySelectorAll('*')].filter(out);
    return all
      .filter((el) => ![...el.children].some(out))
      .slice(0, 10)
      .map((el) => {
        const r = el.getBoundingClientRect();
        const id = el.getAttribute('data-testid');
        const text = (el.textContent ?? '').trim().slice(0, 60);
        return `<${el.tagName.toLowerCase()}${id ? ` data-testid=${id}` : ''}> right ${Math.round(r.right)} > ${width}: "${text}"`;
      });
  });
}

/**
 * Elements under `selector` whose text is cut or spills: content wider or taller than the element's own box, where
 * the element does not truncate on purpose (text-overflow: ellipsis or line clamping, with the full text on hover).
 */
export async function spilledText(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const found: string[] = [];
    for (const root of document.querySelectorAll(sel)) {
      const rootBox = root.getBoundingClientRect();
      for (const el of [root, ...root.querySelectorAll('*')]) {
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        // Visually hidden on purpose for screen readers (Tailwind's sr-only: 1 px, clipped).
        if (style.position === 'absolute' && r.width <= 1 && r.height <= 1) continue;
        const onPurpose = style.textOverflow === 'ellipsis' || style.webkitLineClamp !== 'none';
        const spills = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        const outside =
          r.right > rootBox.right + 0.5 ||
          r.bottom > rootBox.bottom + 0.5 ||
          r.left < rootBox.left - 0.5 ||
          r.top < rootBox.top - 0.5;
        if ((spills && !onPurpose && el.children.length === 0) || outside) {
          const id = el.getAttribute('data-testid');
          found.push(
            `<${el.tagName.toLowerCase()}${id ? ` data-testid=${id}` : ''}> in ${sel}: "${(el.textContent ?? '').trim().slice(0, 50)}"`,
          );
        }
      }
    }
    return found;
  }, selector);
}
