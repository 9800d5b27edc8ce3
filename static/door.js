// The door page reads ticket codes with the phone's camera where the
// browser has a barcode reader (BarcodeDetector), and checks each code
// as soon as it is read, by sending the page's own form: the answer
// comes back as the page, green or red. Without a camera or script, the
// code is typed and the form sent by hand.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=door-form]");
  var video = document.querySelector("[data-testid=door-camera]");
  if (!form || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
    video.srcObject = stream;
    video.hidden = false;
    return video.play();
  }).then(function () {
    var sent = false;
    function look() {
      if (sent) return;
      detector.detect(video).then(function (codes) {
        var code = codes.length && codes[0].rawValue;
        if (code && code.indexOf("BX1.") === 0) {
          sent = true;
          form.querySelector("[name=code]").value = code;
          form.submit();
          return;
        }
        requestAnimationFrame(look);
      }).catch(function () { setTimeout(look, 250); });
    }
    look();
  }).catch(function () { /* no camera, or not allowed: type the code */ });
})();
