/*
 * casebot web chat widget: embed with one script tag, no build step, no external network.
 *
 *   <script src="https://host/widget.js" data-casebot-locale="es" defer></script>
 *
 * The API base is this script's own origin; the widget speaks only the "Web chat API" of
 * ARCHITECTURE.md (sessions, messages, transcript replay with ?after=ID, WebSocket pushes).
 *
 * Choices worth knowing:
 * - The session (id + token) lives in sessionStorage: it survives a reload of the tab (the
 *   transcript is replayed with ?after=0) but not the closing of the tab, which is what we want
 *   on a shared computer in a library or a consulate waiting room.
 * - The language picker switches the language inside the same session: it sends the current
 *   prompt's language switch ("{seq}:g:setlang:ar", the seq read off the buttons shown), which
 *   the server keeps as no bubble; the conversation keeps its place (half a booking is not
 *   lost) and the engine shows the current step again in the new language. A new session per
 *   language would throw the conversation away. The widget's own labels switch at once.
 * - Every message carries an Idempotency-Key of its own. A message whose answer does not come
 *   (the server down or restarting, the network gone) is marked "not sent" with its text kept
 *   and a Retry button; the retry sends the same key, so the server never runs it twice.
 * - Whether the panel is open and the newest message read are kept with the session: a reload
 *   reopens the panel as it was, and the badge shows only what came while it was closed.
 * - The field follows what the step asks for (the message's "input"): a password is masked,
 *   with a show toggle; codes are not (they are copied from a phone, an email or a letter).
 * - Bot text is text: only phone numbers and https addresses become links, built as elements,
 *   never as HTML.
 * - UI is inside an open shadow root so the host page's CSS cannot break it (and vice versa).
 * - Messages are deduplicated by id: a reply can arrive both in the POST answer and on the
 *   WebSocket, and the transcript fetched after a reconnect may overlap both.
 */
(function () {
  "use strict";

  if (window.__casebotWidget) return; // embedded twice: one widget is enough
  window.__casebotWidget = true;

  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll("script[src]");
      for (var i = all.length - 1; i >= 0; i--) {
        if (/\/widget\.js(\?|#|$)/.test(all[i].src)) return all[i];
      }
      return null;
    })();
  var BASE = script ? new URL(script.src, location.href).origin : location.origin;
  var STORE_KEY = "casebot.session@" + BASE;
  var SECRET_MASK = "••••••";

  // The catalog of the widget's own labels, every locale's, from the gettext catalogs under
  // locales/: the server writes it in at the marker as it serves this file
  // (bot/channels/web/widget_labels.py), so the picker switches the labels at once with no second
  // request and no build step. Its keys: locales, names (each language's own name), rtl, labels.
  var CATALOG = /*casebot:labels*/ null;
  if (!CATALOG) CATALOG = { locales: ["en"], names: { en: "English" }, rtl: [], labels: {} };
  var LOCALES = CATALOG.locales;
  var NATIVE_NAMES = CATALOG.names;
  var LABELS = CATALOG.labels;
  var RTL = {};
  CATALOG.rtl.forEach(function (code) {
    RTL[code] = true;
  });

  function normalizeLocale(tag) {
    if (!tag) return null;
    var t = String(tag).toLowerCase().replace("_", "-");
    if (t === "fil") return "tl";
    var base = t.split("-")[0];
    return LOCALES.indexOf(base) >= 0 ? base : null;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{font:16px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans Arabic',",
    "'Noto Sans CJK SC',sans-serif;color:#1b1b1b}",
    ".launcher{position:fixed;inset-block-end:20px;inset-inline-end:20px;z-index:2147483000;",
    "width:60px;height:60px;border-radius:50%;border:0;background:#1a4480;color:#fff;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.3);display:flex;align-items:center;justify-content:center}",
    ".launcher svg{width:30px;height:30px;fill:currentColor}",
    ".launcher .badge{position:absolute;inset-block-start:2px;inset-inline-end:2px;width:14px;",
    "height:14px;border-radius:50%;background:#d83933;border:2px solid #fff}",
    ".panel{position:fixed;inset-block-end:92px;inset-inline-end:20px;z-index:2147483001;",
    "width:380px;height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;",
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden]{display:none}",
    ".head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1a4480;color:#fff}",
    ".head h2{flex:1;margin:0;font-size:16px;font-weight:600}",
    ".head select{max-width:9.5em;font:inherit;font-size:16px;min-height:44px;padding:4px;",
    "border-radius:6px;",
    "border:1px solid #fff;background:#fff;color:#1b1b1b}",
    ".close{border:0;background:transparent;color:#fff;font-size:24px;line-height:1;",
    "width:44px;height:44px;border-radius:6px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;",
    "background:#f5f6f7}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".msg.bot{align-self:flex-start;background:#fff;border:1px solid #dfe1e2;",
    "border-end-start-radius:4px}",
    ".msg.user{align-self:flex-end;background:#1a4480;color:#fff;border-end-end-radius:4px}",
    ".msg img{display:block;max-width:100%;margin-top:8px;border-radius:6px;background:#fff}",
    ".msg a{color:#1a4480;font-weight:600}",
    ".msg.user a{color:#fff}",
    ".msg a.tel{white-space:nowrap}",
    ".msg time{display:block;margin-top:2px;font-size:12px;opacity:.85;text-align:end}",
    ".msg.bot time{color:#565c65;opacity:1}",
    ".msg.failed{background:#fff;color:#1b1b1b;border:2px solid #b50909}",
    ".msg .unsent{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin-top:6px;",
    "color:#b50909;font-weight:600;font-size:14px}",
    ".msg .retry{font:inherit;min-height:44px;padding:6px 14px;border-radius:22px;",
    "border:1px solid #1a4480;background:#1a4480;color:#fff;cursor:pointer}",
    ".msg .file{display:block;margin-top:8px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);",
    "white-space:nowrap}",
    ".typing{padding:0 12px 6px;background:#f5f6f7;min-height:0}",
    ".typing[hidden]{display:none}",
    ".dots{display:inline-flex;gap:4px;padding:10px 12px;background:#fff;border:1px solid #dfe1e2;",
    "border-radius:14px}",
    ".dots i{width:7px;height:7px;border-radius:50%;background:#71767a;",
    "animation:cb-blink 1.2s infinite both}",
    ".dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}",
    "@keyframes cb-blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.dots i{animation:none;opacity:.7}}",
    ".status{padding:6px 12px;background:#faf3d1;color:#1b1b1b;font-size:14px}",
    ".status:empty{display:none}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px;padding:8px 12px;border-top:1px solid #dfe1e2;",
    "max-height:40%;overflow-y:auto}",
    ".replies:empty{display:none}",
    ".replies button{font:inherit;font-size:16px;min-height:44px;padding:6px 14px;border-radius:22px;",
    "border:1px solid #1a4480;background:#fff;color:#1a4480;cursor:pointer;text-align:start}",
    ".replies button:hover{background:#e8eef7}",
    ".form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #dfe1e2}",
    ".form input{flex:1;min-width:0;font:inherit;font-size:16px;min-height:44px;padding:8px 10px;",
    "border:1px solid #71767a;border-radius:8px}",
    ".form input::placeholder{color:#71767a}",
    ".reveal{display:flex;align-items:center;justify-content:center;flex:none;width:44px;",
    "height:44px;padding:0;border:1px solid #1a4480;border-radius:8px;background:#fff;",
    "color:#1a4480;cursor:pointer}",
    ".reveal svg{width:24px;height:24px;fill:currentColor}",
    ".reveal[aria-pressed=true]{background:#e8eef7}",
    ".reveal[hidden]{display:none}",
    ".form input[type=password]{background:#fff8e5}",
    ".send{font:inherit;min-height:44px;padding:8px 14px;border:0;border-radius:8px;background:#1a4480;",
    "color:#fff;cursor:pointer}",
    "button:focus-visible,select:focus-visible,input:focus-visible,a:focus-visible,",
    ".log:focus-visible{outline:3px solid #ffbe2e;outline-offset:2px}",
    "[aria-disabled=true]{opacity:.6;cursor:wait}",
    // Phones: the panel takes the whole screen, the launcher hides behind it.
    "@media (max-width:520px){.panel{inset:0;width:100%;height:100%;border-radius:0}",
    ".panel:not([hidden])~.launcher{display:none}}",
  ].join("");

  var ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 2' +
    'v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 ' +
    '0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>';

  var EYE =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 5C6.5 5 2.7 8.6 1 12' +
    'c1.7 3.4 5.5 7 11 7s9.3-3.6 11-7c-1.7-3.4-5.5-7-11-7zm0 11.5a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z' +
    'm0-2.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4z"/></svg>';

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
      }
    }
    if (text != null) node.textContent = text;
    return node;
  }

  // ----------------------------------- state -------------------------------------------

  var stored = readStore();
  var locale =
    (stored && normalizeLocale(stored.locale)) ||
    normalizeLocale(script && script.getAttribute("data-casebot-locale")) ||
    normalizeLocale(navigator.language) ||
    "en";
  var session = stored && stored.session_id && stored.token ? stored : null;
  var lastId = 0;
  var seen = {}; // message id -> true
  var pendingUser = []; // optimistic user bubbles waiting for their server id
  var botShown = 0; // how many bot messages were rendered (has anything come since?)
  var inputKind = "text"; // what the field takes now: text, password, digits, code, answer
  var wasOpen = !!(stored && stored.open); // the panel was open before the reload
  var lastRead = (stored && stored.read) || 0; // the newest message id seen with the panel open
  var busy = false;
  var ws = null;
  var wsAttempt = 0;
  var wsTimer = null;
  var historyLoaded = false;
  var starting = null; // the promise of the session being created

  function readStore() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    } catch (e) {
      return null;
    }
  }
  function writeStore() {
    try {
      if (session) {
        sessionStorage.setItem(
          STORE_KEY,
          JSON.stringify({
            session_id: session.session_id,
            token: session.token,
            locale: locale,
            open: !panel.hidden,
            read: lastRead,
          })
        );
      } else {
        sessionStorage.removeItem(STORE_KEY);
      }
    } catch (e) {
      /* storage refused (private mode): the widget still works until the reload */
    }
  }

  function L(key) {
    var table = LABELS[locale] || LABELS.en || {};
    return table[key] || (LABELS.en && LABELS.en[key]) || key;
  }

  // ----------------------------------- DOM ---------------------------------------------

  var host = el("div", { id: "casebot-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS;
  var root = el("div", { class: "root" });

  var panel = el("div", { class: "panel", role: "dialog", id: "casebot-panel", hidden: "" });
  var head = el("div", { class: "head" });
  var title = el("h2", { id: "casebot-title" });
  var langLabel = el("label", { class: "sr", for: "casebot-lang" });
  var langSelect = el("select", { id: "casebot-lang" });
  LOCALES.forEach(function (code) {
    var opt = el("option", { value: code, lang: code }, NATIVE_NAMES[code]);
    langSelect.appendChild(opt);
  });
  var closeBtn = el("button", { type: "button", class: "close" }, "×");
  head.appendChild(title);
  head.appendChild(langLabel);
  head.appendChild(langSelect);
  head.appendChild(closeBtn);

  var log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    tabindex: "0",
  });
  var typing = el("div", { class: "typing", hidden: "" });
  var dots = el("span", { class: "dots", "aria-hidden": "true" });
  dots.innerHTML = "<i></i><i></i><i></i>";
  var typingText = el("span", { class: "sr" });
  typing.appendChild(dots);
  typing.appendChild(typingText);
  var typingStatus = el("div", { role: "status", class: "sr" }); // announces "typing" once
  var status = el("div", { class: "status", role: "status" });
  var replies = el("div", { class: "replies", role: "group" });
  var form = el("form", { class: "form", novalidate: "" });
  var inputLabel = el("label", { class: "sr", for: "casebot-input" });
  var input = el("input", {
    id: "casebot-input",
    type: "text",
    autocomplete: "off",
    maxlength: "2000",
    enterkeyhint: "send",
  });
  // Shows the password being typed, or hides it again (only while a password is asked for).
  var reveal = el("button", {
    type: "button",
    class: "reveal",
    "aria-pressed": "false",
    "aria-controls": "casebot-input",
    hidden: "",
  });
  reveal.innerHTML = EYE; // a fixed picture; its name is the aria-label, in the panel's language
  var sendBtn = el("button", { type: "submit", class: "send" });
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(reveal);
  form.appendChild(sendBtn);

  panel.appendChild(head);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(typingStatus);
  panel.appendChild(replies);
  panel.appendChild(form);

  var launcher = el("button", {
    type: "button",
    class: "launcher",
    "aria-expanded": "false",
    "aria-controls": "casebot-panel",
  });
  launcher.innerHTML = ICON;
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);

  // The panel comes first so the phone rule ".panel:not([hidden]) ~ .launcher" can hide the
  // launcher; Tab order is unaffected while the panel is closed (hidden elements are skipped).
  root.appendChild(panel);
  root.appendChild(launcher);
  shadow.appendChild(style);
  shadow.appendChild(root);

  function applyLocale() {
    var dir = RTL[locale] ? "rtl" : "ltr";
    root.setAttribute("dir", dir);
    root.setAttribute("lang", locale);
    panel.setAttribute("dir", dir);
    panel.setAttribute("lang", locale);
    panel.setAttribute("aria-labelledby", "casebot-title");
    title.textContent = L("title");
    launcher.setAttribute("aria-label", L("open"));
    launcher.setAttribute("title", L("open"));
    closeBtn.setAttribute("aria-label", L("close"));
    closeBtn.setAttribute("title", L("close"));
    langLabel.textContent = L("language");
    langSelect.setAttribute("title", L("language"));
    langSelect.value = locale;
    log.setAttribute("aria-label", L("log"));
    replies.setAttribute("aria-label", L("replies"));
    typingText.textContent = L("typing");
    applyInputLabels();
    sendBtn.textContent = L("send");
    Array.prototype.forEach.call(log.querySelectorAll(".retry"), function (b) {
      b.textContent = L("retry");
    });
    Array.prototype.forEach.call(log.querySelectorAll(".unsent-text"), function (t) {
      t.textContent = L("not_sent");
    });
    Array.prototype.forEach.call(log.querySelectorAll("time"), function (t) {
      t.textContent = clock(new Date(t.getAttribute("datetime")));
    });
    if (status.textContent) status.textContent = L("reconnecting");
  }

  // ----------------------------------- rendering ---------------------------------------

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  /** The time of day in the panel's language, on the US clock (12-hour) where the language
   * has a US form: the people this serves live in the US. */
  function clock(when) {
    if (isNaN(when.getTime())) return "";
    try {
      return new Intl.DateTimeFormat([locale + "-US", locale], {
        hour: "numeric",
        minute: "2-digit",
      }).format(when);
    } catch (e) {
      return when.toTimeString().slice(0, 5);
    }
  }

  // What in a bot's text becomes a link: US phone numbers (the Contact Center's
  // "1-800-375-5283") and https addresses. Nothing else; the text is never read as HTML.
  var LINKS = /(\b1-\d{3}-\d{3}-\d{4}\b|\b\d{3}-\d{3}-\d{4}\b|https:\/\/[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:\/[A-Za-z0-9\-._~\/?#=&%+]*)?)/;

  function linkified(text) {
    var box = el("div", { class: "text", dir: "auto" });
    String(text || "").split(LINKS).forEach(function (part, i) {
      if (!part) return;
      if (i % 2 === 0) {
        box.appendChild(document.createTextNode(part));
      } else if (/^https:/.test(part)) {
        var trimmed = part.replace(/[.,;:!?)]+$/, ""); // the sentence's own full stop
        var a = el("a", { href: trimmed, target: "_blank", rel: "noopener noreferrer" }, trimmed);
        box.appendChild(a);
        if (trimmed.length < part.length) {
          box.appendChild(document.createTextNode(part.slice(trimmed.length)));
        }
      } else {
        var digits = part.replace(/\D/g, "");
        if (digits.length === 10) digits = "1" + digits;
        // dir="ltr" keeps the number in order inside right-to-left text.
        box.appendChild(el("a", { href: "tel:+" + digits, dir: "ltr", class: "tel" }, part));
      }
    });
    return box;
  }

  function bubble(from, text, at) {
    var node = el("div", { class: "msg " + (from === "user" ? "user" : "bot") });
    // Screen readers hear who spoke; the colours say it to everyone else.
    node.appendChild(el("span", { class: "sr" }, (from === "user" ? L("you") : L("bot")) + ": "));
    // Each message takes its own direction (an English reply inside the Arabic panel).
    if (from === "user") node.appendChild(el("div", { class: "text", dir: "auto" }, text || ""));
    else node.appendChild(linkified(text));
    var when = at ? new Date(at) : new Date();
    if (!isNaN(when.getTime())) {
      node.appendChild(el("time", { datetime: when.toISOString() }, clock(when)));
    }
    return node;
  }

  function renderAttachments(node, attachments) {
    (attachments || []).forEach(function (a) {
      var url;
      try {
        url = new URL(a.url, BASE).href;
      } catch (e) {
        return;
      }
      if (a.kind === "image") {
        node.appendChild(el("img", { src: url, alt: a.name || "" }));
      } else {
        var link = el("a", { class: "file", href: url, download: a.name || "" });
        link.textContent = "⬇ " + L("download") + ": " + (a.name || url);
        node.appendChild(link);
      }
    });
  }

  var shownButtons = [];

  function showButtons(buttons) {
    shownButtons = buttons || [];
    var hadFocus = shadow.activeElement && replies.contains(shadow.activeElement);
    replies.textContent = "";
    shownButtons.forEach(function (b) {
      var btn = el("button", { type: "button" }, b.label);
      btn.addEventListener("click", function () {
        if (busy) return;
        send({ payload: b.payload }, b.label);
      });
      replies.appendChild(btn);
    });
    if (hadFocus) input.focus();
  }

  var INPUT_KINDS = ["text", "password", "digits", "code", "answer"];

  /** Make the field fit what the step asks for (a message's "input"). */
  function setInputKind(kind) {
    inputKind = INPUT_KINDS.indexOf(kind) >= 0 ? kind : "text";
    var isCode = inputKind === "digits" || inputKind === "code";
    input.type = inputKind === "password" ? "password" : "text";
    // A code comes from a phone, an email or a letter: the phone may offer it, nothing keeps it.
    input.setAttribute("autocomplete", isCode ? "one-time-code" : "off");
    if (inputKind === "digits") input.setAttribute("inputmode", "numeric");
    else input.removeAttribute("inputmode");
    if (inputKind === "text") input.removeAttribute("spellcheck");
    else input.setAttribute("spellcheck", "false");
    if (inputKind === "code") input.setAttribute("autocapitalize", "characters");
    else if (inputKind === "text") input.removeAttribute("autocapitalize");
    else input.setAttribute("autocapitalize", "off");
    reveal.hidden = inputKind !== "password";
    reveal.setAttribute("aria-pressed", "false");
    applyInputLabels();
  }

  function applyInputLabels() {
    var key = { password: "password", digits: "code", code: "code", answer: "answer" };
    inputLabel.textContent = L(key[inputKind] || "message");
    input.setAttribute("placeholder", L("type_" + (key[inputKind] || "message")));
    var shown = reveal.getAttribute("aria-pressed") === "true";
    reveal.setAttribute("aria-label", shown ? L("hide") : L("show"));
    reveal.setAttribute("title", shown ? L("hide") : L("show"));
  }

  reveal.addEventListener("click", function () {
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    reveal.setAttribute("aria-pressed", show ? "true" : "false");
    applyInputLabels();
    input.focus();
  });

  /** Render one message object from the API; false when it was already shown. */
  function addMessage(m, from) {
    if (!m) return false;
    var who = m.from || from || "bot";
    if (typeof m.id === "number") {
      if (seen[m.id]) return false;
      seen[m.id] = true;
      if (m.id > lastId) lastId = m.id;
    }
    if (who === "user") {
      var pending = pendingUser.shift();
      if (pending) {
        // Our own optimistic bubble: keep it (already masked if secret), just adopt the id.
        pending.setAttribute("data-id", String(m.id));
        return true;
      }
      var ub = bubble("user", m.text, m.at);
      if (m.id != null) ub.setAttribute("data-id", String(m.id));
      log.appendChild(ub);
      // The buttons stay: the answer, if any, brings its own; a message with none (to an
      // agent) leaves the ones shown good, "End chat" among them (after a reload too).
      scrollDown();
      return true;
    }
    botShown += 1;
    var node = bubble("bot", m.text, m.at);
    if (m.id != null) node.setAttribute("data-id", String(m.id));
    renderAttachments(node, m.attachments);
    log.appendChild(node);
    showButtons(m.buttons || []);
    setInputKind(m.input || (m.secret_input ? "password" : "text"));
    if (panel.hidden) {
      // Only what came after the person last looked: a replay after a reload is not news.
      if (typeof m.id !== "number" || m.id > lastRead) badge.hidden = false;
    } else {
      markRead();
    }
    scrollDown();
    return true;
  }

  function markRead() {
    if (lastId > lastRead) {
      lastRead = lastId;
      writeStore();
    }
  }

  function addMessages(list, from) {
    (list || []).forEach(function (m) {
      addMessage(m, from);
    });
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    typingStatus.textContent = on ? L("typing") : "";
    log.setAttribute("aria-busy", on ? "true" : "false");
    sendBtn.setAttribute("aria-disabled", on ? "true" : "false");
    Array.prototype.forEach.call(replies.querySelectorAll("button"), function (b) {
      b.setAttribute("aria-disabled", on ? "true" : "false");
    });
    if (on) scrollDown();
  }

  // ----------------------------------- network -----------------------------------------

  function api(method, path, body, key) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session) headers.Authorization = "Bearer " + session.token;
    if (key) headers["Idempotency-Key"] = key;
    return fetch(BASE + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!res.ok) {
            var err = new Error((data.error && data.error.code) || "http_" + res.status);
            err.status = res.status;
            throw err;
          }
          return data;
        });
    });
  }

  function sessionPath(suffix) {
    return "/api/chat/sessions/" + encodeURIComponent(session.session_id) + suffix;
  }

  function ensureSession() {
    if (session) return Promise.resolve(session);
    if (starting) return starting;
    starting = api("POST", "/api/chat/sessions", { locale: locale })
      .then(function (data) {
        session = { session_id: data.session_id, token: data.token };
        lastId = 0;
        seen = {};
        writeStore();
        historyLoaded = true;
        connectSocket();
        return session;
      })
      .finally(function () {
        starting = null;
      });
    return starting;
  }

  /** Fetch what we have not seen yet (after a reload: everything). */
  function catchUp() {
    if (!session) return Promise.resolve();
    return api("GET", sessionPath("/messages?after=" + lastId)).then(
      function (data) {
        addMessages(data.messages);
        historyLoaded = true;
      },
      function (err) {
        if (err.status === 401 || err.status === 403 || err.status === 404) forgetSession();
      }
    );
  }

  function forgetSession() {
    // Expired or unknown session: start afresh at the next message.
    closeSocket();
    session = null;
    lastId = 0;
    seen = {};
    writeStore();
  }

  /** A random idempotency key for one message (sent again unchanged by its Retry). */
  function newKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      })
      .join("");
  }

  function send(body, shownText) {
    if (busy) return Promise.resolve();
    var masked = inputKind !== "text" && body.text !== undefined;
    var ub = null;
    if (shownText) {
      ub = bubble("user", masked ? SECRET_MASK : shownText);
      log.appendChild(ub);
    }
    return post(body, newKey(), ub);
  }

  /** Send one message (again, with its key, after a failure) and show the answer. */
  function post(body, key, ub) {
    if (ub) pendingUser.push(ub);
    var before = shownButtons;
    var shownAtStart = botShown;
    showButtons([]);
    setBusy(true);
    status.textContent = "";
    return ensureSession()
      .then(function () {
        return api("POST", sessionPath("/messages"), body, key);
      })
      .then(function (data) {
        addMessages(data.replies, "bot");
        // No answer and nothing pushed meanwhile (a message to an agent): the server keeps
        // the buttons on screen good, so they come back.
        if (botShown === shownAtStart) showButtons(before);
      })
      .catch(function (err) {
        if (ub && ub.hasAttribute("data-id")) {
          // The server has the message (its socket sent it back): only the answer to the
          // request was lost, and the replies come on the socket or from the transcript.
          catchUp();
          return;
        }
        if (err && (err.status === 401 || err.status === 404)) forgetSession();
        // 503: the server cannot reach its records for a moment (it says when to retry);
        // 429: too many messages from this chat in the last minute; no status: the server
        // is down or restarting, or the network is gone.
        var code = err && err.status;
        status.textContent = L(code === 503 ? "unavailable" : code === 429 ? "limited" : "failed");
        showButtons(before);
        if (ub) markUnsent(ub, body, key);
      })
      .finally(function () {
        setBusy(false);
        pendingUser = [];
        var active = shadow.activeElement;
        if (!panel.hidden && (!active || active === document.body)) input.focus();
      });
  }

  /** The message did not go: say so on its bubble, its text kept, with a Retry button. */
  function markUnsent(ub, body, key) {
    ub.classList.add("failed");
    var row = el("div", { class: "unsent" });
    row.appendChild(el("span", { class: "unsent-text" }, L("not_sent")));
    var retry = el("button", { type: "button", class: "retry" }, L("retry"));
    retry.addEventListener("click", function () {
      if (busy) return;
      ub.classList.remove("failed");
      ub.removeChild(row);
      post(body, key, ub).then(function () {
        if (!ub.classList.contains("failed")) input.focus();
      });
    });
    row.appendChild(retry);
    ub.appendChild(row);
    scrollDown();
  }

  function connectSocket() {
    if (!session || ws || typeof WebSocket === "undefined") return;
    var url =
      BASE.replace(/^http/, "ws") +
      sessionPath("/ws?token=" + encodeURIComponent(session.token));
    var sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = function () {
      var wasReconnect = wsAttempt > 0;
      wsAttempt = 0;
      status.textContent = "";
      // Whatever was said while the socket was down comes from the transcript.
      if (wasReconnect || !historyLoaded) catchUp();
    };
    sock.onmessage = function (ev) {
      var data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (Array.isArray(data.messages)) addMessages(data.messages);
      else if (Array.isArray(data.replies)) addMessages(data.replies, "bot");
      else if (data && (data.text != null || data.attachments)) addMessage(data);
    };
    sock.onclose = function () {
      if (ws !== sock) return; // closed on purpose
      ws = null;
      if (session) {
        status.textContent = L("reconnecting");
        scheduleReconnect();
      }
    };
    sock.onerror = function () {
      /* onclose follows and schedules the retry */
    };
  }

  function scheduleReconnect() {
    if (wsTimer) return;
    // Exponential backoff with jitter, 0.5 s up to 30 s, so a restarted server is not stormed.
    var delay = Math.min(30000, 500 * Math.pow(2, wsAttempt)) * (0.75 + Math.random() * 0.5);
    wsAttempt += 1;
    wsTimer = setTimeout(function () {
      wsTimer = null;
      // The session may be gone (expired): check with the transcript before reconnecting.
      catchUp().then(connectSocket);
    }, delay);
  }

  function closeSocket() {
    var sock = ws;
    ws = null;
    if (wsTimer) clearTimeout(wsTimer);
    wsTimer = null;
    if (sock) sock.close();
  }

  // ----------------------------------- behaviour ---------------------------------------

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", L("close"));
    badge.hidden = true;
    markRead();
    writeStore();
    input.focus();
    scrollDown();
    if (!session) {
      // A new conversation opens with an empty message: the engine greets and shows its menu,
      // and the server keeps no bubble for it.
      send({ text: "" });
    }
  }

  function closePanel() {
    panel.hidden = true;
    writeStore();
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", L("open"));
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) openPanel();
    else closePanel();
  });
  closeBtn.addEventListener("click", closePanel);
  var PHONE = window.matchMedia ? window.matchMedia("(max-width:520px)") : null;

  /** The controls Tab can reach in the panel, in order. */
  function focusable() {
    var all = panel.querySelectorAll("button, select, input, a[href], [tabindex='0']");
    return Array.prototype.filter.call(all, function (node) {
      return !node.disabled && !node.hidden && node.getClientRects().length > 0;
    });
  }

  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      ev.preventDefault();
      closePanel();
      return;
    }
    // Full screen on a phone the chat is all there is: Tab goes round inside it, never to
    // the page hidden behind.
    if (ev.key !== "Tab" || !PHONE || !PHONE.matches) return;
    var list = focusable();
    if (!list.length) return;
    var first = list[0];
    var last = list[list.length - 1];
    var active = shadow.activeElement;
    if (ev.shiftKey && (active === first || list.indexOf(active) < 0)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (active === last || list.indexOf(active) < 0)) {
      ev.preventDefault();
      first.focus();
    }
  });

  function markModal() {
    // On a phone the panel covers the page: a modal dialog for assistive technology too.
    if (PHONE && PHONE.matches) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
  }
  if (PHONE && PHONE.addEventListener) PHONE.addEventListener("change", markModal);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = ""; // a secret leaves the field (and the DOM) at once
    send({ text: text }, text);
  });
  langSelect.addEventListener("change", function () {
    var chosen = normalizeLocale(langSelect.value);
    if (!chosen || chosen === locale) return;
    locale = chosen;
    applyLocale();
    writeStore();
    chooseLanguage(chosen);
  });

  function languageButton(code) {
    var wanted = new RegExp("(^|:)g:setlang:" + code + "$");
    for (var i = 0; i < shownButtons.length; i++) {
      if (wanted.test(shownButtons[i].payload)) return shownButtons[i];
    }
    return null;
  }

  /**
   * Switch the conversation's language: the chosen language's button when the engine's picker
   * is on screen, else the current prompt's language switch (its sequence number read off the
   * buttons shown, or 0 when none is shown), which the server shows as no bubble; the engine
   * keeps the conversation's place and shows the step again in the new language.
   */
  function chooseLanguage(code) {
    var button = languageButton(code);
    if (button) return send({ payload: button.payload }, button.label);
    // The current prompt's number, read off any button it shows ("12:g:menu").
    var seq = null;
    for (var i = 0; i < shownButtons.length && seq === null; i++) {
      var found = /^(\d+):/.exec(shownButtons[i].payload);
      if (found) seq = found[1];
    }
    // No buttons on screen (a step that only takes text): number 0, as a language switch is
    // never a stale button to the server.
    return send({ payload: (seq !== null ? seq : "0") + ":g:setlang:" + code });
  }

  applyLocale();
  markModal();

  function mount() {
    document.body.appendChild(host);
    if (session) {
      // After a reload: the panel as it was, the transcript replayed, then pushes.
      if (wasOpen) {
        panel.hidden = false;
        launcher.setAttribute("aria-expanded", "true");
        launcher.setAttribute("aria-label", L("close"));
      }
      catchUp().then(function () {
        if (!panel.hidden) markRead();
        scrollDown();
        connectSocket();
      });
    }
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // A small hook for the demo page and tests; not an API.
  window.casebotWidget = {
    open: openPanel,
    close: closePanel,
    _dropSocket: function () {
      if (ws) ws.close();
    },
  };
})();
