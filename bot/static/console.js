/* casebot agent console: sign-in, set-up, the availability switch.
 *
 * Every text a person or the server wrote is put into the page with textContent, never as
 * HTML: people's messages are hostile input here. The page's own words come from LABELS (the
 * console is in English; a language is one more table). The console token lives in this
 * tab's sessionStorage and goes in the Authorization header only.
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
      failed: "Something went wrong. Try again."
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
    if (result.status === 401) { startSignIn(t("session_ended")); return true; }
    return false;
  }

  function loadConsole() {
    api("GET", "/api/console/me").then(function (result) {
      if (refused(result)) { return; }
      if (result.status !== 200 || !result.data) { say($("notice"), problem(result)); return; }
      showMe(result.data);
      view("console");
      $("availability").focus();
    });
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
