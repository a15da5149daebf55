/* Canned answers in the reply form (templates/productivity/_canned_insert.html):
   «Insertar» appends the chosen text to the reply at once, instead of
   reloading the page (which is what happens without JavaScript). */
(function () {
  "use strict";
  var select = document.getElementById("reply-canned");
  var body = document.getElementById("reply-body");
  var button = document.querySelector(".canned-insert-button");
  if (!select || !body || !button) { return; }
  button.addEventListener("click", function (event) {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { return; } // the server explains what to do
    event.preventDefault();
    var typed = body.value.replace(/\s+$/, "");
    body.value = typed ? typed + "\n\n" + option.getAttribute("data-text") : option.getAttribute("data-text");
    body.focus();
    body.setSelectionRange(body.value.length, body.value.length);
  });
})();
