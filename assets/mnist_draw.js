/*
 * /mnist drawing pad: draw a digit with the mouse, a pen or a finger (pointer events).
 *
 * White strokes on black, like MNIST's digits, on a 280 x 280 canvas (#mnist-draw). When a
 * stroke ends, the canvas goes to the server as a PNG data URL (the mnist-draw-data store,
 * via dash_clientside.set_props), where it is made the way MNIST's digits were. The clear
 * button (#mnist-draw-clear) blanks the pad. window.foolingDraw.strokes counts strokes;
 * window.foolingDraw.show(code) paints an uploaded or linked digit on the pad.
 *
 * The upload box (#mnist-upload) refuses files over its size limit in the browser (the server
 * never sees them); this script says so through the mnist-upload-rejected store.
 */
(function () {
    "use strict";
    var D = window.foolingDraw = window.foolingDraw || {strokes: 0};
    var WIDTH = 22;  /* stroke width in canvas pixels: about MNIST's pen on a 280 px field */

    function blank(cv) {
        var ctx = cv.getContext("2d");
        ctx.save();  /* the pen's white fill (a dot's) is kept: only the field goes black */
        ctx.fillStyle = "#000";
        ctx.fillRect(0, 0, cv.width, cv.height);
        ctx.restore();
    }

    /* the pad shows a digit given as its link code (784 grey levels, one URL-safe base64 byte
       each): an uploaded or linked digit as the network sees it, 28 x 28 blown up to the pad,
       beside the walked image; drawing on it changes it. Returns false for a bad code. */
    D.show = function (code) {
        var cv = document.getElementById("mnist-draw");
        if (!cv || typeof code !== "string") { return false; }
        var bytes;
        try {
            var b64 = code.replace(/-/g, "+").replace(/_/g, "/");
            bytes = window.atob(b64 + "===".slice((b64.length + 3) % 4));
        } catch (e) { return false; }
        if (bytes.length !== 784) { return false; }
        var small = document.createElement("canvas");
        small.width = small.height = 28;
        var sctx = small.getContext("2d"), im = sctx.createImageData(28, 28);
        for (var i = 0; i < 784; i++) {
            var g = bytes.charCodeAt(i);
            im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = g;
            im.data[4 * i + 3] = 255;
        }
        sctx.putImageData(im, 0, 0);
        var ctx = cv.getContext("2d");
        ctx.save();
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(small, 0, 0, cv.width, cv.height);
        ctx.restore();
        D.shown = code;
        return true;
    };

    function at(cv, ev) {
        var r = cv.getBoundingClientRect();
        return [(ev.clientX - r.left) * cv.width / r.width, (ev.clientY - r.top) * cv.height / r.height];
    }

    function send(cv) {
        if (window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props("mnist-draw-data", {data: {png: cv.toDataURL("image/png"),
                                                                      strokes: D.strokes}});
        }
    }

    function attach(cv) {
        if (cv.foolingDraw) { return; }
        cv.foolingDraw = true;
        blank(cv);
        var ctx = cv.getContext("2d"), last = null, id = null;
        ctx.strokeStyle = "#fff";
        ctx.fillStyle = "#fff";
        ctx.lineWidth = WIDTH;
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        cv.addEventListener("pointerdown", function (ev) {
            ev.preventDefault();
            id = ev.pointerId;
            cv.setPointerCapture(id);
            last = at(cv, ev);
            ctx.beginPath();
            ctx.arc(last[0], last[1], WIDTH / 2, 0, 2 * Math.PI);
            ctx.fill();
        });
        cv.addEventListener("pointermove", function (ev) {
            if (last === null || ev.pointerId !== id) { return; }
            var p = at(cv, ev);
            ctx.beginPath();
            ctx.moveTo(last[0], last[1]);
            ctx.lineTo(p[0], p[1]);
            ctx.stroke();
            last = p;
        });
        var end = function (ev) {
            if (last === null || ev.pointerId !== id) { return; }
            last = null;
            D.strokes += 1;
            send(cv);
        };
        cv.addEventListener("pointerup", end);
        cv.addEventListener("pointercancel", end);
    }

    document.addEventListener("click", function (ev) {
        var button = ev.target && ev.target.closest && ev.target.closest("#mnist-draw-clear");
        var cv = document.getElementById("mnist-draw");
        if (button && cv) { blank(cv); D.strokes = 0; }
    });

    function checkUpload(files) {
        var box = document.getElementById("mnist-upload-limit");
        var limit = box ? Number(box.getAttribute("data-max")) : Infinity, f = files && files[0];
        if (f && f.size > limit && window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props("mnist-upload-rejected",
                                             {data: {size: f.size, name: String(f.name).slice(0, 80), at: Date.now()}});
        }
    }
    document.addEventListener("change", function (ev) {
        var input = ev.target;
        if (input && input.closest && input.closest("#mnist-upload")) {
            checkUpload(input.files);
            /* once the upload has its file, forget the choice: choosing the same file again is a change */
            window.setTimeout(function () { input.value = ""; }, 0);
        }
    }, true);
    document.addEventListener("drop", function (ev) {
        if (ev.target && ev.target.closest && ev.target.closest("#mnist-upload") && ev.dataTransfer) {
            checkUpload(ev.dataTransfer.files);
        }
    }, true);

    new MutationObserver(function () {
        var cv = document.getElementById("mnist-draw");
        if (cv) { attach(cv); }
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
