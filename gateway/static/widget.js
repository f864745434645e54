/* The clinic's voice and text chat widget. One script tag embeds it on any page of a site the
 * gateway lists in WIDGET_ALLOWED_ORIGINS:
 *   <script src="https://assistant.example-clinic.com/widget.js" defer></script>
 * Typed input always works; the microphone appears where the browser has speech recognition;
 * replies are read aloud in short pieces after a spoken question (or with "Read replies aloud").
 * The conversation is kept in this browser (localStorage) and survives a reload. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/widget.js", window.location.href).origin;
  var KEY = "clinic-assistant:" + base;
  var state = load();
  var lastInputWasVoice = false;

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY) || "null");
      if (saved && saved.sender && Array.isArray(saved.history)) return saved;
    } catch (e) { /* a broken store starts afresh */ }
    return fresh(false);
  }
  function fresh(open) {
    var random = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID()
      : String(Math.random()).slice(2) + String(Date.now());
    return { sender: random.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64), history: [], open: open };
  }
  function save() {
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function build(config) {
    var colours = config.colours || {};
    var style = el("style");
    style.textContent =
      ".ca-launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;" +
      "padding:12px 18px;font:600 15px system-ui,sans-serif;color:#fff;background:" + colours.primary + ";cursor:pointer}" +
      ".ca-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:min(380px,92vw);height:min(560px,75vh);" +
      "display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.25);" +
      "font:15px/1.4 system-ui,sans-serif;color:#1b1b1b}" +
      ".ca-panel[hidden]{display:none}" +
      ".ca-head{padding:12px 16px;background:" + colours.primary + ";color:#fff;border-radius:12px 12px 0 0;display:flex;justify-content:space-between;align-items:center}" +
      ".ca-head h2{font-size:16px;margin:0}.ca-close{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}" +
      ".ca-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}" +
      ".ca-msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap}" +
      ".ca-bot{background:#f1f1f1;align-self:flex-start}.ca-me{background:" + colours.primary + ";color:#fff;align-self:flex-end}" +
      ".ca-chips{display:flex;flex-wrap:wrap;gap:6px}.ca-chip{border:2px solid " + colours.primary + ";background:" + colours.accent +
      ";color:#1b1b1b;border-radius:16px;padding:4px 10px;cursor:pointer;font:inherit}" +
      ".ca-form{display:flex;gap:6px;padding:10px;border-top:1px solid #ddd;align-items:center}" +
      ".ca-form input[type=text]{flex:1;padding:8px;border:1px solid #888;border-radius:8px;font:inherit}" +
      ".ca-form button{padding:8px 10px;border-radius:8px;border:1px solid " + colours.primary + ";background:#fff;cursor:pointer;font:inherit}" +
      ".ca-mic[aria-pressed=true]{background:" + colours.accent + "}" +
      ".ca-speak{font-size:13px;padding:0 12px 8px}" +
      ".ca-sr{position:absolute;left:-9999px}" +
      ".ca-chip:focus,.ca-form button:focus,.ca-launch:focus,.ca-close:focus{outline:3px solid #000;outline-offset:2px}";
    document.head.appendChild(style);

    var launch = el("button", { "class": "ca-launch", "type": "button", "aria-expanded": "false",
      "aria-controls": "ca-panel" }, "Chat with " + config.name);
    var panel = el("section", { "class": "ca-panel", "id": "ca-panel", "role": "dialog",
      "aria-label": config.assistant_name || "Assistant", "hidden": "" });
    var head = el("div", { "class": "ca-head" });
    head.appendChild(el("h2", {}, config.assistant_name || config.name));
    var close = el("button", { "class": "ca-close", "type": "button", "aria-label": "Close the chat" }, "×");
    head.appendChild(close);
    var log = el("div", { "class": "ca-log", "role": "log", "aria-live": "polite", "aria-label": "Conversation" });
    var form = el("form", { "class": "ca-form" });
    var label = el("label", { "for": "ca-input", "class": "ca-sr" }, "Your message");
    var input = el("input", { "id": "ca-input", "type": "text", "autocomplete": "off", "maxlength": "1000",
      "placeholder": "Ask about microneedling…" });
    var send = el("button", { "type": "submit" }, "Send");
    form.appendChild(label); form.appendChild(input); form.appendChild(send);
    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    var mic = null;
    if (Recognition) {
      mic = el("button", { "class": "ca-mic", "type": "button", "aria-pressed": "false",
        "aria-label": "Speak your question" });
      // A drawn microphone: an emoji would depend on the visitor's fonts.
      mic.innerHTML = '<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" ' +
        'focusable="false" fill="none" stroke="currentColor" stroke-width="2" ' +
        'stroke-linecap="round"><rect x="9" y="2" width="6" height="12" rx="3"/>' +
        '<path d="M5 11a7 7 0 0 0 14 0M12 18v4M8 22h8"/></svg>';
      form.appendChild(mic);
    }
    var speakRow = el("label", { "class": "ca-speak" });
    var speakBox = el("input", { "type": "checkbox", "id": "ca-speak" });
    speakRow.appendChild(speakBox); speakRow.appendChild(document.createTextNode(" Read replies aloud"));
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(form);
    if (window.speechSynthesis) panel.appendChild(speakRow);
    document.body.appendChild(launch); document.body.appendChild(panel);

    function show(open) {
      state.open = open; save();
      panel.hidden = !open;
      launch.setAttribute("aria-expanded", String(open));
      if (open) input.focus(); else launch.focus();
    }
    launch.addEventListener("click", function () { show(panel.hidden); });
    close.addEventListener("click", function () { show(false); });
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") show(false); });

    function render(entry) {
      var bubble = el("div", { "class": "ca-msg " + (entry.from === "me" ? "ca-me" : "ca-bot") }, entry.text);
      log.appendChild(bubble);
      if (entry.buttons && entry.buttons.length) {
        var chips = el("div", { "class": "ca-chips", "role": "group", "aria-label": "Suggested answers" });
        entry.buttons.forEach(function (b) {
          var chip = el("button", { "class": "ca-chip", "type": "button" }, b.title);
          chip.addEventListener("click", function () { ask(b.payload, b.title, false); });
          chips.appendChild(chip);
        });
        log.appendChild(chips);
      }
      log.scrollTop = log.scrollHeight;
    }
    function remember(entry) { state.history.push(entry); state.history = state.history.slice(-100); save(); render(entry); }

    function speak(text) {
      if (!window.speechSynthesis || !(lastInputWasVoice || speakBox.checked)) return;
      // Short pieces, a sentence or so each, so a long answer can be interrupted between them.
      var pieces = text.replace(/\s+/g, " ").match(/[^.!?]+[.!?]*/g) || [];
      pieces.forEach(function (piece) {
        piece = piece.trim();
        if (piece) window.speechSynthesis.speak(new window.SpeechSynthesisUtterance(piece));
      });
    }

    function ask(message, shown, byVoice) {
      lastInputWasVoice = byVoice;
      if (window.speechSynthesis) window.speechSynthesis.cancel();
      remember({ from: "me", text: shown || message });
      fetch(base + "/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: state.sender, message: message })
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (body) {
        if (body.forget) {
          // "Delete my data": this browser forgets the conversation too, and starts a new one.
          state = fresh(true);
          log.textContent = "";
        }
        body.replies.forEach(function (reply) {
          remember({ from: "bot", text: reply.text, buttons: reply.buttons || [] });
          speak(reply.text);
        });
      }).catch(function () {
        remember({ from: "bot", text: "Sorry, I can't answer just now. Please call us on " + config.front_desk + "." });
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      ask(text, text, false);
    });
    if (mic) {
      mic.addEventListener("click", function () {
        var recognition = new Recognition();
        recognition.lang = config.language || "en-GB";
        recognition.interimResults = false;
        mic.setAttribute("aria-pressed", "true");
        recognition.onresult = function (event) {
          var transcript = event.results[0][0].transcript;
          if (transcript) ask(transcript, transcript, true);
        };
        recognition.onend = function () { mic.setAttribute("aria-pressed", "false"); };
        recognition.onerror = recognition.onend;
        recognition.start();
      });
    }
    state.history.forEach(render);
    if (!state.history.length) render({ from: "bot", text: config.welcome });
    if (state.open) show(true);
  }

  fetch(base + "/api/widget/config").then(function (r) { return r.json(); }).then(build);
})();
