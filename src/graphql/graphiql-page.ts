import type { GraphiQLOptions } from 'graphql-yoga';

/** What a new user sees first: a query that works on a fresh start, with the token to fill in. */
const STARTER_QUERY = `# Put the admin token Vigil printed in Headers below, then run (Ctrl-Enter).
query Projects {
  organizations {
    slug
    projects {
      slug
      platform
      dsn
    }
  }
}
`;

/**
 * yoga's GraphiQL options. `defaultQuery` and `headers` apply while the browser has no GraphiQL
 * tabs stored for this origin. Headers are not persisted by default: the admin token stays out of
 * localStorage unless the user turns on "Persist headers" in GraphiQL's settings.
 */
export const graphiqlOptions: GraphiQLOptions = {
  title: 'Vigil',
  defaultQuery: STARTER_QUERY,
  headers: JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2),
  shouldPersistHeaders: false,
  defaultEditorToolsVisibility: 'headers',
};

// GraphiQL introspects once on load, which fails until a token is in the headers, and again only
// on Shift-Ctrl-R (its "re-fetch schema" shortcut). While the schema is missing, this sends that
// shortcut when the headers editor changes or when an operation succeeds, so Docs and completion
// appear as soon as the token is valid. yoga's fetcher calls `globalThis.fetch` per request, so
// wrapping it sees every introspection's outcome.
const REFETCH_SCHEMA_SCRIPT = `<script>
(() => {
  let schemaMissing = false;
  let timer;
  const refetch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => window.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'R', ctrlKey: true, shiftKey: true }),
    ), 300);
  };
  const nativeFetch = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input, init) => {
    const response = await nativeFetch(input, init);
    const body = typeof init?.body === 'string' ? init.body : '';
    if (body.includes('IntrospectionQuery')) schemaMissing = !response.ok;
    else if (schemaMissing && response.ok) refetch();
    return response;
  };
  const inHeadersEditor = (target) =>
    target instanceof Element && target.closest('.graphiql-editor-tool') !== null;
  for (const type of ['input', 'keyup', 'paste', 'cut']) {
    document.addEventListener(type, (event) => {
      if (schemaMissing && inHeadersEditor(event.target)) refetch();
    }, true);
  }
})();
</script>`;

// yoga passes a fresh copy of the options per request; the page is the same for equal options.
const pages = new Map<string, Promise<string>>();

/**
 * The GraphiQL page with every asset inlined (`@graphql-yoga/render-graphiql`), so it works with
 * no internet. Imported and rendered on the first request only: the bundle is 9 MB of JavaScript
 * that start-up has no need to parse.
 */
export function renderGraphiqlPage(options: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => {
      const html = renderGraphiQL(options);
      const end = html.lastIndexOf('</body>');
      return `${html.slice(0, end)}${REFETCH_SCHEMA_SCRIPT}${html.slice(end)}`;
    });
    pages.set(key, page);
  }
  return page;
}
