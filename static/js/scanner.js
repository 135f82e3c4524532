// The webcam scanner of the import page: frames around the guide box go to the server,
// and each ICCID read joins the queue, once, with a beep. A frame that gives no ICCID comes back
// with advice (move closer, hold still, more light...), shown until a code is read.
(() => {
  const root = document.getElementById("scanner");
  if (!root) return;
  const video = root.querySelector("[data-scan-video]");
  const view = root.querySelector("[data-scan-view]");
  const status = root.querySelector("[data-scan-status]");
  const adviceBox = root.querySelector("[data-scan-advice]");
  const errorBox = root.querySelector("[data-scan-error]");
  const startButton = root.querySelector("[data-scan-start]");
  const queue = document.getElementById("queue");
  const FRAME_EVERY_MS = 250;
  // The guide box, as a share of the video (as drawn by CSS), and the margin sent around it.
  const BOX = { x: 0.15, y: 0.35, width: 0.7, height: 0.3 };
  const MARGIN = 0.15;
  let stream = null;
  let timer = null;
  let busy = false;
  let lastCause = null;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function cameraProblem(error) {
    if (error && error.name === "NotAllowedError") {
      return "The browser was not allowed to use the camera. Allow it in the address bar and try again, or type the ICCIDs or drop a file instead.";
    }
    if (error && (error.name === "NotFoundError" || error.name === "OverconstrainedError")) {
      return "No camera was found on this computer. Type the ICCIDs or drop a file instead.";
    }
    return `The camera could not be opened (${error && error.name ? error.name : error}). Type the ICCIDs or drop a file instead.`;
  }

  async function start() {
    errorBox.hidden = true;
    if (!window.isSecureContext) {
      showError("The camera only works on pages served over HTTPS (or from localhost). Type the ICCIDs or drop a file instead.");
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError("This browser cannot use a camera. Type the ICCIDs or drop a file instead.");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
        audio: false,
      });
    } catch (error) {
      showError(cameraProblem(error));
      return;
    }
    video.srcObject = stream;
    await video.play();
    view.hidden = false;
    startButton.hidden = true;
    status.textContent = `Camera on (${video.videoWidth} x ${video.videoHeight}). Looking for a barcode…`;
    timer = setInterval(sendFrame, FRAME_EVERY_MS);
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    startButton.hidden = false;
    clearAdvice();
  }

  // The region around the guide box, cut from the full-resolution frame (never the preview's size).
  function cropAroundBox() {
    const width = video.videoWidth;
    const height = video.videoHeight;
    const x = Math.max(0, (BOX.x - MARGIN * BOX.width) * width);
    const y = Math.max(0, (BOX.y - MARGIN * 2 * BOX.height) * height);
    const w = Math.min(width - x, BOX.width * (1 + 2 * MARGIN) * width);
    const h = Math.min(height - y, BOX.height * (1 + 4 * MARGIN) * height);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w);
    canvas.height = Math.round(h);
    canvas.getContext("2d").drawImage(video, x, y, w, h, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function sendFrame() {
    if (busy || !stream || !video.videoWidth) return;
    busy = true;
    cropAroundBox().toBlob(async (blob) => {
      try {
        const body = new FormData();
        body.append("frame", blob, "frame.jpg");
        const response = await fetch(root.dataset.scanUrl, {
          method: "POST",
          body,
          headers: { "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value },
          credentials: "same-origin",
        });
        await readAnswer(response);
      } catch (error) {
        status.textContent = "The console could not be reached; scanning goes on when it can.";
      } finally {
        busy = false;
      }
    }, "image/jpeg", 0.9);
  }

  // The scan answers JSON, or a short text/plain refusal. Anything else is a page: the sign-in page
  // a redirect led to (the session ended), or a CSRF refusal after signing in again elsewhere.
  async function readAnswer(response) {
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected) sessionEnded();
    else if (response.status >= 500) status.textContent = "The console had a problem reading that frame; scanning goes on.";
    else if (response.status === 200 && type.startsWith("application/json")) showResult(await response.json());
    else if (response.status === 429) await new Promise((resolve) => setTimeout(resolve, 1000));
    else if (type.startsWith("text/plain")) status.textContent = await response.text();
    else sessionEnded();
  }

  // The queue lives in this page only, and this page's form cannot be sent once signed in again
  // (the sign-in renews the CSRF token): the ICCIDs are listed to paste after signing in.
  function sessionEnded() {
    stop();
    const iccids = [...queue.querySelectorAll("li[data-iccid]")].map((item) => item.dataset.iccid);
    const kept = iccids.length
      ? ` Signing in again empties this page's queue: copy its ${iccids.length} ICCID${iccids.length === 1 ? "" : "s"} to paste after: ${iccids.join(" ")}`
      : "";
    showError(`Your session has ended: sign in again to go on scanning.${kept}`);
  }

  function showResult(result) {
    if (result.item) {
      clearAdvice();
      addToQueue(result.item);
    } else if (result.advice) {
      showAdvice(result.advice);
    }
  }

  // New advice shows at once when none is shown; a change of advice waits for a second frame
  // that agrees (a quarter of a second later), so that the words do not flicker.
  function showAdvice(advice) {
    const agreed = advice.cause === lastCause;
    lastCause = advice.cause;
    if (!adviceBox.hidden && !agreed) return;
    if (adviceBox.textContent !== advice.says) adviceBox.textContent = advice.says;
    adviceBox.dataset.cause = advice.cause;
    adviceBox.hidden = false;
  }

  function clearAdvice() {
    lastCause = null;
    adviceBox.hidden = true;
    adviceBox.textContent = "";
    delete adviceBox.dataset.cause;
  }

  function addToQueue(html) {
    const holder = document.createElement("ul");
    holder.innerHTML = html;
    const item = holder.querySelector("li[data-iccid]");
    if (!item) return;
    const iccid = item.dataset.iccid;
    const existing = queue.querySelector(`li[data-iccid="${iccid}"]`);
    if (existing) {
      existing.classList.remove("flash");
      void existing.offsetWidth;
      existing.classList.add("flash");
      status.textContent = `${iccid} is already in the queue.`;
      return;
    }
    queue.appendChild(item);
    item.classList.add("flash");
    status.textContent = `Read ${iccid}.`;
    beep();
    document.dispatchEvent(new Event("queue-changed"));
  }

  function beep() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 1046;
      gain.gain.value = 0.15;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.12);
      tone.onended = () => audio.close();
    } catch (error) {
      // No sound available: the flash and the status line still say it.
    }
  }

  startButton.addEventListener("click", start);
  root.querySelector("[data-scan-stop]").addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
})();
