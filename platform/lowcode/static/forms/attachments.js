// Attachment fields: a chosen file (or a camera photo, or a drawn signature) is uploaded at once to
// the form's upload endpoint, which stores it by id; the field then holds only that id. The server
// answers with the attachment's markup (preview, link, hidden input), so the page draws it as a
// reloaded page would.
(function () {
  "use strict";

  function status(box, message, failed) {
    var line = box.querySelector(".lc-upload-status");
    line.textContent = message;
    line.classList.toggle("text-danger", !!failed);
    box.closest(".lc-field").classList.toggle("has-error", !!failed);
  }

  function upload(form, box, file) {
    var list = box.querySelector(".lc-attachment-list");
    var multiple = box.hasAttribute("data-multiple");
    var maxItems = Number(box.dataset.maxItems) || Infinity;
    if (multiple && list.children.length >= maxItems) {
      status(box, "最多上传 " + maxItems + " 个文件", true);
      return Promise.resolve();
    }
    if (file.size > Number(box.dataset.maxMb) * 1024 * 1024) {
      status(box, file.name + "：超过 " + box.dataset.maxMb + " MB", true);
      return Promise.resolve();
    }
    var body = new FormData();
    body.append("file", file, file.name);
    status(box, "正在上传 " + file.name + "……", false);
    return fetch(form.dataset.uploadUrl + "?field=" + encodeURIComponent(box.dataset.path), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": form.querySelector("[name=csrf_token]").value, "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {message: "上传失败（" + response.status + "）"}; })
        .then(function (answer) {
          if (!response.ok) {
            status(box, answer.message || "上传失败", true);
            return;
          }
          if (!multiple) list.innerHTML = "";
          list.insertAdjacentHTML("beforeend", answer.html);
          status(box, "已上传 " + answer.name, false);
          form.dispatchEvent(new Event("change"));
        });
    }, function () {
      status(box, "网络错误，上传失败，请重试", true);
    });
  }

  // A signature pad: draw with finger, pen or mouse; 确认签名 uploads the drawing as a PNG.
  function startSignature(form, box) {
    var canvas = box.querySelector(".lc-signature-pad");
    var context = canvas.getContext("2d");
    var drawing = false, drawn = false;

    function fit() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = canvas.clientWidth * ratio;
      canvas.height = canvas.clientHeight * ratio;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = context.lineJoin = "round";
      context.strokeStyle = "#111";
      drawn = false;
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    }

    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      context.beginPath();
      context.moveTo.apply(context, point(event));
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      context.lineTo.apply(context, point(event));
      context.stroke();
      drawn = true;
    });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    box.querySelector(".lc-signature-clear").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
    });
    box.querySelector(".lc-signature-save").addEventListener("click", function () {
      if (!drawn) {
        status(box, "请先在框内签名", true);
        return;
      }
      canvas.toBlob(function (blob) {
        upload(form, box, new File([blob], "签名.png", {type: "image/png"}));
      }, "image/png");
    });
    fit();
  }

  function start(form) {
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("lc-file") || !input.files.length) return;
      var box = input.closest(".lc-attachments");
      var files = Array.prototype.slice.call(input.files);
      files.reduce(function (previous, file) {
        return previous.then(function () { return upload(form, box, file); });
      }, Promise.resolve()).then(function () { input.value = ""; });
    });
    form.addEventListener("click", function (event) {
      var remove = event.target.closest(".lc-remove-attachment");
      if (!remove) return;
      remove.closest(".lc-attachment").remove();
      form.dispatchEvent(new Event("change"));
    });
    function startPads(root) {
      root.querySelectorAll(".lc-signature").forEach(function (pad) {
        startSignature(form, pad.closest(".lc-attachments"));
      });
    }
    form.addEventListener("lc:row-added", function (event) { startPads(event.target); });
    startPads(form);
  }

  document.querySelectorAll("form.lc-form").forEach(start);
})();
