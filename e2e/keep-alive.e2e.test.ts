/**
 * The connection after a 413: a chunked body over 16 KiB is refused, and the client's next request
 * on the same keep-alive connection must still be served. Only a real `wrangler dev` has a
 * connection to reuse, so this runs beside the browser test, over one raw TCP socket.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import { connect } from 'node:net'
import type { Socket } from 'node:net'

const baseUrl = new URL(inject('baseUrl'))

interface Answer {
  status: number
  body: string
}

/** One HTTP/1.1 connection: requests written in turn, each answer read before the next is sent. */
class Connection {
  private received = Buffer.alloc(0)
  private closed = false
  private wake: () => void = () => {}

  constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data])
      this.wake()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  static open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(baseUrl.port), '127.0.0.1', () => {
        resolve(new Connection(socket))
      })
      socket.once('error', reject)
    })
  }

  /** The next complete answer (status line, headers, Content-Length body); throws if the server closed first. */
  async answer(): Promise<Answer> {
    for (;;) {
      const headerEnd = this.received.indexOf('\r\n\r\n')
      if (headerEnd !== -1) {
        const head = this.received.subarray(0, headerEnd).toString('latin1')
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
        const end = headerEnd + 4 + length
        if (this.received.length >= end) {
          const body = this.received.subarray(headerEnd + 4, end).toString('utf8')
          this.received = this.received.subarray(end)
          return { status: Number(head.split(' ')[1]), body }
        }
      }
      if (this.closed) throw new Error('the server closed the connection')
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  write(text: string): void {
    this.socket.write(text)
  }

  close(): void {
    this.socket.destroy()
  }
}

const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`

/** A JSON body of about `kib` KiB, sent chunked (no Content-Length), in one write. */
const chunkedPost = (path: string, kib: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: ${baseUrl.host}\r\nContent-Type: application/json\r\n` +
  'Transfer-Encoding: chunked\r\n\r\n' +
  chunk('{"email":"big@example.com","password":"') +
  chunk('a'.repeat(1024)).repeat(kib) +
  chunk('"}') +
  '0\r\n\r\n'

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${baseUrl.host}\r\n\r\n`

let connection: Connection | null = null
afterEach(() => {
  connection?.close()
})

describe('the connection after a 413 with a chunked body', () => {
  // Two MiB is past what wrangler dev buffers for a body the worker leaves half-read.
  it.each([24, 2048])(
    'serves the next requests on the same connection after %i KiB',
    async (kib) => {
      connection = await Connection.open()
      connection.write(chunkedPost('/auth/register', kib))
      const tooLarge = await connection.answer()
      expect(tooLarge.status, tooLarge.body).toBe(413)
      expect(JSON.parse(tooLarge.body)).toMatchObject({ error: 'payload_too_large' })

      for (let i = 0; i < 3; i++) {
        connection.write(get('/health'))
        const next = await connection.answer()
        expect(next.status, next.body).toBe(200)
        expect(JSON.parse(next.body)).toEqual({ status: 'ok' })
      }
    }
  )

  it('serves a JSON request on the same connection after a 413', async () => {
    connection = await Connection.open()
    connection.write(chunkedPost('/auth/login', 2048))
    expect((await connection.answer()).status).toBe(413)

    const body = JSON.stringify({ email: 'nobody@example.com', password: 'not a password' })
    connection.write(
      `POST /auth/login HTTP/1.1\r\nHost: ${baseUrl.host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    )
    const next = await connection.answer()
    expect(next.status, next.body).toBe(401)
    expect(JSON.parse(next.body)).toMatchObject({ error: 'invalid_credentials' })
  })
})
