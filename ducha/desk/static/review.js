/* The review grid's keyboard. One card is current; a value key or typed digits fill its
 * answer, Enter confirms it (one request for one item) and moves on, P shows the whole
 * page with the box, U or Ctrl+Z undoes the last confirmation.
 *
 * Enter moves on at once and the request follows: requests run one at a time, in the
 * order they were made, so an undo pressed right after Enter undoes that very item.
 * A refused value brings its card back with the server's Chinese message in place.
 */
(function () {
  "use strict";
  var root = document.getElementById("rv");
  if (!root) { return; }
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var cards = Array.prototype.slice.call(root.querySelectorAll(".rv-card"));
  var overlay = document.getElementById("rv-page");
  var notice = document.getElementById("rv-notice");
  var leftCount = document.getElementById("rv-left");
  var tabCount = root.querySelector(".rv-tab.current .rv-count");
  var current = null;
  var chain = Promise.resolve();
  var pending = 0;
  var KEY_NAMES = {s: "S", e: "E"};
  // Every crop is cut at the same pixels per millimetre: one zoom for all keeps a box the same size on screen.
  var CROP_ZOOM = 2;

  function valueBox(card) { return card.querySelector(".rv-value"); }
  function say(card, text) { card.querySelector(".rv-msg").textContent = text || ""; }
  function keysOf(card) {
    var keys = card.getAttribute("data-keys");
    return keys ? JSON.parse(keys) : null;
  }
  function isDone(card) { return card.classList.contains("done"); }
  function isAmount(card) { return card.getAttribute("data-kind") === "amount"; }

  function keyHint(card) {
    var keys = keysOf(card);
    if (!keys) { return "请输入数字，“-”表示未填"; }
    var parts = Object.keys(keys).map(function (k) { return (KEY_NAMES[k] || k) + "（" + keys[k] + "）"; });
    return "请按 " + parts.join("、");
  }

  function setCount(delta) {
    [leftCount, tabCount].forEach(function (el) {
      if (el) { el.textContent = String(Math.max(0, parseInt(el.textContent, 10) + delta)); }
    });
  }

  function track(delta) {
    pending += delta;
    root.setAttribute("data-pending", String(pending));
  }

  function focusCard(card) {
    if (current) { current.classList.remove("current"); }
    current = card;
    if (!card) { return; }
    card.classList.add("current");
    var box = valueBox(card);
    box.focus({preventScroll: true});
    if (!box.readOnly) { box.select(); }
    card.scrollIntoView({block: "center"});
  }

  function nextOpen(from) {
    var start = from ? cards.indexOf(from) + 1 : 0;
    for (var i = 0; i < cards.length; i++) {
      var card = cards[(start + i) % cards.length];
      if (!isDone(card)) { return card; }
    }
    return null;
  }

  function finishedNotice() {
    if (!nextOpen(null)) {
      notice.textContent = "本类项目已全部复核完毕。可在上方选择其他类别，或返回本轮概况。";
    }
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": token, "Accept": "application/json"},
      body: body
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (type.indexOf("json") >= 0) {
        return response.json().then(function (data) { data.status = response.status; return data; });
      }
      var error = response.status === 401 ? "登录已过期，请重新登录后再复核"
        : response.status === 403 ? "没有权限或页面已过期，请刷新页面后重试"
          : "操作未完成（" + response.status + "），请刷新页面后重试";
      return {ok: false, status: response.status, error: error};
    }, function () {
      return {ok: false, status: 0, error: "无法连接工作台服务器，请检查网络后重试"};
    });
  }

  function enqueue(task) {
    track(1);
    chain = chain.then(task).then(function () { track(-1); }, function () { track(-1); });
  }

  function markChosen(card, value) {
    card.querySelectorAll(".rv-version").forEach(function (version) {
      var side = version.getAttribute("data-side");
      var label = card.getAttribute(side === "left" ? "data-left" : "data-right");
      version.classList.toggle("chosen", label === value);
    });
  }

  function confirmCard(card) {
    if (isDone(card)) { focusCard(nextOpen(card)); return; }
    var box = valueBox(card);
    var value = box.value.trim();
    if (!value) { say(card, keyHint(card) + "，再按 Enter 确认"); return; }
    card.classList.add("done");
    box.readOnly = true;
    say(card, "");
    setCount(-1);
    focusCard(nextOpen(card));
    enqueue(function () {
      return send(card.getAttribute("data-settle-url"), "value=" + encodeURIComponent(value)).then(function (r) {
        if (r.ok) {
          box.value = r.label;
          if (r.page_recorded) { say(card, "此页各项已全部复核，已录入"); }
          finishedNotice();
          return;
        }
        if (r.status === 409) { say(card, r.error); return; } // settled meanwhile by someone else
        card.classList.remove("done");
        box.readOnly = !isAmount(card);
        setCount(1);
        say(card, r.error);
        focusCard(card);
      });
    });
  }

  function undo() {
    enqueue(function () {
      return send(root.getAttribute("data-undo-url"), "").then(function (r) {
        if (!r.ok) { notice.textContent = r.error; return; }
        var card = cards.filter(function (c) { return c.getAttribute("data-id") === String(r.item_id); })[0];
        if (!card) {
          notice.textContent = "已撤销：" + r.target + "。该项在“" + r.kind_label + "”类别中，切换过去即可重新复核。";
          return;
        }
        notice.textContent = "";
        if (isDone(card)) { setCount(1); }
        card.classList.remove("done");
        var box = valueBox(card);
        box.readOnly = !isAmount(card);
        box.value = r.before_label || "";
        markChosen(card, box.value);
        say(card, "已撤销（原为“" + (r.before_label || "") + "”），请重新确认");
        focusCard(card);
      });
    });
  }

  function openPage(card) {
    fetch(card.getAttribute("data-page-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (view) {
        if (!view.ok) { say(card, view.error); return; }
        var image = overlay.querySelector("img");
        var box = overlay.querySelector(".rv-box");
        image.src = view.url;
        if (view.box) {
          box.style.left = (100 * view.box[0] / view.width) + "%";
          box.style.top = (100 * view.box[1] / view.height) + "%";
          box.style.width = (100 * view.box[2] / view.width) + "%";
          box.style.height = (100 * view.box[3] / view.height) + "%";
          box.hidden = false;
        } else {
          box.hidden = true;
        }
        overlay.querySelector(".rv-page-note").textContent = view.whole_page
          ? "整页图像，红框为本栏位置。按 Esc 或 P 关闭。"
          : "扫描文件已不在原处，显示的是此页各栏的截图拼图，红框为本栏。按 Esc 或 P 关闭。";
        overlay.hidden = false;
        if (view.box) {
          image.addEventListener("load", function () { box.scrollIntoView({block: "center"}); }, {once: true});
        }
      }, function () { say(card, "整页图像无法打开，请稍后重试"); });
  }

  function closePage() {
    overlay.hidden = true;
    if (current) { focusCard(current); }
  }

  document.addEventListener("keydown", function (e) {
    var key = e.key;
    if (!overlay.hidden) {
      if (key === "Escape" || key === "p" || key === "P" || key === "Enter" || key === " ") {
        e.preventDefault();
        closePage();
      }
      return;
    }
    var inCard = e.target === document.body || (e.target.closest && e.target.closest(".rv-card"));
    if (!inCard) { return; }
    var ctrl = e.ctrlKey || e.metaKey;
    if ((ctrl && (key === "z" || key === "Z")) || (!ctrl && !e.altKey && (key === "u" || key === "U"))) {
      e.preventDefault();
      undo();
      return;
    }
    if (ctrl || e.altKey || !current) { return; }
    if (key === "p" || key === "P" || (key === " " && !isAmount(current))) {
      e.preventDefault();
      openPage(current);
      return;
    }
    if (key === "Enter") {
      e.preventDefault();
      confirmCard(current);
      return;
    }
    if (key === "Tab" || isDone(current)) { return; }
    var box = valueBox(current);
    if (current.classList.contains("rv-conflict") && (key === "ArrowLeft" || key === "ArrowRight")) {
      e.preventDefault();
      var side = current.getAttribute(key === "ArrowLeft" ? "data-left" : "data-right");
      if (side) { box.value = side; markChosen(current, side); say(current, ""); }
      return;
    }
    var keys = keysOf(current);
    if (keys) {
      if (key.length !== 1) { return; }
      e.preventDefault();
      var value = keys[key.toLowerCase()];
      if (value) {
        box.value = value;
        markChosen(current, value);
        say(current, "");
      } else {
        say(current, keyHint(current));
      }
      return;
    }
    if (isAmount(current) && key.length === 1) {
      if (key === root.getAttribute("data-blank-key")) {
        e.preventDefault();
        box.value = "未填";
        box.select();
      } else if (!/[0-9.]/.test(key)) {
        e.preventDefault();
        say(current, "只能输入数字和小数点，“-”表示未填");
      } else {
        say(current, "");
      }
    }
  });

  root.addEventListener("focusin", function (e) {
    var card = e.target.closest && e.target.closest(".rv-card");
    if (card && card !== current) { focusCard(card); }
  });
  root.addEventListener("click", function (e) {
    var card = e.target.closest && e.target.closest(".rv-card");
    if (!card) { return; }
    if (e.target.tagName === "IMG" && !e.target.closest(".rv-version")) { focusCard(card); openPage(card); return; }
    if (card !== current) { focusCard(card); }
  });
  overlay.addEventListener("click", closePage);

  function zoom(image) {
    if (image.naturalWidth) { image.style.width = (image.naturalWidth * CROP_ZOOM) + "px"; }
  }
  root.querySelectorAll("img.rv-scaled").forEach(function (image) {
    if (image.complete) { zoom(image); } else { image.addEventListener("load", function () { zoom(image); }); }
  });

  root.setAttribute("data-pending", "0");
  focusCard(nextOpen(null));
  finishedNotice();
}());
