// Receiving departments: offer the sender's subordinate departments on every 部门代码 input,
// including rows added later (the server still checks each choice).
document.addEventListener("focusin", function (event) {
  var input = event.target;
  if (input.name && /department_code$/.test(input.name) && document.getElementById("lc-subordinates")) {
    input.setAttribute("list", "lc-subordinates");
  }
});
