// The mediator's viewer: long-polls the latest frame of the kiosk's page, sends points and messages,
// and tells the relay when the page is closed (a beacon to « Arrêter »).
"use strict";
(function () {
  const root = document.getElementById("assist");
  if (!root) { return; }
  const screen = document.getElementById("assist-screen");
  const status = document.getElementById("assist-state");
  const csrf = root.dataset.csrf;
  const ENDED = {refused: "refusée par la personne", resident: "arrêtée par la personne",
    mediator: "arrêtée par vous", session_end: "fin de la session au poste", idle: "sans activité",
    unreachable: "liaison perdue", mediator_left: "page fermée", unanswered: "sans réponse au poste"};
  let seq = 0;
  let running = !root.dataset.state.startsWith("ended");
  let shownUrl = null;

  function ended(reason) {
    running = false;
    status.textContent = "L’assistance est terminée (" + (ENDED[reason] || reason) + ").";
    root.dataset.state = "ended:" + reason;
  }

  async function loop() {
    while (running) {
      let answer;
      try {
        answer = await fetch(root.dataset.image + "?apres=" + seq, {cache: "no-store", credentials: "same-origin"});
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      const state = answer.headers.get("X-Assist-State") || "";
      if (answer.status === 200) {
        seq = parseInt(answer.headers.get("X-Frame-Seq"), 10) || seq;
        const url = URL.createObjectURL(await answer.blob());
        screen.src = url;
        screen.hidden = false;
        if (shownUrl) { URL.revokeObjectURL(shownUrl); }
        shownUrl = url;
        if (root.dataset.state !== "running") {
          root.dataset.state = "running";
          status.textContent = "La personne a accepté : son écran s’affiche ci-dessous.";
        }
        root.dataset.frames = String(seq);
      } else if (state.startsWith("ended:")) {
        ended(state.slice(6));
      } else if (answer.status !== 204) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}});
  }

  screen.addEventListener("click", function (event) {
    const box = screen.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width;
    const y = (event.clientY - box.top) / box.height;
    post(root.dataset.point, {x: Math.min(1, Math.max(0, x)), y: Math.min(1, Math.max(0, y))});
  });

  document.getElementById("assist-message-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const field = document.getElementById("assist-message");
    post(root.dataset.message, {text: field.value}).then(function (answer) {
      if (answer.ok) { field.value = ""; }
    });
  });

  window.addEventListener("pagehide", function () {
    if (!running) { return; }
    const form = new FormData();
    form.append("csrf_token", csrf);
    navigator.sendBeacon(root.dataset.stop, form);
  });

  loop();
})();
