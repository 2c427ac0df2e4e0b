// Toasts of the NotificationArea (bearing_workbench/panels/toast_area.py) and browser notifications.
//
// The Python side owns the list (`toasts`); this view draws it top-right, removes a toast when its
// close button is clicked or, unless sticky, `dismiss_after_ms` after it arrived, and tells the kernel
// (`{type: "dismiss" | "expired", id}`). Several views of the one area may be on a page (the wizard and
// the monitor it opened): the first one still attached draws, the others stay empty.
//
// A run end (`toast.browser`) that arrives while the page is hidden also becomes a browser notification
// (when permitted); clicking it focuses the window and opens the toast's link. What was shown is
// pushed onto `window.__bwNotifications` ({id, kind, title, body, link}) and each toast element carries
// `data-kind`, `data-toast-id` and, once notified, `data-browser-notified="true"`.

const STORAGE_KEY = "bearing-workbench.browser-notifications";
const ICONS = { started: "\u25B6", completed: "\u2714", failed: "\u2716", stopped: "\u25A0", warning: "!" };

function supported() {
  return typeof window.Notification === "function";
}

function remembered() {
  try {
    return window.localStorage.getItem(STORAGE_KEY) || "";
  } catch (err) {
    return ""; // storage blocked (private mode, sandboxed frame)
  }
}

function remember(answer) {
  try {
    window.localStorage.setItem(STORAGE_KEY, answer);
  } catch (err) {
    // nothing to keep it in: the button comes back next time
  }
}

function currentPermission() {
  return supported() ? window.Notification.permission : "unsupported";
}

function absolute(link) {
  try {
    return new URL(link, document.baseURI).href;
  } catch (err) {
    return link;
  }
}

function showBrowserNotification(toast) {
  window.__bwNotifications = window.__bwNotifications || [];
  window.__bwNotificationErrors = window.__bwNotificationErrors || [];
  if (document.visibilityState !== "hidden" || currentPermission() !== "granted") {
    return false;
  }
  try {
    const shown = new window.Notification(toast.title, { body: toast.text, tag: `bw-toast-${toast.id}` });
    shown.onclick = () => {
      window.focus();
      if (toast.link) {
        window.open(absolute(toast.link), "_blank");
      }
      shown.close();
    };
  } catch (err) {
    // e.g. a browser that only notifies from a service worker
    window.__bwNotificationErrors.push({ id: toast.id, error: String(err) });
    return false;
  }
  window.__bwNotifications.push({
    id: toast.id,
    kind: toast.kind,
    title: toast.title,
    body: toast.text,
    link: toast.link || null,
  });
  return true;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const owners = (window.__bwToastOwners = window.__bwToastOwners || new Map());
  const notified = (window.__bwNotifiedToasts = window.__bwNotifiedToasts || new Set());
  const key = model.get("area_id"); // each view gets its own model proxy: the id is shared
  const view = {};
  const gone = new Set(); // toast ids removed here, before the kernel's list says so
  const timers = new Map();
  const seen = new Set((model.get("toasts") || []).map((t) => t.id)); // already there: no notification
  let asked = false;

  el.classList.add("bw-notifications-host");
  const stack = element("div", "bw-notifications");
  stack.setAttribute("aria-live", "polite");
  el.appendChild(stack);

  function owner() {
    const current = owners.get(key);
    if (!current || !current.el.isConnected) {
      owners.set(key, { view, el });
      return true;
    }
    return current.view === view;
  }

  function send(type, id) {
    model.send({ type, id });
  }

  function remove(id, type) {
    if (gone.has(id)) return;
    gone.add(id);
    clearTimeout(timers.get(id));
    timers.delete(id);
    draw();
    send(type, id);
  }

  function reportPermission() {
    const answer = currentPermission();
    if (model.get("permission") !== answer) {
      model.set("permission", answer);
      model.save_changes();
    }
    if (answer === "granted" || answer === "denied") remember(answer);
  }

  function request() {
    if (!supported()) return;
    const done = () => {
      reportPermission();
      draw();
    };
    try {
      const pending = window.Notification.requestPermission(done);
      if (pending && typeof pending.then === "function") pending.then(done, done);
    } catch (err) {
      done();
    }
  }

  function wantsPermission() {
    return (
      model.get("ask_permission") &&
      supported() &&
      currentPermission() === "default" &&
      !["granted", "denied", "dismissed"].includes(remembered())
    );
  }

  function permissionPrompt() {
    const box = element("div", "bw-toast bw-permission");
    box.dataset.kind = "permission";
    box.appendChild(element("div", "bw-toast-text", "Be told when a run ends while this page is in the background."));
    const actions = element("div", "bw-toast-actions");
    const enable = element("button", "bw-enable-notifications", "Enable browser notifications");
    enable.type = "button";
    enable.addEventListener("click", request);
    const later = element("button", "bw-permission-later", "Not now");
    later.type = "button";
    later.addEventListener("click", () => {
      remember("dismissed");
      draw();
    });
    actions.append(enable, later);
    box.appendChild(actions);
    return box;
  }

  function toastElement(toast) {
    const box = element("div", "bw-toast");
    box.dataset.kind = toast.kind;
    box.dataset.toastId = String(toast.id);
    box.setAttribute("role", toast.kind === "failed" ? "alert" : "status");
    if (notified.has(toast.id)) box.dataset.browserNotified = "true";
    const head = element("div", "bw-toast-title");
    head.appendChild(element("span", "bw-toast-icon", ICONS[toast.kind] || "\u2022"));
    head.appendChild(element("span", "", toast.title));
    box.appendChild(head);
    if (toast.text) box.appendChild(element("div", "bw-toast-text", toast.text));
    if (toast.link) {
      const link = element("a", "bw-toast-link", toast.link_text || "Open");
      link.href = toast.link;
      link.target = "_blank";
      link.rel = "noopener";
      box.appendChild(link);
    }
    const close = element("button", "bw-toast-close", "\u00D7");
    close.type = "button";
    close.title = "Close";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", () => remove(toast.id, "dismiss"));
    box.appendChild(close);
    return box;
  }

  function draw() {
    stack.replaceChildren();
    if (!owner()) return;
    const toasts = (model.get("toasts") || []).filter((t) => !gone.has(t.id));
    for (const toast of toasts) {
      if (!toast.sticky && !timers.has(toast.id)) {
        timers.set(toast.id, setTimeout(() => remove(toast.id, "expired"), model.get("dismiss_after_ms")));
      }
      if (toast.browser && !seen.has(toast.id) && !notified.has(toast.id) && showBrowserNotification(toast)) {
        notified.add(toast.id);
      }
      seen.add(toast.id);
      stack.appendChild(toastElement(toast));
    }
    if (wantsPermission()) {
      stack.appendChild(permissionPrompt());
      if (!asked && !window.__bwPermissionAsked) {
        // Some browsers grant this without a gesture; the others keep the button.
        asked = window.__bwPermissionAsked = true;
        request();
      }
    }
  }

  function onOwnerGone() {
    draw();
  }

  reportPermission();
  draw();
  model.on("change:toasts", draw);
  model.on("change:ask_permission", draw);
  window.addEventListener("bw-notifications-owner-gone", onOwnerGone);
  return () => {
    model.off("change:toasts", draw);
    model.off("change:ask_permission", draw);
    window.removeEventListener("bw-notifications-owner-gone", onOwnerGone);
    for (const timer of timers.values()) clearTimeout(timer);
    if (owners.get(key)?.view === view) {
      owners.delete(key);
      window.dispatchEvent(new Event("bw-notifications-owner-gone"));
    }
  };
}

export default { render };
