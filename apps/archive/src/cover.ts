import { createHash } from 'node:crypto';
import type { FixtureBook } from './fixture';
import { escapeMarkup } from './html';

const WIDTH = 180;
const HEIGHT = 270;
const LINE_CHARS = 16;
const MAX_LINES = 5;

/** Breaks `text` into at most `maxLines` lines of about `width` characters, the last one ending in "…" if cut. */
export function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length <= width || line === '') {
      line = next;
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1]!}…`;
  return kept;
}

/** "Austen, Jane" → "Jane Austen". */
const displayName = (creator: string) => creator.split(', ').reverse().join(' ');

/**
 * A cover for `book`: its title and author on a colour derived from its identifier (the same book always
 * gets the same cover), 2:3 like a book, as SVG.
 */
export function coverSvg(book: FixtureBook): string {
  const hash = createHash('sha256').update(book.identifier).digest();
  const hue = (hash[0]! * 256 + hash[1]!) % 360;
  const titleLines = wrap(book.title, LINE_CHARS, MAX_LINES);
  const lineHeight = 22;
  const titleTop = 70;
  const title = titleLines
    .map((line, i) => `<text x="90" y="${titleTop + i * lineHeight}">${escapeMarkup(line)}</text>`)
    .join('');
  const author = wrap(displayName(book.creator), 22, 2)
    .map((line, i) => `<text x="90" y="${222 + i * 16}">${escapeMarkup(line)}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">` +
    `<title>${escapeMarkup(`${book.title} by ${displayName(book.creator)}`)}</title>` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="hsl(${hue} 45% 32%)"/>` +
    `<rect x="10" y="10" width="${WIDTH - 20}" height="${HEIGHT - 20}" fill="none" stroke="hsl(${hue} 60% 80%)" stroke-width="2"/>` +
    `<g fill="#fff" font-family="Georgia, serif" text-anchor="middle">` +
    `<g font-size="17" font-weight="bold">${title}</g>` +
    `<g font-size="12" fill="hsl(${hue} 60% 88%)">${author}</g>` +
    `</g></svg>`
  );
}
