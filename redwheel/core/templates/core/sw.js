/* RedWheel's service worker, served at /sw.js by redwheel/core/pwa.py (docs/frontend.md).
   Network first for pages, the offline page when there is no network; the app shell and the
   static files from the cache. Pages are stored only under the offline prefixes capabilities
   declare (pwa.offline_pages), and those are deleted on logout. */
const CONFIG = {{ config|safe }};
const SHELL_CACHE = "redwheel-shell-" + CONFIG.version;
const STATIC_CACHE = "redwheel-static-" + CONFIG.version;
const PAGES_CACHE = "redwheel-pages";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) =>
        cache.addAll(
          [CONFIG.offline, ...CONFIG.shell].map((url) => new Request(url, { credentials: "omit" })),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  const keep = new Set([SHELL_CACHE, STATIC_CACHE, PAGES_CACHE]);
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((name) => name.startsWith("redwheel-") && !keep.has(name)).map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function offlineCapable(url) {
  return CONFIG.offlinePrefixes.some((prefix) => url.pathname.startsWith(prefix));
}

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    if (offlineCapable(url) && response.ok && response.type === "basic" && !response.redirected) {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const stored = offlineCapable(url) ? await caches.match(request, { cacheName: PAGES_CACHE }) : undefined;
    return stored || (await caches.match(CONFIG.offline, { cacheName: SHELL_CACHE })) || Response.error();
  }
}

async function staticFile(event) {
  const request = event.request;
  const shell = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  if (shell) return shell;
  const cache = await caches.open(STATIC_CACHE);
  const stored = await cache.match(request);
  const refresh = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  });
  if (stored) {
    event.waitUntil(refresh.catch(() => undefined));  // stale while revalidate
    return stored;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === CONFIG.logout) {
    // Nothing of this account stays on the device after logging out.
    event.waitUntil(caches.delete(PAGES_CACHE));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(staticFile(event));
  }
});
