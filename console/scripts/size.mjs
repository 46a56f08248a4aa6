// The initial JavaScript of the console: what a visitor's browser runs before
// the first page (sign-in) is usable: the scripts index.html loads, the
// sign-in page's chunk, and every module they import statically (not the
// other pages, loaded on demand), gzipped.
// Fails over the budget of issue 18 (350 KB). Prints one line per file and the total.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const BUDGET_KB = 350
const dist = new URL('../dist/', import.meta.url).pathname

const page = readFileSync(join(dist, 'index.html'), 'utf8')
const entries = [...page.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map((m) => m[1])
if (entries.length === 0) throw new Error('index.html loads no script')
const signIn = readdirSync(join(dist, 'assets')).filter((name) => /^SignInPage-.*\.js$/.test(name))
if (signIn.length !== 1) throw new Error(`one sign-in page chunk expected, found ${signIn.length}`)
entries.push(`assets/${signIn[0]}`)

// Static imports in the minified output: `import{a}from"./x.js"` or `import"./x.js"`;
// a dynamic `import("./x.js")` has a parenthesis and is left out.
const staticImport = /import\s*(?:[\w$*{},\s]+?from\s*)?["']\.\/([^"']+\.js)["']/g

const seen = new Set()
const pending = [...entries]
while (pending.length) {
  const file = pending.pop()
  if (seen.has(file)) continue
  seen.add(file)
  const code = readFileSync(join(dist, file), 'utf8')
  for (const [, name] of code.matchAll(staticImport)) pending.push(`assets/${name}`)
}

let total = 0
for (const file of [...seen].sort()) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length
  total += size
  console.log(`${(size / 1024).toFixed(1).padStart(8)} KB  ${file}`)
}
const kb = total / 1024
console.log(`initial JavaScript: ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`)
if (kb > BUDGET_KB) {
  console.error(`error: the initial JavaScript is over its budget of ${BUDGET_KB} KB gzipped`)
  process.exit(1)
}
