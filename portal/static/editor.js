// Minimal rich-text editor: contenteditable + toolbar; the server sanitises the HTML.
(function () {
  "use strict";
  var editor = document.getElementById("editor");
  var source = document.getElementById("body_html");
  var form = document.getElementById("revision-form");
  if (!editor || !source || !form) { return; }
  source.hidden = true;
  document.getElementById("toolbar").addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-cmd]");
    if (!button) { return; }
    editor.focus();
    var cmd = button.getAttribute("data-cmd");
    if (cmd === "insertTable") {
      document.execCommand("insertHTML", false,
        "<table><tr><td>&nbsp;</td><td>&nbsp;</td></tr><tr><td>&nbsp;</td><td>&nbsp;</td></tr></table><p></p>");
    } else {
      document.execCommand(cmd, false, button.getAttribute("data-arg"));
    }
  });
  form.addEventListener("submit", function () { source.value = editor.innerHTML; });
})();
