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

  // The sentence under the settings ("3000 x 2000 becomes 6000 x 4000 · sent as 6 tiles") comes
  // from the server, which plans tiles and sizes with the worker's own arithmetic.
  let previewRequest = 0;
  async function updatePreview(form) {
    const input = form.querySelector('input[type="file"]');
    const list = form.querySelector("[data-file-preview]");
    const sizeNote = form.querySelector("[data-size-preview]");
    const scaleSelect = form.querySelector('select[name="scale"]');
    const madeFor = form.querySelector('select[name="made_for"]');
    const format = form.querySelector('select[name="output_format"]');
    const autoFit = form.querySelector('input[name="auto_fit"]');
    if (!input || !list || !sizeNote || !scaleSelect) return;
    const request = ++previewRequest;
    const files = Array.from(input.files || []);
    const sizes = [];
    const items = [];
    for (const file of files) {
      const item = document.createElement("li");
      const size = await readSize(file);
      item.textContent = size ? `${file.name}: ${size.width} x ${size.height}` : `${file.name}: not a picture this browser can show`;
      if (size) sizes.push(size);
      items.push(item);
    }
    if (request !== previewRequest) return; // a newer choice is being previewed
    list.replaceChildren(...items);
    const target = madeFor ? madeFor.value : "";
    if (!sizes.length) {
      sizeNote.textContent = "";
      return;
    }
    const query = new URLSearchParams({
      scale: scaleSelect.value,
      made_for: target,
      format: format ? format.value : "webp",
      shrink: autoFit && autoFit.checked ? "1" : "0",
    });
    sizes.slice(0, 50).forEach((size) => {
      query.append("w", size.width);
      query.append("h", size.height);
    });
    try {
      const response = await fetch(`${form.dataset.sizePreviewUrl}?${query}`, { credentials: "same-origin" });
      if (!response.ok || request !== previewRequest) return;
      const answer = await response.json();
      // A "Made for" size decides the Enlarge: the select shows its choice.
      if (answer.scale) scaleSelect.value = String(answer.scale);
      sizeNote.textContent = answer.texts.join("; ") + ".";
    } catch (error) {
      sizeNote.textContent = "";
    }
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
    const most = Number(form.dataset.maxFiles);
    if (most && files.length > most) {
      return `These are ${files.length} images; one sending may carry at most ${most}. Send them in parts.`;
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
      // The box is at the top of the form, the button at its foot: bring the reason into view.
      box.scrollIntoView({ block: "center" });
    }
  }

  function refuseIfTooLarge(form, event) {
    const message = sizeProblem(form);
    showRefusal(form, message);
    if (message) event.preventDefault();
  }

  // A refused submission (over the monthly limit, a file too large) comes back as a new form:
  // the files chosen are carried over, so the person can fix the cause and press Enhance again.
  let keptFiles = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const old = event.detail.target;
    const input = old && old.matches && old.matches("[data-enhance-form]") && old.querySelector('input[type="file"]');
    keptFiles = input && input.files && input.files.length ? input.files : null;
  });

  function initForm(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    form.addEventListener("submit", (event) => refuseIfTooLarge(form, event));
    form.addEventListener("htmx:beforeRequest", (event) => refuseIfTooLarge(form, event));
    const input = form.querySelector('input[type="file"]');
    if (keptFiles && input && "refused" in form.dataset) setFiles(input, keptFiles);
    keptFiles = null;
    const zone = form.querySelector("[data-dropzone]");
    form.addEventListener("change", (event) => {
      if (event.target.matches('input[type="file"], select[name="scale"], select[name="made_for"], select[name="output_format"], input[name="auto_fit"]')) {
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
    // Detail and Change: the line under each choice explains the level chosen now.
    form.querySelectorAll("[data-level-help]").forEach((help) => {
      const select = form.querySelector(`#${help.dataset.levelHelp}`);
      const data = select && document.getElementById(`${select.name}-levels`);
      if (!data) return;
      const texts = JSON.parse(data.textContent);
      select.addEventListener("change", () => {
        help.textContent = texts[select.value] || "";
      });
    });
    // Run again: the stored original is used unless the person picks another image.
    const again = form.querySelector("[data-again]");
    const clear = form.querySelector("[data-again-clear]");
    if (again && clear) {
      clear.hidden = false;
      clear.addEventListener("click", () => {
        const field = form.querySelector('input[name="again"]');
        if (field) field.value = "";
        again.remove();
        const label = form.querySelector(`label[for="${input.id}"]`);
        if (label) label.textContent = "Image file";
        input.focus();
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

  // --- Before/after comparison -------------------------------------------------------------
  // The slider view stacks both images in one viewport; the divider on the picture is dragged
  // with a mouse, a pen or a finger, and the range input on the picture's edge (the same split)
  // serves the keyboard and screen readers. Side by side shows two viewports that pan and zoom
  // together, so both show the same part of the picture. Zoom levels: fit, 100%, 200% of the
  // result's pixels; a click zooms in at the pointer, and when zoomed a drag pans.
  const CLICK_SLOP = 5; // px a press may move and still count as a click, not a drag

  function capture(element, pointerId) {
    try {
      element.setPointerCapture(pointerId);
    } catch {
      // A pointer that is already gone (lifted mid-event) cannot be captured; nothing to follow.
    }
  }

  function initCompare(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    root.classList.add("compare-js");
    const section = root.closest(".compare-section");
    const range = root.querySelector("[data-compare-range]");
    const after = root.querySelector("[data-after]");
    const stage = root.querySelector("[data-stage]");
    const divider = root.querySelector("[data-divider]");
    const panes = Array.from(root.querySelectorAll("[data-pane]"));
    const images = Array.from(root.querySelectorAll("img"));
    const resultWidth = Number(root.dataset.resultWidth) || 0;
    let zoom = "fit";
    const hint = section && section.querySelector(".compare-hint");
    if (hint) hint.hidden = false;

    const sideBySide = () => root.classList.contains("compare-side");
    // What scrolls: the one stage in the slider view, each pane side by side.
    const scrollers = () => (sideBySide() ? panes : [stage]);

    function applySplit() {
      const value = Number(range.value);
      root.style.setProperty("--split", `${value}%`);
      range.setAttribute("aria-valuetext", `${100 - value}% after`);
      // The clip is in the figure's own pixels, so it follows the divider when zoomed and panned.
      const left = stage.scrollLeft + (stage.clientWidth * value) / 100;
      after.style.clipPath = `inset(0 0 0 ${left}px)`;
    }

    function setSplitFromPointer(clientX) {
      const box = stage.getBoundingClientRect();
      const value = Math.round(((clientX - box.left) / box.width) * 100);
      range.value = String(Math.min(100, Math.max(0, value)));
      applySplit();
    }

    function press(buttons, chosen) {
      buttons.forEach((other) => {
        const on = other === chosen;
        other.setAttribute("aria-pressed", String(on));
        other.classList.toggle("button-secondary", !on);
      });
    }

    // Zoom to `level`, keeping the picture's point under (clientX, clientY) where it is; without
    // a point, the middle of the view stays in the middle.
    function setZoom(level, clientX, clientY) {
      const target = scrollers()[0];
      const before = target.getBoundingClientRect();
      const x = clientX === undefined ? before.left + target.clientWidth / 2 : clientX;
      const y = clientY === undefined ? before.top + target.clientHeight / 2 : clientY;
      const image = target.querySelector("img");
      const old = image.getBoundingClientRect();
      const fx = old.width ? (x - old.left) / old.width : 0.5;
      const fy = old.height ? (y - old.top) / old.height : 0.5;
      zoom = level;
      const width = level === "fit" ? "" : `${resultWidth * Number(level)}px`;
      images.forEach((img) => (img.style.width = width));
      root.classList.toggle("compare-zoomed", level !== "fit");
      root.classList.toggle("compare-zoom-max", level === "2");
      if (section) {
        const buttons = Array.from(section.querySelectorAll("[data-zoom]"));
        press(buttons, buttons.find((b) => b.dataset.zoom === level));
      }
      const now = image.getBoundingClientRect();
      const box = target.getBoundingClientRect();
      const left = fx * now.width - (x - box.left);
      const top = fy * now.height - (y - box.top);
      scrollers().forEach((el) => {
        el.scrollLeft = left;
        el.scrollTop = top;
      });
      // What scrolls can be focused and scrolled with the arrow keys; nothing else is a tab stop.
      [stage, ...panes].forEach((el) => {
        const scrolls = level !== "fit" && scrollers().includes(el);
        if (scrolls) {
          el.tabIndex = 0;
          el.setAttribute("role", "group");
          const name = el === stage ? "Comparison" : el.querySelector("figcaption").textContent;
          el.setAttribute("aria-label", `${name}, zoomed: use the arrow keys to look around`);
        } else {
          el.removeAttribute("tabindex");
          el.removeAttribute("role");
          el.removeAttribute("aria-label");
        }
      });
      applySplit();
    }

    // A click zooms in one level at the pointer; at the largest level it goes back to fit.
    function nextZoom() {
      const rendered = images[0].getBoundingClientRect().width / (resultWidth || 1);
      if (zoom === "fit") return rendered < 1 ? "1" : "2";
      return zoom === "1" ? "2" : "fit";
    }

    range.addEventListener("input", applySplit);
    stage.addEventListener("scroll", applySplit);
    // Side by side, the panes keep the same scroll position: both show the same part. Scroll
    // events arrive later, so a pane's echo of a position we set is recognised and ignored
    // (otherwise two smooth scrolls would pull each other back and forth).
    const echoes = new Map();
    panes.forEach((pane) =>
      pane.addEventListener("scroll", () => {
        if (!sideBySide()) return;
        const echo = echoes.get(pane);
        if (echo && Math.abs(echo.left - pane.scrollLeft) < 1 && Math.abs(echo.top - pane.scrollTop) < 1) {
          echoes.delete(pane);
          return;
        }
        panes.forEach((other) => {
          if (other !== pane) {
            other.scrollLeft = pane.scrollLeft;
            other.scrollTop = pane.scrollTop;
            echoes.set(other, { left: other.scrollLeft, top: other.scrollTop });
          }
        });
      }),
    );
    window.addEventListener("resize", applySplit);
    applySplit();

    // Dragging the divider (mouse, pen or touch: pointer events cover all three).
    divider.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      capture(divider, event.pointerId);
      setSplitFromPointer(event.clientX);
      const move = (e) => setSplitFromPointer(e.clientX);
      const stop = () => {
        divider.removeEventListener("pointermove", move);
        divider.removeEventListener("pointerup", stop);
        divider.removeEventListener("pointercancel", stop);
        range.dispatchEvent(new Event("change", { bubbles: true }));
      };
      divider.addEventListener("pointermove", move);
      divider.addEventListener("pointerup", stop);
      divider.addEventListener("pointercancel", stop);
    });

    // On the picture: a click zooms at the pointer; when zoomed, a drag pans (both panes).
    let drag = null;
    stage.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || event.target === range) return;
      const scroller = scrollers().find((el) => el.contains(event.target)) || stage;
      drag = {
        id: event.pointerId,
        x: event.clientX,
        y: event.clientY,
        left: scroller.scrollLeft,
        top: scroller.scrollTop,
        scroller,
        moved: false,
      };
    });
    stage.addEventListener("pointermove", (event) => {
      if (!drag || drag.id !== event.pointerId) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
      if (!drag.moved) {
        drag.moved = true;
        capture(stage, event.pointerId);
        stage.classList.add("panning");
      }
      if (zoom !== "fit") {
        drag.scroller.scrollLeft = drag.left - dx;
        drag.scroller.scrollTop = drag.top - dy;
      }
    });
    const endDrag = (event) => {
      if (!drag || drag.id !== event.pointerId) return;
      const clicked = !drag.moved && event.type === "pointerup";
      drag = null;
      stage.classList.remove("panning");
      if (clicked) setZoom(nextZoom(), event.clientX, event.clientY);
    };
    stage.addEventListener("pointerup", endDrag);
    stage.addEventListener("pointercancel", endDrag);

    if (section) {
      const views = Array.from(section.querySelectorAll("[data-view]"));
      views.forEach((button) =>
        button.addEventListener("click", () => {
          root.classList.toggle("compare-side", button.dataset.view === "side");
          press(views, button);
          setZoom(zoom);
        }),
      );
      section.querySelectorAll("[data-zoom]").forEach((button) =>
        button.addEventListener("click", () => setZoom(button.dataset.zoom)),
      );
    }
  }

  // --- Jobs finishing while the tab is in the background ----------------------------------
  // The title counts them ("✓ 3 done · Detailer") until the person comes back, and, if they
  // allowed it, a browser notification says so. Cards are swapped in by the page's poll.
  const pageTitle = document.title;
  let seenDone = new Set();
  let doneAway = new Set();
  let failedAway = new Set();
  const cardIds = (status) =>
    new Set(Array.from(document.querySelectorAll(`.job-card.status-${status}`), (card) => card.id));

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      seenDone = new Set([...cardIds("succeeded"), ...cardIds("failed")]);
      doneAway = new Set();
      failedAway = new Set();
    } else {
      document.title = pageTitle;
    }
  });

  function noteFinished() {
    if (!document.hidden) return;
    const fresh = [];
    cardIds("succeeded").forEach((id) => {
      if (!seenDone.has(id) && !doneAway.has(id)) {
        doneAway.add(id);
        fresh.push(id);
      }
    });
    cardIds("failed").forEach((id) => {
      if (!seenDone.has(id) && !failedAway.has(id)) {
        failedAway.add(id);
        fresh.push(id);
      }
    });
    if (!fresh.length) return;
    const failed = failedAway.size ? `, ${failedAway.size} failed` : "";
    document.title = `✓ ${doneAway.size} done${failed} · Detailer`;
    if ("Notification" in window && Notification.permission === "granted") {
      const titles = fresh.map((id) => {
        const link = document.querySelector(`#${CSS.escape(id)} .job-title a`);
        return link ? link.textContent.trim() : "";
      });
      const count = fresh.length;
      new Notification(count === 1 ? "An enhancement finished" : `${count} enhancements finished`, {
        body: titles.filter(Boolean).join(", "),
        tag: "detailer-jobs",
      });
    }
  }
  document.addEventListener("htmx:afterSettle", noteFinished);

  // The job page reloads itself when its job finishes (HX-Refresh): carry "it finished while
  // you were away" over the reload, so the title and the notification still say so.
  const AWAY_KEY = "detailer-finished-away";
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const xhr = event.detail.xhr;
    if (document.hidden && xhr && xhr.getResponseHeader("HX-Refresh") === "true") {
      sessionStorage.setItem(AWAY_KEY, document.title);
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    const before = sessionStorage.getItem(AWAY_KEY);
    if (before === null) return;
    sessionStorage.removeItem(AWAY_KEY);
    if (!document.hidden) return;
    const status = document.querySelector("#job-status .status-badge");
    const failed = status && status.classList.contains("status-failed");
    document.title = `${failed ? "✗ 1 failed" : "✓ 1 done"} · Detailer`;
    if ("Notification" in window && Notification.permission === "granted") {
      const heading = document.querySelector("h1");
      new Notification(failed ? "An enhancement failed" : "An enhancement finished", {
        body: heading ? heading.textContent.trim() : "",
        tag: "detailer-jobs",
      });
    }
  });

  function initNotify(row) {
    if (row.dataset.ready || !("Notification" in window)) return;
    row.dataset.ready = "1";
    const button = row.querySelector("[data-notify]");
    const state = row.querySelector("[data-notify-state]");
    function show() {
      const permission = Notification.permission;
      row.hidden = permission === "denied";
      button.hidden = permission !== "default";
      state.textContent =
        permission === "granted" ? "You will be notified when jobs finish while this tab is in the background." : "";
    }
    button.addEventListener("click", async () => {
      await Notification.requestPermission();
      show();
    });
    show();
  }

  // --- Gallery selection: the count, and ticks kept when the poll replaces a card -------
  const selected = new Set();
  function showSelection() {
    const note = document.querySelector("[data-selection-count]");
    if (note) {
      note.textContent = selected.size
        ? `${selected.size} selected.`
        : "Tick enhancements to download or delete several at once.";
    }
  }
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches || !box.matches('.job-select input[type="checkbox"]')) return;
    if (box.checked) selected.add(box.value);
    else selected.delete(box.value);
    showSelection();
  });
  document.addEventListener("htmx:afterSettle", () => {
    document.querySelectorAll('.job-select input[type="checkbox"]').forEach((box) => {
      box.checked = selected.has(box.value);
    });
    showSelection();
  });

  // --- Copy buttons next to links (share and invitation links) ----------------------------
  // The field stays selectable without JavaScript; the button only appears where it works.
  function initCopy(button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || button.dataset.ready) return;
    button.dataset.ready = "1";
    button.hidden = false;
    const label = button.innerHTML;
    button.addEventListener("click", async () => {
      let copied = false;
      try {
        // The Clipboard API needs a secure context (https or this machine); a server on a
        // plain-http LAN address falls back to the older copy command.
        if (navigator.clipboard) {
          await navigator.clipboard.writeText(field.value);
          copied = true;
        }
      } catch {
        copied = false;
      }
      if (!copied) {
        field.select();
        try {
          copied = document.execCommand("copy");
        } catch {
          copied = false;
        }
      }
      button.textContent = copied ? "Copied" : "Press Ctrl+C";
      setTimeout(() => (button.innerHTML = label), 2000);
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

  // Every element matching `selector` in `scope`, the scope itself included (htmx:load's
  // target is the swapped element, e.g. the New enhancement form coming back with an error).
  function within(scope, selector) {
    const found = Array.from(scope.querySelectorAll(selector));
    return scope.matches && scope.matches(selector) ? [scope, ...found] : found;
  }

  function init(scope) {
    within(scope, "[data-enhance-form]").forEach((form) => {
      initForm(form);
      updateTryButton(form);
      form.addEventListener("change", () => updateTryButton(form));
    });
    within(scope, ".try-mark").forEach(initTryMark);
    within(scope, "[data-compare]").forEach(initCompare);
    within(scope, "[data-copy]").forEach(initCopy);
    within(scope, "[data-notify-row]").forEach(initNotify);
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
