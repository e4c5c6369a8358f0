// Detailer's own small script. Everything here is an enhancement: pages work without it.
"use strict";

(function () {
  // --- Elapsed time on pending jobs, ticking without asking the server --------------------
  function formatElapsed(seconds) {
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  function tickElapsed() {
    const now = Date.now();
    document.querySelectorAll("[data-elapsed-since]").forEach((el) => {
      const since = Date.parse(el.dataset.elapsedSince);
      if (!Number.isNaN(since)) {
        el.textContent = formatElapsed(Math.max(0, Math.round((now - since) / 1000)));
      }
    });
  }
  setInterval(tickElapsed, 1000);

  // --- The New enhancement form: drop, paste, and the resulting size ----------------------
  const SCALE_LIMIT_NOTE = 1478656;

  function readSize(file) {
    return new Promise((resolve) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => {
        resolve({ width: img.naturalWidth, height: img.naturalHeight });
        URL.revokeObjectURL(url);
      };
      img.onerror = () => {
        resolve(null);
        URL.revokeObjectURL(url);
      };
      img.src = url;
    });
  }

  function fitWithin(width, height) {
    if (width * height <= SCALE_LIMIT_NOTE) return { width, height };
    const ratio = Math.sqrt(SCALE_LIMIT_NOTE / (width * height));
    return { width: Math.max(1, Math.floor(width * ratio)), height: Math.max(1, Math.floor(height * ratio)) };
  }

  async function updatePreview(form) {
    const input = form.querySelector('input[type="file"]');
    const list = form.querySelector("[data-file-preview]");
    const sizeNote = form.querySelector("[data-size-preview]");
    const scaleSelect = form.querySelector('select[name="scale"]');
    const autoFit = form.querySelector('input[name="auto_fit"]');
    if (!input || !list || !sizeNote || !scaleSelect) return;
    const scale = Number(scaleSelect.value) || 1;
    const files = Array.from(input.files || []);
    list.replaceChildren();
    const sentences = [];
    for (const file of files) {
      const item = document.createElement("li");
      const size = await readSize(file);
      if (!size) {
        item.textContent = `${file.name}: not a picture this browser can show`;
      } else {
        let { width, height } = size;
        let fitted = "";
        if (autoFit && autoFit.checked && width * height > SCALE_LIMIT_NOTE) {
          ({ width, height } = fitWithin(width, height));
          fitted = ` (reduced to ${width} x ${height} to fit the limit)`;
        }
        item.textContent = `${file.name}: ${size.width} x ${size.height}${fitted}`;
        sentences.push(`${width} x ${height} becomes ${width * scale} x ${height * scale}`);
      }
      list.append(item);
    }
    sizeNote.textContent = sentences.length ? sentences.join("; ") + "." : "";
  }

  function setFiles(input, files) {
    const transfer = new DataTransfer();
    Array.from(files).forEach((file) => transfer.items.add(file));
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // --- Too large to send: said here before a byte is uploaded (the server refuses it too, with
  // 413 or in the form, in the same words) -------------------------------------------------
  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  function sizeProblem(form) {
    const input = form.querySelector('input[type="file"]');
    const perImage = Number(form.dataset.maxUploadBytes);
    const perRequest = Number(form.dataset.maxRequestBytes);
    const files = Array.from((input && input.files) || []);
    const big = files.filter((file) => perImage && file.size > perImage);
    if (big.length) {
      return big
        .map((file) => `${file.name} is ${megabytes(file.size)}; each image may be at most ${megabytes(perImage)}. Make it smaller and try again.`)
        .join(" ");
    }
    const total = files.reduce((sum, file) => sum + file.size, 0);
    if (perRequest && total > perRequest) {
      return `These images are ${megabytes(total)} together; one sending may carry at most ${megabytes(perRequest)}. Send fewer at a time.`;
    }
    return "";
  }

  function showRefusal(form, message) {
    const box = form.querySelector("#upload-refused");
    if (!box) return;
    box.replaceChildren();
    box.classList.toggle("form-errors", Boolean(message));
    // An empty alert region would still be announced as one: the role comes with a message.
    if (message) box.setAttribute("role", "alert");
    else box.removeAttribute("role");
    if (message) {
      const text = document.createElement("p");
      text.textContent = message;
      box.append(text);
    }
  }

  function refuseIfTooLarge(form, event) {
    const message = sizeProblem(form);
    showRefusal(form, message);
    if (message) event.preventDefault();
  }

  function initForm(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    form.addEventListener("submit", (event) => refuseIfTooLarge(form, event));
    form.addEventListener("htmx:beforeRequest", (event) => refuseIfTooLarge(form, event));
    const input = form.querySelector('input[type="file"]');
    const zone = form.querySelector("[data-dropzone]");
    form.addEventListener("change", (event) => {
      if (event.target.matches('input[type="file"], select[name="scale"], input[name="auto_fit"]')) {
        updatePreview(form);
      }
    });
    if (zone && input) {
      ["dragenter", "dragover"].forEach((name) =>
        zone.addEventListener(name, (event) => {
          event.preventDefault();
          zone.classList.add("dragging");
        }),
      );
      ["dragleave", "drop"].forEach((name) =>
        zone.addEventListener(name, () => zone.classList.remove("dragging")),
      );
      zone.addEventListener("drop", (event) => {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files.length) setFiles(input, event.dataTransfer.files);
      });
    }
    updatePreview(form);
  }

  document.addEventListener("paste", (event) => {
    const form = document.querySelector("[data-enhance-form]");
    const input = form && form.querySelector('input[type="file"]');
    if (!input || !event.clipboardData) return;
    const images = Array.from(event.clipboardData.files).filter((file) => file.type.startsWith("image/"));
    if (images.length) {
      event.preventDefault();
      setFiles(input, images);
    }
  });

  // --- Before/after comparison: a range input drives the clip, so mouse, touch and arrow
  // keys all work through the browser's own control ---------------------------------------
  function initCompare(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    root.classList.add("compare-js");
    const range = root.querySelector("[data-compare-range]");
    const after = root.querySelector("[data-after]");
    const stage = root.querySelector("[data-pan]");
    const section = root.closest(".compare-section");
    function apply() {
      const value = Number(range.value);
      after.style.clipPath = `inset(0 0 0 ${value}%)`;
      range.setAttribute("aria-valuetext", `${100 - value}% after`);
      root.style.setProperty("--split", `${value}%`);
    }
    range.addEventListener("input", apply);
    apply();

    if (section) {
      section.querySelectorAll("[data-view]").forEach((button) =>
        button.addEventListener("click", () => {
          const side = button.dataset.view === "side";
          root.classList.toggle("compare-side", side);
          section.querySelectorAll("[data-view]").forEach((other) => {
            const pressed = other === button;
            other.setAttribute("aria-pressed", String(pressed));
            other.classList.toggle("button-secondary", !pressed);
          });
        }),
      );
      const zoom = section.querySelector("[data-zoom]");
      if (zoom) {
        zoom.addEventListener("click", () => {
          const on = !root.classList.contains("compare-zoomed");
          root.classList.toggle("compare-zoomed", on);
          zoom.setAttribute("aria-pressed", String(on));
          zoom.classList.toggle("button-secondary", !on);
          // 100% of the result: the original is drawn at the result's size to line up.
          root.querySelectorAll(".compare-stage img").forEach((img) => {
            img.style.width = on ? `${root.dataset.resultWidth}px` : "";
          });
          if (on) {
            stage.scrollLeft = (stage.scrollWidth - stage.clientWidth) / 2;
            stage.scrollTop = (stage.scrollHeight - stage.clientHeight) / 2;
          }
        });
      }
    }

    // Drag to pan when zoomed (keyboard users scroll the focused stage with arrow keys).
    let drag = null;
    stage.addEventListener("pointerdown", (event) => {
      if (!root.classList.contains("compare-zoomed")) return;
      drag = { x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop };
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", (event) => {
      if (!drag) return;
      stage.scrollLeft = drag.left - (event.clientX - drag.x);
      stage.scrollTop = drag.top - (event.clientY - drag.y);
    });
    ["pointerup", "pointercancel"].forEach((name) => stage.addEventListener(name, () => (drag = null)));
  }

  // --- Copy buttons next to links (share and invitation links) ----------------------------
  // The field stays selectable without JavaScript; the button only appears where it works.
  function initCopy(button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard || button.dataset.ready) return;
    button.dataset.ready = "1";
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch {
        field.select();
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => (button.textContent = "Copy"), 2000);
    });
  }

  // --- Try settings: the button once an image is chosen, the crop mark, picking a cell ------
  function updateTryButton(form) {
    const box = form.querySelector("[data-try-settings]");
    const input = form.querySelector('input[type="file"]');
    if (box && input) box.hidden = !(input.files && input.files.length);
  }

  function initTryMark(mark) {
    if (mark.dataset.ready) return;
    mark.dataset.ready = "1";
    const { left, top, side, width, height } = mark.dataset;
    mark.style.left = `${(100 * left) / width}%`;
    mark.style.top = `${(100 * top) / height}%`;
    mark.style.width = `${(100 * side) / width}%`;
    mark.style.height = `${(100 * side) / height}%`;
  }

  document.addEventListener("click", (event) => {
    const cell = event.target.closest("[data-try-details]");
    if (cell) {
      const form = document.querySelector("[data-enhance-form]");
      if (!form) return;
      form.querySelector('select[name="details"]').value = cell.dataset.tryDetails;
      form.querySelector('select[name="modification"]').value = cell.dataset.tryChange;
      document.querySelectorAll("[data-try-details]").forEach((other) =>
        other.setAttribute("aria-pressed", String(other === cell)),
      );
      const status = document.querySelector(".try-status");
      if (status) status.textContent = `Chosen: ${cell.querySelector(".try-label").textContent}. Detail and Change are set above.`;
      return;
    }
    const picture = event.target.closest("[data-try-source] img");
    if (picture) {
      const form = picture.closest("[data-try-recrop]");
      const box = picture.getBoundingClientRect();
      form.querySelector('input[name="x"]').value = ((event.clientX - box.left) / box.width).toFixed(4);
      form.querySelector('input[name="y"]').value = ((event.clientY - box.top) / box.height).toFixed(4);
      form.requestSubmit();
    }
  });

  function init(scope) {
    scope.querySelectorAll("[data-enhance-form]").forEach((form) => {
      initForm(form);
      updateTryButton(form);
      form.addEventListener("change", () => updateTryButton(form));
    });
    scope.querySelectorAll(".try-mark").forEach(initTryMark);
    scope.querySelectorAll("[data-compare]").forEach(initCompare);
    scope.querySelectorAll("[data-copy]").forEach(initCopy);
  }

  // An upload over the request cap is answered 413 with the reason, retargeted at the form's
  // refusal box: let htmx show it rather than drop it as an error.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 413) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", () => init(document));
  // Forms and cards swapped in by htmx get the same behaviour.
  document.addEventListener("htmx:load", (event) => init(event.target));
})();
