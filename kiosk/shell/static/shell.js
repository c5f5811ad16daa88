// Keeps the header current: the date, the time and the connection state, read from /etat.
// Tiles grey themselves out through CSS when <html data-en-ligne="non">.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-etat");
  var every = parseInt(body.getAttribute("data-rafraichir"), 10) || 20;
  function refresh() {
    fetch(url, {cache: "no-store", credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        document.documentElement.setAttribute("data-en-ligne", state.online ? "oui" : "non");
        var day = document.getElementById("date-du-jour");
        var time = document.getElementById("heure");
        if (day && day.textContent !== state.date) { day.textContent = state.date; }
        if (time && time.textContent !== state.time) { time.textContent = state.time; }
      })
      .catch(function () { /* the shell itself is unreachable: keep the page as it is */ });
  }
  window.setInterval(refresh, every * 1000);
})();
