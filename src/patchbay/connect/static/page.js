// The connect page's one script: when a connection is made in a popup, tell the opener (on its
// allowed origin only) and close; without an opener, go on to `next`.
const result = document.getElementById("result");

function tellOpener() {
  if (result.dataset.mode !== "popup" || !window.opener || window.opener.closed) {
    return false;
  }
  window.opener.postMessage(
    {
      type: "patchbay:connected",
      integration_id: Number(result.dataset.integrationId),
      kind: result.dataset.kind,
    },
    result.dataset.origin,
  );
  window.close();
  return true;
}

if (result) {
  if (result.dataset.auto === "1" && !tellOpener()) {
    window.location.replace(result.dataset.next);
  }
  const next = document.getElementById("continue");
  if (next) {
    next.addEventListener("click", (event) => {
      if (tellOpener()) {
        event.preventDefault();
      }
    });
  }
}
