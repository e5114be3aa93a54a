// Patchbay connect: open a connect session's page in a popup and learn what was connected.
//
//   import { connect } from "https://patchbay.example.com/connect/connect.js";
//   const { integration_id, kind } = await connect(session.url);
//
// The promise rejects when the user closes the popup without connecting, or when the browser
// blocked the popup (call connect() from a click handler).
const PATCHBAY_ORIGIN = new URL(import.meta.url).origin;

export function connect(url, { width = 480, height = 720 } = {}) {
  const page = new URL(url, PATCHBAY_ORIGIN);
  page.searchParams.set("mode", "popup");
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
  const popup = window.open(
    page.toString(),
    "patchbay-connect",
    `popup,width=${width},height=${height},left=${left},top=${top}`,
  );
  return new Promise((resolve, reject) => {
    if (!popup) {
      reject(new Error("patchbay: the browser blocked the connect popup"));
      return;
    }
    let watcher = 0;
    let settled = false;
    const finish = () => {
      settled = true;
      window.removeEventListener("message", onMessage);
      window.clearInterval(watcher);
    };
    const onMessage = (event) => {
      const data = event.data;
      if (event.origin !== page.origin || event.source !== popup) return;
      if (!data || data.type !== "patchbay:connected") return;
      finish();
      resolve({ integration_id: data.integration_id, kind: data.kind });
    };
    window.addEventListener("message", onMessage);
    watcher = window.setInterval(() => {
      if (!popup.closed) return;
      window.clearInterval(watcher);
      // The popup closes right after posting its result: let that message arrive first.
      window.setTimeout(() => {
        if (settled) return;
        finish();
        reject(new Error("patchbay: the connect window was closed before connecting"));
      }, 300);
    }, 400);
  });
}

export default connect;
