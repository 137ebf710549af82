/**
 * The demo page on a phone-sized screen (390 px), in real Chromium against `wrangler dev`: the
 * mail text wraps between words (only a link too long for the line breaks inside), the reset
 * view opened from a link has a way back, and the page has an icon.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const baseUrl = inject('baseUrl')

let chromium: OpenChromium
let page: Page

beforeAll(async () => {
  chromium = await openChromium({ width: 390, height: 844 })
  page = chromium.page
})

afterAll(async () => {
  await chromium?.close()
})

/**
 * The words of the element's text that the layout split across two lines: a line that starts
 * in the middle of a word which would have fit on a line of its own.
 */
const wordsBrokenInside = (element: Element): string[] => {
  const text = element.textContent ?? ''
  const range = document.createRange()
  const nodes: { node: Text; start: number }[] = []
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
  let offset = 0
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node: node as Text, start: offset })
    offset += (node as Text).length
  }
  const topOf = (index: number): number | null => {
    const found = [...nodes].reverse().find(({ start }) => start <= index)
    if (!found || index - found.start >= found.node.length) return null
    range.setStart(found.node, index - found.start)
    range.setEnd(found.node, index - found.start + 1)
    return range.getClientRects()[0]?.top ?? null
  }
  const width = element.getBoundingClientRect().width
  const broken: string[] = []
  for (const match of text.matchAll(/\S+/g)) {
    const first = topOf(match.index)
    const last = topOf(match.index + match[0].length - 1)
    if (first === null || last === null || first === last) continue
    // A word that fits on one line must not have been split.
    const probe = document.createElement('span')
    probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre;font:inherit'
    probe.textContent = match[0]
    element.append(probe)
    if (probe.getBoundingClientRect().width <= width) broken.push(match[0])
    probe.remove()
  }
  return broken
}

describe('the demo page at 390 px', () => {
  const email = `small-${Date.now().toString(36)}@example.com`

  it('wraps a message in the Mailbox between words', async () => {
    await page.goto(baseUrl)
    const signUp = page.locator('#sign-up-form')
    await signUp.getByLabel('Email').fill(email)
    await signUp.getByLabel('Password').fill('correct horse battery staple')
    await signUp.getByRole('button', { name: 'Sign up' }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)
    const message = page.locator('#mailbox-messages li', { hasText: email }).first()
    await expect
      .poll(async () => {
        await page.locator('#mailbox-refresh').click()
        return message.count()
      })
      .toBeGreaterThan(0)
    const text = message.locator('pre')
    // Several lines at this width, so the check below had breaks to look at.
    const box = await text.boundingBox()
    expect(box?.height ?? 0).toBeGreaterThan(60)
    expect(await text.evaluate(wordsBrokenInside)).toEqual([])
  })

  it('leaves the reset view with "Back", and the token with it', async () => {
    await page.goto(`${baseUrl}/#reset=${'a'.repeat(43)}`)
    await expect.poll(() => page.locator('#reset-view').isVisible()).toBe(true)
    await page.getByRole('button', { name: 'Back, keep my password' }).click()
    await expect.poll(() => page.locator('#reset-view').isVisible()).toBe(false)
    // Still signed in from the step above: the page shows the account again.
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)
    expect(page.url()).not.toContain('#reset=')
  })

  it('has an icon at /favicon.ico', async () => {
    const res = await fetch(`${baseUrl}/favicon.ico`)
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/icon/)
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.ico')
  })
})
