// A large screen stays on the wall: reload it when its figures are refreshed.
document.addEventListener("DOMContentLoaded", function () {
  var screen = document.querySelector(".lc-screen-large[data-refresh-minutes]");
  if (screen) {
    setTimeout(function () { location.reload(); }, Number(screen.getAttribute("data-refresh-minutes")) * 60000);
  }
});
