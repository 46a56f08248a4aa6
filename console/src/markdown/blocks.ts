/**
 * The Markdown of policy bodies (headings, lists, quotes, paragraphs, **bold**
 * and `code`) read into blocks of plain text, which the preview renders with
 * ordinary elements: nothing written by an editor ever becomes HTML, so there
 * is nothing to sanitise and no library to ship. Other syntax shows as typed.
 */

export interface Span {
  text: string
  strong?: boolean
  code?: boolean
}

export type Block =
  | { kind: 'heading'; level: 4 | 5 | 6; spans: Span[] }
  | { kind: 'list'; ordered: boolean; items: Span[][] }
  | { kind: 'quote'; spans: Span[] }
  | { kind: 'paragraph'; spans: Span[] }

const HEADING = /^(#{1,6})\s+(.*)$/
const BULLET = /^\s*[-*+]\s+(.*)$/
const NUMBERED = /^\s*\d+[.)、]\s*(.*)$/
const QUOTE = /^\s*>\s?(.*)$/

/** `**bold**` and `` `code` `` in a line; an unclosed marker stays as text. */
export function spans(line: string): Span[] {
  const result: Span[] = []
  const marker = /\*\*(.+?)\*\*|`([^`]+)`/g
  let from = 0
  for (const match of line.matchAll(marker)) {
    if (match.index > from) result.push({ text: line.slice(from, match.index) })
    result.push(match[1] !== undefined ? { text: match[1], strong: true } : { text: match[2] ?? '', code: true })
    from = match.index + match[0].length
  }
  if (from < line.length) result.push({ text: line.slice(from) })
  return result
}

/** The blocks of a Markdown text; blank lines separate paragraphs. */
export function blocks(markdown: string): Block[] {
  const result: Block[] = []
  let paragraph: string[] = []
  const endParagraph = () => {
    if (paragraph.length) result.push({ kind: 'paragraph', spans: spans(paragraph.join(' ')) })
    paragraph = []
  }
  for (const line of markdown.split(/\r?\n/)) {
    const heading = HEADING.exec(line)
    const bullet = BULLET.exec(line)
    const numbered = bullet ? null : NUMBERED.exec(line)
    const quote = QUOTE.exec(line)
    if (heading || bullet || numbered || quote || !line.trim()) endParagraph()
    if (heading) {
      // Under the page's h1, the card's h2 and the policy title's h3.
      const [, hashes = '', text = ''] = heading
      const level = Math.min(hashes.length + 3, 6) as 4 | 5 | 6
      result.push({ kind: 'heading', level, spans: spans(text) })
    } else if (bullet || numbered) {
      const ordered = numbered !== null
      const item = spans((bullet ?? numbered)?.[1] ?? '')
      const last = result.at(-1)
      if (last?.kind === 'list' && last.ordered === ordered) last.items.push(item)
      else result.push({ kind: 'list', ordered, items: [item] })
    } else if (quote) {
      result.push({ kind: 'quote', spans: spans(quote[1] ?? '') })
    } else if (line.trim()) {
      paragraph.push(line.trim())
    }
  }
  endParagraph()
  return result
}
