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
 * - The language picker switches the language inside the same session, through the engine's
 *   own picker (it sends "language", then presses the chosen language's button): the
 *   conversation keeps its place (half a booking is not lost) and the engine shows the current
 *   step again in the new language. A new session per language would throw the conversation
 *   away. The widget's own labels switch at once.
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
    ".root{font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans Arabic',",
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
    ".head select{max-width:9.5em;font:inherit;font-size:14px;padding:4px;border-radius:6px;",
    "border:1px solid #fff;background:#fff;color:#1b1b1b}",
    ".close{border:0;background:transparent;color:#fff;font-size:24px;line-height:1;",
    "width:36px;height:36px;border-radius:6px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;",
    "background:#f5f6f7}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".msg.bot{align-self:flex-start;background:#fff;border:1px solid #dfe1e2;",
    "border-end-start-radius:4px}",
    ".msg.user{align-self:flex-end;background:#1a4480;color:#fff;border-end-end-radius:4px}",
    ".msg img{display:block;max-width:100%;margin-top:8px;border-radius:6px;background:#fff}",
    ".msg a{color:#1a4480;font-weight:600}",
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
    ".replies button{font:inherit;font-size:14px;padding:6px 12px;border-radius:16px;",
    "border:1px solid #1a4480;background:#fff;color:#1a4480;cursor:pointer;text-align:start}",
    ".replies button:hover{background:#e8eef7}",
    ".form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #dfe1e2}",
    ".form input{flex:1;min-width:0;font:inherit;padding:8px 10px;border:1px solid #71767a;",
    "border-radius:8px}",
    ".form input[type=password]{background:#fff8e5}",
    ".send{font:inherit;padding:8px 14px;border:0;border-radius:8px;background:#1a4480;",
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
  var secretMode = false;
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
          JSON.stringify({ session_id: session.session_id, token: session.token, locale: locale })
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
  var sendBtn = el("button", { type: "submit", class: "send" });
  form.appendChild(inputLabel);
  form.appendChild(input);
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
    inputLabel.textContent = secretMode ? L("secret") : L("message");
    sendBtn.textContent = L("send");
    if (status.textContent) status.textContent = L("reconnecting");
  }

  // ----------------------------------- rendering ---------------------------------------

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(from, text) {
    var node = el("div", { class: "msg " + (from === "user" ? "user" : "bot") });
    // Screen readers hear who spoke; the colours say it to everyone else.
    node.appendChild(el("span", { class: "sr" }, (from === "user" ? L("you") : L("bot")) + ": "));
    // Each message takes its own direction (an English reply inside the Arabic panel).
    node.appendChild(el("div", { class: "text", dir: "auto" }, text || ""));
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

  function setSecret(on) {
    secretMode = !!on;
    input.type = secretMode ? "password" : "text";
    // Password managers may fill sign-in passwords; codes should never be remembered.
    input.setAttribute("autocomplete", secretMode ? "off" : "off");
    inputLabel.textContent = secretMode ? L("secret") : L("message");
  }

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
      var ub = bubble("user", m.text);
      if (m.id != null) ub.setAttribute("data-id", String(m.id));
      log.appendChild(ub);
      showButtons([]);
      scrollDown();
      return true;
    }
    var node = bubble("bot", m.text);
    if (m.id != null) node.setAttribute("data-id", String(m.id));
    renderAttachments(node, m.attachments);
    log.appendChild(node);
    showButtons(m.buttons || []);
    setSecret(!!m.secret_input);
    if (panel.hidden) badge.hidden = false;
    scrollDown();
    return true;
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

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session) headers.Authorization = "Bearer " + session.token;
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

  function send(body, shownText) {
    if (busy) return Promise.resolve();
    var wasSecret = secretMode && body.text !== undefined;
    if (shownText) {
      var ub = bubble("user", wasSecret ? SECRET_MASK : shownText);
      log.appendChild(ub);
      pendingUser.push(ub);
    }
    showButtons([]);
    setBusy(true);
    status.textContent = "";
    return ensureSession()
      .then(function () {
        return api("POST", sessionPath("/messages"), body);
      })
      .then(function (data) {
        addMessages(data.replies, "bot");
      })
      .catch(function (err) {
        if (err && (err.status === 401 || err.status === 404)) forgetSession();
        // 503: the server cannot reach its records for a moment (it says when to retry);
        // 429: too many messages from this chat in the last minute.
        var code = err && err.status;
        status.textContent = L(code === 503 ? "unavailable" : code === 429 ? "limited" : "failed");
        showButtons(shownButtons);
      })
      .finally(function () {
        setBusy(false);
        pendingUser = [];
        var active = shadow.activeElement;
        if (!panel.hidden && (!active || active === document.body)) input.focus();
      });
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
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", L("open"));
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) openPanel();
    else closePanel();
  });
  closeBtn.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      ev.preventDefault();
      closePanel();
    }
  });
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
   * Switch the conversation's language through the engine's own picker: "language" opens it
   * (a command word in every locale, never read as a secret), then we press the chosen
   * language's button. Button payloads carry the prompt's sequence number, so a payload cannot
   * be made up here; the engine keeps the conversation's place and shows the step again.
   */
  function chooseLanguage(code) {
    var button = languageButton(code);
    var opened = button ? Promise.resolve() : send({ text: "language" }, "language");
    return opened.then(function () {
      var chosen = languageButton(code);
      if (chosen) return send({ payload: chosen.payload }, chosen.label);
    });
  }

  applyLocale();

  function mount() {
    document.body.appendChild(host);
    if (session) {
      // After a reload: replay the transcript, then listen for pushes.
      catchUp().then(connectSocket);
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
