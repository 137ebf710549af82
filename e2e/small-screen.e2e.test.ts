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
 * The words of the element's text that a line ends inside of although each would have fit on a
 * line of its own. A line may end after a space or a hyphen; a word wider than the line (a link)
 * may break anywhere.
 */
const wordsBrokenInside = (element: Element): string[] => {
  const nodes: { node: Text; start: number }[] = []
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
  let text = ''
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node: node as Text, start: text.length })
    text += (node as Text).data
  }
  const range = document.createRange()
  const topOf = (index: number): number | null => {
    const found = [...nodes].reverse().find(({ start }) => start <= index)
    if (!found) return null
    range.setStart(found.node, index - found.start)
    range.setEnd(found.node, index - found.start + 1)
    return range.getClientRects()[0]?.top ?? null
  }
  const widthOf = (word: string) => {
    const probe = document.createElement('span')
    probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre'
    probe.textContent = word
    element.append(probe)
    const width = probe.getBoundingClientRect().width
    probe.remove()
    return width
  }
  const lineWidth = element.getBoundingClientRect().width
  const broken = new Set<string>()
  let previousTop = topOf(0)
  for (let index = 1; index < text.length; index++) {
    if (/\s/.test(text[index])) continue
    const top = topOf(index)
    if (top === null || previousTop === null || top <= previousTop) {
      previousTop = top ?? previousTop
      continue
    }
    previousTop = top
    if (/[\s-]/.test(text[index - 1])) continue
    const from = text.slice(0, index).search(/\S+$/)
    const word = /^\S+/.exec(text.slice(from))?.[0] ?? ''
    if (widthOf(word) <= lineWidth) broken.add(word)
  }
  return [...broken]
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
    // Polled: the Mailbox may redraw its list while the page looks again (a detached node).
    await expect
      .poll(() => text.evaluate((element) => element.getBoundingClientRect().height).catch(() => 0))
      .toBeGreaterThan(60)
    await expect.poll(() => text.evaluate(wordsBrokenInside).catch(() => null)).toEqual([])
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
