// A shiminhua server of the tests' own: the binary named by SHIMINHUA_BIN on a
// random port with a fresh SQLite database, in sandbox WeChat mode (any login
// code signs a worker in), stopped when the tests end.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ADMIN_PASSWORD = 'admin-password-0001'
export const STAFF_PASSWORD = 'staff-password-0001'

function binary() {
  const path = process.env.SHIMINHUA_BIN
  if (!path) throw new Error('SHIMINHUA_BIN names the shiminhua binary (scripts/console_test.sh sets it)')
  return path
}

export class Server {
  /** Starts the binary and waits until it says where it listens. */
  static async start() {
    const dir = mkdtempSync(join(tmpdir(), 'shiminhua-console-'))
    const env = {
      ...process.env,
      RUST_LOG: 'warn,api::startup=info',
      SHIMINHUA_BIND: '127.0.0.1:0',
      SHIMINHUA_LOG_FORMAT: 'pretty',
      DATABASE_URL: `sqlite://${dir}/console.db?mode=rwc`,
      SHIMINHUA_UPLOAD_DIR: join(dir, 'uploads'),
      SHIMINHUA_SEARCH_INDEX_DIR: join(dir, 'search-index'),
      SHIMINHUA_WECHAT_MODE: 'sandbox',
      // The tests sign in many times from one address.
      SHIMINHUA_RATE_PUBLIC_WRITE: '1000',
    }
    const child = spawn(binary(), ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    // Not left running when the tests end early (an uncaught error, a time-out).
    process.once('exit', () => child.kill('SIGKILL'))
    const base = await new Promise((resolve, reject) => {
      let log = ''
      const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${log}`)), 60_000)
      child.stderr.on('data', (chunk) => {
        log += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '')
        const listening = log.match(/listening addr=(127\.0\.0\.1:\d+)/)
        if (listening) {
          clearTimeout(timer)
          resolve(`http://${listening[1]}`)
        }
      })
      child.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${log}`)))
    })
    return new Server(child, dir, env.DATABASE_URL, base)
  }

  constructor(child, dir, databaseUrl, base) {
    this.child = child
    this.dir = dir
    this.databaseUrl = databaseUrl
    this.base = base
  }

  async stop() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await exited
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** An administrator made as an operator makes the first one. */
  createAdmin(username, region) {
    const made = spawnSync(binary(), ['create-admin', '--username', username, '--region', region, '--display-name', '省级管理员'], {
      env: { ...process.env, DATABASE_URL: this.databaseUrl, RUST_LOG: 'warn' },
      input: `${ADMIN_PASSWORD}\n`,
      encoding: 'utf8',
    })
    if (made.status !== 0) throw new Error(`create-admin failed: ${made.stderr}`)
  }

  async call(method, path, { token, body, headers = {} } = {}) {
    const init = { method, headers: { ...headers } }
    if (token) init.headers.Authorization = `Bearer ${token}`
    if (body instanceof FormData) init.body = body
    else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    const response = await fetch(`${this.base}${path}`, init)
    const text = await response.text()
    const json = text ? JSON.parse(text) : undefined
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return json
  }

  async staffToken(username, password) {
    return (await this.call('POST', '/api/v1/staff/auth/login', { body: { username, password } })).access_token
  }

  async createStaff(adminToken, username, displayName, roles, region) {
    const body = { username, display_name: displayName, password: STAFF_PASSWORD, roles, region_code: region }
    await this.call('POST', '/api/v1/admin/staff', { token: adminToken, body })
  }
}
