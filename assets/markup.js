/*
 * fooling_markup.Markup: a block of static markup built on the server (app/markup.py).
 *
 * Its `tree` prop is JSONML: [tag, {attributes}, child, ...], strings for text. It is drawn
 * with plain React elements, so a click result of forty elements is one Dash component (one
 * store subscription, one render wrapper) instead of forty.
 * Only the tags and attributes app/markup.py allows are drawn; anything else is left out,
 * and text is always text.
 */
(function () {
    "use strict";
    var TAGS = {};
    ("div span p strong em b i small br ul ol li h1 h2 h3 h4 h5 h6 table thead tbody tfoot tr th td " +
     "code sub sup").split(" ").forEach(function (t) { TAGS[t] = true; });
    var ATTRIBUTES = {className: true, style: true, id: true, title: true, role: true, colSpan: true, rowSpan: true};
    var VOID = {br: true};

    function allowed(name) {
        return ATTRIBUTES.hasOwnProperty(name) || /^(aria|data)-[a-z0-9-]+$/.test(name);
    }

    function isElement(node) {
        return Array.isArray(node) && typeof node[0] === "string" && node.length > 1 &&
            node[1] !== null && typeof node[1] === "object" && !Array.isArray(node[1]);
    }

    function build(node, key) {
        if (typeof node === "string" || typeof node === "number") { return String(node); }
        if (!isElement(node) || !TAGS.hasOwnProperty(node[0])) { return null; }
        var attrs = node[1], props = {key: key};
        for (var name in attrs) {
            if (!attrs.hasOwnProperty(name) || !allowed(name)) { continue; }
            var v = attrs[name];
            if (name === "style" ? (v && typeof v === "object" && !Array.isArray(v))
                                 : (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
                props[name] = v;
            }
        }
        if (VOID[node[0]]) { return window.React.createElement(node[0], props); }
        return window.React.createElement.apply(null, [node[0], props].concat(children(node.slice(2))));
    }

    function children(list) {
        var out = [];
        for (var i = 0; i < list.length; i++) {
            var el = build(list[i], i);
            if (el !== null) { out.push(el); }
        }
        return out;
    }

    function Markup(props) {
        var tree = Array.isArray(props.tree) ? props.tree : [];
        var own = {}, wrap = false;
        if (typeof props.id === "string") { own.id = props.id; wrap = true; }
        if (typeof props.className === "string") { own.className = props.className; wrap = true; }
        /* without an id or class of its own the block adds no element: its children sit where it is */
        return window.React.createElement.apply(null, [wrap ? "div" : window.React.Fragment, wrap ? own : null]
                                                      .concat(children(tree)));
    }

    window.fooling_markup = {Markup: Markup};
})();
