// The on-screen keypad of the call-back form's phone field: large digit keys, "+" and "Effacer",
// for a resident without keyboard skills. Without JavaScript the keypad stays hidden and the field works.
"use strict";
document.querySelectorAll("[data-pave-pour]").forEach(function (pad) {
  var field = document.getElementById(pad.getAttribute("data-pave-pour"));
  if (!field) { return; }
  pad.hidden = false;
  pad.addEventListener("click", function (event) {
    var key = event.target.closest("[data-touche]");
    if (!key) { return; }
    var value = key.getAttribute("data-touche");
    if (value === "effacer") {
      field.value = field.value.replace(/\s+$/, "").slice(0, -1);
    } else if (field.value.length < 60) {
      // Grouped by two, as French numbers are written: 06 12 34 56 78.
      var digits = field.value.replace(/\s/g, "");
      var grouped = digits.length > 0 && digits.length % 2 === 0 && !digits.startsWith("+");
      field.value = (grouped ? field.value.replace(/\s+$/, "") + " " : field.value) + value;
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
});
