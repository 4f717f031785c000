/* casebot agent console: sign-in, set-up, the availability switch.
 *
 * Every text a person or the server wrote is put into the page with textContent, never as
 * HTML: people's messages are hostile input here. The page's own words come from LABELS (the
 * console is in English; a language is one more table). The console token lives in this
 * tab's sessionStorage and goes in the Authorization header only (and in the live feed's
 * address: a browser cannot set a header on a WebSocket).
 *
 * The desk: the waiting line (live from /api/console/ws, and read again every 10 seconds
 * should the socket be down), claiming, the conversation (the bot's transcript, the live
 * chat, a signed-in person's cases and appointments), replies with canned ones, transfer,
 * close with an outcome, and the secure messages with their replies.
 *
 * A supervisor also sees the waiting-time figures of every line (/api/console/stats), read
 * again on every change the live feed tells of and every 30 seconds (the longest wait grows).
 */
(function () {
  "use strict";

  var LABELS = {
    en: {
      title: "casebot console",
      sign_in_title: "Sign in",
      email: "Email",
      password: "Password",
      code: "Authenticator code",
      sign_in: "Sign in",
      sign_out: "Sign out",
      setup_title: "Set up your account",
      setup_intro: "Choose a password of at least 8 characters (a few words is best).",
      new_password: "New password",
      repeat_password: "Repeat the password",
      continue: "Continue",
      enrol_intro: "Scan this code with your authenticator app, or type the key into it. " +
        "Then type the code the app shows.",
      key: "Key:",
      qr_alt: "QR code for your authenticator app",
      finish_setup: "Finish set-up",
      setup_done: "Your account is ready. Sign in with your email, password and a code.",
      passwords_differ: "The two passwords are not the same.",
      fill_all: "Fill in every field.",
      available: "Available",
      away: "Away",
      queue_title: "Waiting people",
      queue_empty: "No one is waiting.",
      hours_open: "Agents' hours: open now.",
      hours_closed: "Agents' hours: closed. Next opening: ",
      session_ended: "Your session ended. Sign in again.",
      signed_out: "You are signed out.",
      network: "The server cannot be reached. Try again.",
      secure_title: "Secure messages",
      secure_empty: "No messages to answer.",
      conversation_title: "Conversation",
      bot_transcript: "With the assistant",
      live_messages: "Live chat",
      canned: "Canned reply",
      canned_none: "Choose a canned reply",
      reply: "Reply",
      send: "Send",
      transfer_to: "Transfer to the line of",
      transfer: "Transfer",
      outcome: "Outcome",
      outcome_resolved: "Resolved",
      outcome_referred: "Referred",
      outcome_no_response: "No response",
      outcome_other: "Other",
      close: "Close the chat",
      claim: "Claim",
      open: "Open",
      answer: "Answer",
      waiting_for: "waiting",
      signed_in: "signed in",
      not_signed_in: "not signed in",
      topic: "topic",
      claimed_by_other: "Someone else took this conversation.",
      closed: "The conversation is closed.",
      transferred: "The conversation was transferred.",
      sender_person: "Person",
      sender_bot: "Assistant",
      sender_agent: "Agent",
      masked: "(a password or code: hidden)",
      event_requested: "asked for a person",
      event_claimed: "an agent joined",
      event_transferred: "transferred",
      event_withheld: "a password or code was held back",
      event_closed: "closed",
      event_ended_by_person: "the person ended the chat",
      cases: "Cases",
      appointments: "Appointments",
      none: "none",
      answered: "Answered.",
      failed: "Something went wrong. Try again.",
      stats_title: "Waiting-time figures",
      stats_line: "Line",
      stats_waiting: "Waiting now",
      stats_longest: "Longest wait now",
      stats_with_agent: "With an agent",
      stats_p50: "Wait p50",
      stats_p95: "Wait p95",
      stats_claims: "Claims",
      stats_handled: "Handled today",
      stats_abandoned: "Abandoned today",
      stats_all: "All lines",
      stats_day: "Today: since midnight, time zone",
      stats_window: "Waits p50 and p95: from the request to an agent's first claim, " +
        "over the last",
      unit_s: "s",
      unit_min: "min",
      unit_h: "h"
    }
  };
  var lang = "en";
  var TOKEN_KEY = "casebot.console.token";

  function t(key) {
    var table = LABELS[lang] || LABELS.en;
    return table[key] || LABELS.en[key] || key;
  }
  function $(id) { return document.getElementById(id); }
  function show(node, visible) { node.hidden = !visible; }
  function say(node, text) {
    node.textContent = text || "";
    show(node, Boolean(text));
  }

  function token() { return window.sessionStorage.getItem(TOKEN_KEY); }
  function keepToken(value) {
    if (value) { window.sessionStorage.setItem(TOKEN_KEY, value); }
    else { window.sessionStorage.removeItem(TOKEN_KEY); }
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var current = token();
    if (current) { headers.Authorization = "Bearer " + current; }
    var options = { method: method, headers: headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return window.fetch(path, options).then(function (response) {
      if (response.status === 204) { return { status: 204, data: null }; }
      return response.json().then(
        function (data) { return { status: response.status, data: data }; },
        function () { return { status: response.status, data: null }; }
      );
    }, function () { return { status: 0, data: null }; });
  }

  function problem(result) {
    if (result.status === 0) { return t("network"); }
    if (result.data && result.data.error && typeof result.data.error.message === "string") {
      return result.data.error.message;
    }
    return t("failed");
  }

  function applyLabels() {
    var nodes = document.querySelectorAll("[data-label]");
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = t(nodes[i].getAttribute("data-label"));
    }
    document.title = t("title");
    $("enrol-qr").alt = t("qr_alt");
  }

  function view(name) {
    show($("view-signin"), name === "signin");
    show($("view-setup"), name === "setup");
    show($("view-console"), name === "console");
    show($("who"), name === "console");
  }

  /* --- sign-in ---------------------------------------------------------------------- */

  function startSignIn(notice) {
    keepToken(null);
    say($("notice"), notice || "");
    say($("signin-error"), "");
    $("signin-password").value = "";
    $("signin-code").value = "";
    view("signin");
    $(($("signin-email").value ? "signin-password" : "signin-email")).focus();
  }

  function onSignIn(event) {
    event.preventDefault();
    var email = $("signin-email").value.trim();
    var password = $("signin-password").value;
    var code = $("signin-code").value.trim();
    if (!email || !password || !code) { say($("signin-error"), t("fill_all")); return; }
    api("POST", "/api/console/sessions", { email: email, password: password, code: code })
      .then(function (result) {
        $("signin-code").value = "";
        if (result.status !== 201 || !result.data || typeof result.data.token !== "string") {
          say($("signin-error"), problem(result));
          $("signin-code").focus();
          return;
        }
        $("signin-password").value = "";
        keepToken(result.data.token);
        say($("notice"), "");
        loadConsole();
      });
  }

  /* --- set-up ------------------------------------------------------------------------ */

  var setupCode = null;

  function startSetup(code) {
    setupCode = code;
    // The code stays in memory only: out of the address bar and the history.
    window.history.replaceState(null, "", window.location.pathname);
    show($("setup-form"), true);
    show($("enrol-form"), false);
    view("setup");
    $("setup-password").focus();
  }

  function onSetup(event) {
    event.preventDefault();
    var password = $("setup-password").value;
    if (!password) { say($("setup-error"), t("fill_all")); return; }
    if (password !== $("setup-repeat").value) {
      say($("setup-error"), t("passwords_differ"));
      return;
    }
    api("POST", "/api/console/setup", { code: setupCode, password: password })
      .then(function (result) {
        if (result.status !== 200 || !result.data) { say($("setup-error"), problem(result)); return; }
        say($("setup-error"), "");
        $("setup-password").value = "";
        $("setup-repeat").value = "";
        $("enrol-secret").textContent = String(result.data.secret || "");
        var qr = String(result.data.qr_png || "");
        if (qr.indexOf("data:image/png;base64,") === 0) { $("enrol-qr").src = qr; }
        $("signin-email").value = String(result.data.email || "");
        show($("setup-form"), false);
        show($("enrol-form"), true);
        $("enrol-code").focus();
      });
  }

  function onEnrol(event) {
    event.preventDefault();
    var code = $("enrol-code").value.trim();
    if (!code) { say($("enrol-error"), t("fill_all")); return; }
    api("POST", "/api/console/setup/confirm", { code: setupCode, totp: code })
      .then(function (result) {
        $("enrol-code").value = "";
        if (result.status !== 200) { say($("enrol-error"), problem(result)); return; }
        setupCode = null;
        $("enrol-secret").textContent = "";
        $("enrol-qr").removeAttribute("src");
        startSignIn(t("setup_done"));
      });
  }

  /* --- the console ------------------------------------------------------------------- */

  function showMe(me) {
    $("me-name").textContent = String(me.display_name || "");
    $("me-languages").textContent = (me.languages || []).join(", ").toUpperCase();
    $("availability").checked = Boolean(me.available);
    $("availability-label").textContent = t(me.available ? "available" : "away");
    var hours = me.hours || {};
    if (hours.open) {
      $("hours").textContent = t("hours_open");
    } else {
      var next = new Date(String(hours.next_opening || ""));
      $("hours").textContent = t("hours_closed") +
        (isNaN(next.getTime()) ? "" : next.toLocaleString());
    }
  }

  function refused(result) {
    if (result.status === 401) { stopDesk(); startSignIn(t("session_ended")); return true; }
    return false;
  }

  function loadConsole() {
    api("GET", "/api/console/me").then(function (result) {
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) { say($("notice"), problem(result)); return; }
      showMe(result.data);
      view("console");
      startDesk(result.data);
      $("availability").focus();
    });
  }

  /* --- the desk ------------------------------------------------------------------------ */

  var LANGUAGES = ["en", "es", "zh", "vi", "tl", "ko", "ar", "fr", "ht", "pt", "ru"];
  var desk = {
    me: null, socket: null, poll: null, current: null, retry: null,
    statsPoll: null, statsBusy: false, statsAgain: false
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function button(label, onClick) {
    var node = el("button", "", label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }
  function minutes(seconds) {
    var value = Math.max(0, Number(seconds) || 0);
    return value < 60 ? value + " s" : Math.floor(value / 60) + " min";
  }

  function startDesk(me) {
    desk.me = me;
    var select = $("transfer-language");
    if (!select.options.length) {
      LANGUAGES.forEach(function (code) {
        var option = el("option", "", code.toUpperCase());
        option.value = code;
        select.appendChild(option);
      });
    }
    refreshQueue();
    refreshSecure();
    var supervisor = me.role === "supervisor";
    show($("stats"), supervisor);
    if (supervisor) {
      if (!desk.statsPoll) { desk.statsPoll = window.setInterval(refreshStats, 30000); }
      refreshStats();
    }
    connect();
    if (!desk.poll) {
      desk.poll = window.setInterval(function () {
        if (!desk.socket) { refreshQueue(); refreshSecure(); }
      }, 10000);
    }
  }

  function stopDesk() {
    if (desk.poll) { window.clearInterval(desk.poll); desk.poll = null; }
    if (desk.retry) { window.clearTimeout(desk.retry); desk.retry = null; }
    if (desk.statsPoll) { window.clearInterval(desk.statsPoll); desk.statsPoll = null; }
    show($("stats"), false);
    if (desk.socket) { var old = desk.socket; desk.socket = null; old.close(); }
    desk.current = null;
    show($("conversation"), false);
  }

  function connect() {
    var current = token();
    if (!current || desk.socket) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new window.WebSocket(
      scheme + window.location.host + "/api/console/ws?token=" + encodeURIComponent(current));
    desk.socket = socket;
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      onFrame(frame);
    });
    socket.addEventListener("close", function () {
      if (desk.socket !== socket) { return; }
      desk.socket = null;
      if (token()) { desk.retry = window.setTimeout(connect, 3000); }
    });
  }

  function onFrame(frame) {
    if (!frame || typeof frame !== "object") { return; }
    if (frame.type === "secure_message") { refreshSecure(); return; }
    if (frame.type !== "handoff") { return; }
    refreshQueue();
    if (desk.statsPoll) { refreshStats(); }
    if (desk.current !== null && frame.id === desk.current) { openConversation(desk.current); }
  }

  /* --- the supervisors' figures -------------------------------------------------------- */

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return t("none"); }
    var value = Math.max(0, Math.floor(Number(seconds) || 0));
    if (value < 60) { return value + " " + t("unit_s"); }
    if (value < 3600) {
      var rest = value % 60;
      return Math.floor(value / 60) + " " + t("unit_min") + (rest ? " " + rest + " " + t("unit_s") : "");
    }
    return Math.floor(value / 3600) + " " + t("unit_h") + " " +
      Math.floor((value % 3600) / 60) + " " + t("unit_min");
  }

  function figuresRow(name, line) {
    var row = el("tr");
    var head = el("th", "", name);
    head.scope = "row";
    row.appendChild(head);
    [
      String(Number(line.waiting) || 0),
      duration(line.longest_wait_seconds),
      String(Number(line.with_agent) || 0),
      duration(line.wait_p50_seconds),
      duration(line.wait_p95_seconds),
      String(Number(line.claims) || 0),
      String(Number(line.handled_today) || 0),
      String(Number(line.abandoned_today) || 0)
    ].forEach(function (text) { row.appendChild(el("td", "", text)); });
    return row;
  }

  function renderStats(stats) {
    var hours = Math.round((Number(stats.window_seconds) || 0) / 3600);
    $("stats-note").textContent = t("stats_day") + " " + String(stats.time_zone || "") + ". " +
      t("stats_window") + " " + hours + " " + t("unit_h") + ".";
    var body = $("stats-body");
    clear(body);
    (stats.languages || []).forEach(function (line) {
      body.appendChild(figuresRow(String(line.language || "").toUpperCase(), line));
    });
    var all = $("stats-all");
    clear(all);
    if (stats.all) { all.appendChild(figuresRow(t("stats_all"), stats.all)); }
  }

  function refreshStats() {
    // One request at a time: changes told meanwhile are read once, after it.
    if (desk.statsBusy) { desk.statsAgain = true; return; }
    desk.statsBusy = true;
    api("GET", "/api/console/stats").then(function (result) {
      desk.statsBusy = false;
      if (refused(result)) { return; }
      if (result.status === 200 && result.data && desk.statsPoll) { renderStats(result.data); }
      if (desk.statsAgain && desk.statsPoll) { desk.statsAgain = false; refreshStats(); }
    });
  }

  function refreshQueue() {
    api("GET", "/api/console/queue").then(function (result) {
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) { return; }
      renderQueue(result.data.waiting || []);
    });
  }

  function renderQueue(waiting) {
    var box = $("queue");
    clear(box);
    if (!waiting.length) { box.appendChild(el("p", "empty", t("queue_empty"))); return; }
    var list = el("ul");
    waiting.forEach(function (entry) {
      var item = el("li", "item");
      item.setAttribute("data-conversation", String(entry.conversation_id));
      var what = String(entry.language || "").toUpperCase() + " · " + String(entry.channel || "") +
        " · " + t("waiting_for") + " " + minutes(entry.waiting_seconds) + " · " +
        t(entry.signed_in ? "signed_in" : "not_signed_in");
      item.appendChild(el("span", "what", what));
      if (entry.topic) { item.appendChild(el("span", "what", t("topic") + ": " + entry.topic)); }
      item.appendChild(button(t("claim"), function () { claim(entry.conversation_id); }));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function claim(id) {
    api("POST", "/api/console/conversations/" + id + "/claim").then(function (result) {
      if (refused(result)) { return; }
      if (result.status === 409) { say($("notice"), t("claimed_by_other")); refreshQueue(); return; }
      if (result.status !== 200) { say($("notice"), problem(result)); return; }
      say($("notice"), "");
      refreshQueue();
      openConversation(id);
    });
  }

  function lineOf(line) {
    var sender = String(line.sender || "");
    var item = el("li", sender);
    if (sender === "system") {
      item.textContent = line.masked ? t("masked") : t("event_" + String(line.event || ""));
      return item;
    }
    item.appendChild(el("span", "who", t("sender_" + sender)));
    item.appendChild(document.createTextNode(line.masked ? t("masked") : String(line.text || "")));
    return item;
  }

  function renderLines(node, lines) {
    clear(node);
    (lines || []).forEach(function (line) { node.appendChild(lineOf(line)); });
    node.scrollTop = node.scrollHeight;
  }

  function renderContext(context) {
    var box = $("context");
    clear(box);
    var cases = (context && context.cases) || [];
    var visits = (context && context.appointments) || [];
    box.appendChild(el("p", "", t("cases") + ": " + (cases.length ? cases.map(function (c) {
      return String(c.receipt) + " " + String(c.form_type) + " (" + String(c.status) + ")";
    }).join("; ") : t("none"))));
    box.appendChild(el("p", "", t("appointments") + ": " + (visits.length ? visits.map(function (v) {
      return String(v.kind) + ", " + String(v.office) + ", " + new Date(String(v.starts_at)).toLocaleString();
    }).join("; ") : t("none"))));
  }

  function openConversation(id) {
    desk.current = id;
    api("GET", "/api/console/conversations/" + id).then(function (result) {
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) { say($("notice"), problem(result)); return; }
      var found = result.data;
      show($("conversation"), true);
      $("conversation-meta").textContent = String(found.language || "").toUpperCase() + " · " +
        String(found.channel || "") + " · " + String(found.status || "") +
        (found.topic ? " · " + t("topic") + ": " + found.topic : "");
      renderContext(found.context);
      renderLines($("bot-transcript"), found.bot_transcript);
      renderLines($("messages"), found.messages);
      var mine = found.status === "claimed" && desk.me && found.staff_id === desk.me.id;
      $("reply-send").disabled = !mine;
      $("transfer").disabled = !mine;
      $("close").disabled = !mine;
      loadCanned(String(found.language || "en"));
    });
  }

  var cannedFor = null;
  function loadCanned(language) {
    if (cannedFor === language) { return; }
    cannedFor = language;
    api("GET", "/api/console/canned?language=" + encodeURIComponent(language)).then(function (result) {
      var select = $("canned");
      while (select.options.length > 1) { select.remove(1); }
      if (result.status !== 200 || !result.data) { return; }
      (result.data.replies || []).forEach(function (reply) {
        var option = el("option", "", reply.label);
        option.value = String(reply.text || "");
        select.appendChild(option);
      });
    });
  }

  function onCanned() {
    var value = $("canned").value;
    if (value) { $("reply-text").value = value; $("reply-text").focus(); }
    $("canned").selectedIndex = 0;
  }

  function onReply(event) {
    event.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text || desk.current === null) { return; }
    var id = desk.current;
    api("POST", "/api/console/conversations/" + id + "/messages", { text: text })
      .then(function (result) {
        if (refused(result)) { return; }
        if (result.status !== 201) { say($("reply-error"), problem(result)); return; }
        say($("reply-error"), "");
        $("reply-text").value = "";
        openConversation(id);
      });
  }

  function onTransfer() {
    if (desk.current === null) { return; }
    var id = desk.current;
    api("POST", "/api/console/conversations/" + id + "/transfer",
        { language: $("transfer-language").value })
      .then(function (result) {
        if (refused(result)) { return; }
        if (result.status !== 200) { say($("notice"), problem(result)); return; }
        say($("notice"), t("transferred"));
        openConversation(id);
        refreshQueue();
      });
  }

  function onClose() {
    if (desk.current === null) { return; }
    var id = desk.current;
    api("POST", "/api/console/conversations/" + id + "/close", { outcome: $("outcome").value })
      .then(function (result) {
        if (refused(result)) { return; }
        if (result.status !== 200) { say($("notice"), problem(result)); return; }
        say($("notice"), t("closed"));
        openConversation(id);
      });
  }

  function refreshSecure() {
    api("GET", "/api/console/messages").then(function (result) {
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) { return; }
      renderSecure(result.data.messages || []);
    });
  }

  function renderSecure(messages) {
    var box = $("secure");
    clear(box);
    if (!messages.length) { box.appendChild(el("p", "empty", t("secure_empty"))); return; }
    var list = el("ul");
    messages.forEach(function (message) {
      var item = el("li", "item");
      item.setAttribute("data-secure", String(message.id));
      item.appendChild(el("span", "what", String(message.language || "").toUpperCase() + " · " +
        String(message.channel || "") + " · " + t(message.signed_in ? "signed_in" : "not_signed_in")));
      item.appendChild(el("span", "said", message.text));
      var field = el("textarea");
      field.rows = 2;
      field.maxLength = 2000;
      field.setAttribute("aria-label", t("reply"));
      item.appendChild(field);
      var error = el("p", "error");
      error.hidden = true;
      item.appendChild(error);
      item.appendChild(button(t("answer"), function () {
        var text = field.value.trim();
        if (!text) { return; }
        api("POST", "/api/console/messages/" + message.id + "/reply", { text: text })
          .then(function (result) {
            if (refused(result)) { return; }
            if (result.status !== 200) { say(error, problem(result)); return; }
            say($("notice"), t("answered"));
            refreshSecure();
          });
      }));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function onAvailability() {
    var wanted = $("availability").checked;
    $("availability").disabled = true;
    api("POST", "/api/console/me/availability", { available: wanted }).then(function (result) {
      $("availability").disabled = false;
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) {
        $("availability").checked = !wanted;
        say($("notice"), problem(result));
        return;
      }
      say($("notice"), "");
      showMe(result.data);
    });
  }

  function onSignOut() {
    stopDesk();
    api("DELETE", "/api/console/sessions/current").then(function () {
      startSignIn(t("signed_out"));
    });
  }

  function start() {
    applyLabels();
    $("signin-form").addEventListener("submit", onSignIn);
    $("setup-form").addEventListener("submit", onSetup);
    $("enrol-form").addEventListener("submit", onEnrol);
    $("availability").addEventListener("change", onAvailability);
    $("sign-out").addEventListener("click", onSignOut);
    $("reply-form").addEventListener("submit", onReply);
    $("canned").addEventListener("change", onCanned);
    $("transfer").addEventListener("click", onTransfer);
    $("close").addEventListener("click", onClose);
    var hash = window.location.hash;
    if (hash.indexOf("#setup=") === 0) {
      startSetup(decodeURIComponent(hash.slice("#setup=".length)));
    } else if (token()) {
      loadConsole();
    } else {
      startSignIn("");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
