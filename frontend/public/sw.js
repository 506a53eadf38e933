// 政通 service worker: shows the notices that arrive by Web Push and opens a notice's page when
// its notification is clicked. It handles no fetches: the app loads from the network as usual.
// Served from the site root (/sw.js), so its scope is the whole client.

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  // Take the open windows under control at once, so a click can bring one to the notice.
  event.waitUntil(self.clients.claim());
});

/** The payload the server sends (platform/channels/webpush.py): title, body, link, tag. */
function readNotice(event) {
  try {
    const data = event.data ? event.data.json() : {};
    return {
      title: typeof data.title === "string" && data.title ? data.title : "政通",
      body: typeof data.body === "string" ? data.body : "",
      link: typeof data.link === "string" ? data.link : "/",
      tag: typeof data.tag === "string" ? data.tag : "",
    };
  } catch {
    return { title: "政通", body: event.data ? event.data.text() : "", link: "/", tag: "" };
  }
}

self.addEventListener("push", (event) => {
  const notice = readNotice(event);
  event.waitUntil(
    self.registration.showNotification(notice.title, {
      body: notice.body,
      tag: notice.tag || undefined,
      icon: "/favicon.svg",
      data: { link: notice.link },
    }),
  );
});

/** Only a path of this client: never another site, whatever the payload says. */
function clientUrl(link) {
  const url = new URL(typeof link === "string" ? link : "/", self.location.origin);
  return url.origin === self.location.origin ? url : new URL("/", self.location.origin);
}

/** Brings the client's open window to the notice, else opens one. */
async function openNotice(link) {
  const url = clientUrl(link);
  const windows = await self.clients.matchAll({ type: "window" }); // those this worker controls
  for (const client of windows) {
    const shown = await client.navigate(url.href).catch(() => null);
    if (shown) {
      await shown.focus().catch(() => undefined); // focusing needs the click's user activation
      return;
    }
  }
  await self.clients.openWindow(url.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openNotice(event.notification.data && event.notification.data.link));
});
