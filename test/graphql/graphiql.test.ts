import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../support/chromium.ts';
import { testDatabaseKind } from '../support/database.ts';
import { test } from '../support/fixtures.ts';
import { ADMIN_TOKEN } from '../support/server.ts';

const WAIT = { timeout: 60_000 };

// The page is the same whatever the database, so it is tested in one project only.
describe.skipIf(!chromiumAvailable() || testDatabaseKind() !== 'pglite')(
  'GraphiQL in a browser',
  () => {
    let context: BrowserContext;
    let profile: string;
    /** Every request the page made to anything but Vigil; each was refused. */
    const outside: string[] = [];

    beforeAll(async () => {
      profile = await mkdtemp(join(tmpdir(), 'vigil-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 800 },
      });
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    /** A fresh page that may reach `origin` only: anything else is aborted and recorded. */
    async function openPage(origin: string): Promise<Page> {
      const page = await context.newPage();
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (new URL(url).origin === origin) return route.continue();
        outside.push(url);
        return route.abort('blockedbyclient');
      });
      return page;
    }

    const HEADERS_EDITOR = '.graphiql-editor-tool [data-uri$="headers.json"]';

    /** An editor's visible text; Monaco renders spaces as no-break spaces. */
    const editorText = async (page: Page, selector: string) =>
      (await page.locator(selector).locator('.view-lines').first().innerText()).replace(
        /[^\S\n]/g,
        ' ',
      );

    /** Replaces the headers as a user does: select all, paste (typing would auto-close quotes). */
    async function pasteHeaders(page: Page, origin: string, headers: Record<string, string>) {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await page.evaluate((text) => navigator.clipboard.writeText(text), JSON.stringify(headers));
      await page.locator(HEADERS_EDITOR).locator('.view-lines').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('ControlOrMeta+V');
    }

    test('opens from /, shows the starter query and the header to fill in, loads the docs as soon as a valid token is pasted, and runs the query', async ({
      server,
    }) => {
      const page = await openPage(server.url);
      const posts: Array<{ token: string; introspection: boolean; status: number }> = [];
      page.on('response', (response) => {
        const request = response.request();
        if (request.method() !== 'POST') return;
        posts.push({
          token: request.headers().authorization ?? '',
          introspection: (request.postData() ?? '').includes('IntrospectionQuery'),
          status: response.status(),
        });
      });
      const sent = (token: string, introspection: boolean) =>
        posts.filter((p) => p.token === `Bearer ${token}` && p.introspection === introspection);

      const response = await page.goto(`${server.url}/`);
      expect(page.url()).toBe(`${server.url}/graphql`);
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.title(), WAIT).toBe('Vigil');

      const query = '.graphiql-query-editor';
      await page.locator(query).locator('.view-lines').waitFor(WAIT);
      await expect.poll(() => editorText(page, query), WAIT).toContain('query Projects {');
      await expect
        .poll(() => editorText(page, HEADERS_EDITOR), WAIT)
        .toMatch(/"Authorization": "Bearer <token>"/);

      // Without a token the schema cannot be read: Docs says so.
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      const docs = page.locator('.graphiql-doc-explorer');
      await expect.poll(() => docs.innerText(), WAIT).toContain('Error fetching schema');
      expect(sent('<token>', true).map((p) => p.status)).toContain(401);

      // A wrong token: the schema is asked for again, refused, and so is the query.
      const wrong = `${ADMIN_TOKEN}x`;
      await pasteHeaders(page, server.url, { Authorization: `Bearer ${wrong}` });
      await expect.poll(() => sent(wrong, true).length, WAIT).toBeGreaterThan(0);
      await page.getByRole('button', { name: /Execute query/ }).click();
      await expect.poll(() => sent(wrong, false).length, WAIT).toBe(1);
      expect([...sent(wrong, true), ...sent(wrong, false)].every((p) => p.status === 401)).toBe(
        true,
      );
      expect(await docs.innerText()).toContain('Error fetching schema');

      // The right token: the docs load with no reload and no re-fetch by hand, and the query runs.
      await pasteHeaders(page, server.url, { Authorization: `Bearer ${ADMIN_TOKEN}` });
      await expect.poll(() => docs.innerText(), WAIT).toMatch(/Root Types[\s\S]*query: Query/);
      await docs.getByText('Query', { exact: true }).click();
      await expect.poll(() => docs.innerText(), WAIT).toContain('organizations');
      await page.getByRole('button', { name: /Execute query/ }).click();
      const result = '.graphiql-response';
      await expect.poll(() => editorText(page, result), WAIT).toMatch(/"slug": "default"/);
      expect(sent(ADMIN_TOKEN, false).map((p) => p.status)).toEqual([200]);

      await page.screenshot({ path: join(tmpdir(), 'vigil-graphiql.png') });
      expect(outside).toEqual([]);
      await page.close();
    }, 240_000);
  },
);

describe('GraphiQL over HTTP', () => {
  test('GET / sends a browser to GraphiQL; other methods on / are not found', async ({
    server,
  }) => {
    const get = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(get.status).toBe(302);
    expect(get.headers.get('location')).toBe('/graphql');
    const post = await fetch(`${server.url}/`, { method: 'POST', redirect: 'manual' });
    expect(post.status).toBe(404);
  });

  test('the page loads nothing from elsewhere: every script, style and worker is inline', async ({
    server,
  }) => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>Vigil</title>');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./i);
  });
});
