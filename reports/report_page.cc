#include "reports/report_page.h"

#include <string_view>

#include "reports/html_escape.h"
#include "reports/json_input.h"

namespace lockstep::reports {

namespace {

using nlohmann::json;

constexpr std::string_view kStyle = R"css(
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 18px 0 6px; }
dl.header { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0; }
dl.header dt { font-weight: 600; }
dl.header dd { margin: 0; font-family: monospace; }
.verdict-pass { color: #1a7f37; font-weight: 700; }
.verdict-fail { color: #cf222e; font-weight: 700; }
.verdict-unknown { color: #9a6700; font-weight: 700; }
.notes li { color: #9a6700; }
#js-errors .js-error { color: #cf222e; font-weight: 700; }
#controls { margin-bottom: 6px; }
#controls input { width: 110px; }
#timeline svg { border: 1px solid #ccc; cursor: grab; user-select: none; }
#tooltip { position: fixed; display: none; pointer-events: none; background: #fffbe6;
  border: 1px solid #999; padding: 4px 6px; font: 12px monospace; white-space: pre-wrap;
  max-width: 600px; z-index: 10; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
td.mono { font-family: monospace; white-space: pre-wrap; word-break: break-all; max-width: 520px; }
tr.clickable { cursor: pointer; }
tr.probe-missed td { color: #9a6700; }
tr.clickable:hover { background: #f3f3f3; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
pre#scenario { background: #f6f8fa; padding: 8px; max-height: 320px; overflow: auto; }
)css";

// Installed first, before any other script, so an error anywhere on the page (including
// in the renderer below) is written into the page where a person and the headless test
// both see it.
constexpr std::string_view kErrorHook = R"js(
window.onerror = function (message, source, line, column) {
  var box = document.getElementById('js-errors') || document.documentElement;
  var entry = document.createElement('div');
  entry.className = 'js-error';
  entry.textContent = 'script error: ' + message + ' (line ' + line + ':' + column + ')';
  box.appendChild(entry);
  return false;
};
)js";

// Renders from the embedded model. Data only ever reaches the page through textContent
// and setAttribute, never as markup, so run data cannot inject elements.
constexpr std::string_view kRenderer = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var SVG = 'http://www.w3.org/2000/svg';
  var LANE = 22, LABEL = 120, AXIS = 24, GAP = 8;
  var ROLE_COLORS = { leader: '#2da44e', candidate: '#f0b429', precandidate: '#f6d67a',
    follower: '#8cb8e0', learner: '#c8c8e8' };
  var STATUS_COLORS = { ok: '#4c9be8', failed: '#d1242f', indeterminate: '#f08c00' };
  var FAULT_COLORS = { partition: '#8250df', partition_one_way: '#a371f7', clog: '#bf8700',
    pause: '#6e7781', crash: '#cf222e' };
  var end = Math.max(1, data.end_ns);
  // A fault without an end lasted until the heal phase began (or to the end of the run).
  var open_fault_end = data.heal_at_ns === null ? end : data.heal_at_ns;
  var view = { from: 0, to: end };
  var tips = [];

  function node(tag, attributes, parent) {
    var element = document.createElementNS(SVG, tag);
    for (var key in attributes) element.setAttribute(key, attributes[key]);
    if (parent) parent.appendChild(element);
    return element;
  }
  function html(tag, text, parent, className) {
    var element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = text;
    if (className) element.className = className;
    if (parent) parent.appendChild(element);
    return element;
  }
  function ms(ns) { return ns === null || ns === undefined ? '?' : (ns / 1e6).toFixed(3); }
  function text(value) {
    if (value === null || value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  function verdict_class(verdict) {
    var v = String(verdict).toLowerCase();
    if (['pass', 'ok', 'passed', 'linearizable', 'true'].indexOf(v) >= 0) return 'verdict-pass';
    if (['fail', 'failed', 'violation', 'not linearizable', 'false'].indexOf(v) >= 0) return 'verdict-fail';
    return 'verdict-unknown';
  }
  function tip(element, lines) { tips.push(lines); element.setAttribute('data-tip', tips.length - 1); }

  // Greedy interval packing: overlapping bars of one lane go to separate rows.
  function pack(items, start_of, end_of) {
    var rows = [];
    items.forEach(function (item) {
      var row = 0;
      while (row < rows.length && rows[row] > start_of(item)) row++;
      rows[row] = Math.max(end_of(item), start_of(item) + 1);
      item._row = row;
    });
    return Math.max(1, rows.length);
  }

  var svg_width = Math.max(700, (document.getElementById('timeline').clientWidth || 1100) - 4);
  var plot = svg_width - LABEL - 10;
  function x(ns) { return LABEL + (ns - view.from) / (view.to - view.from) * plot; }
  function visible(start, stop) { return stop >= view.from && start <= view.to; }
  function bar(parent, start, stop, top, height, attributes) {
    var left = Math.max(LABEL, x(start)), right = Math.min(LABEL + plot, x(stop));
    attributes.x = left; attributes.y = top; attributes.height = height;
    attributes.width = Math.max(1, right - left);
    return node('rect', attributes, parent);
  }
  function lane_label(parent, top, height, label) {
    var t = node('text', { x: 4, y: top + height / 2 + 4, 'font-size': 11 }, parent);
    t.textContent = label;
    node('line', { x1: 0, x2: LABEL + plot, y1: top + height, y2: top + height,
      stroke: '#eee' }, parent);
  }

  function draw_axis(svg) {
    var span = view.to - view.from, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    if (span / step > 16) step *= 5; else if (span / step > 8) step *= 2;
    for (var t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      node('line', { x1: x(t), x2: x(t), y1: AXIS - 4, y2: 100000, stroke: '#f0f0f0' }, svg);
      var label = node('text', { x: x(t) + 2, y: AXIS - 8, 'font-size': 10, fill: '#666' }, svg);
      label.textContent = ms(t) + ' ms';
    }
  }

  function draw_member(svg, member, top) {
    var group = node('g', { 'class': 'member-lane', 'data-member': member.id }, svg);
    lane_label(group, top, LANE, 'member ' + member.id);
    member.segments.forEach(function (s) {
      if (!visible(s.start_ns, s.end_ns)) return;
      var r = bar(group, s.start_ns, s.end_ns, top + 3, LANE - 6,
        { fill: ROLE_COLORS[String(s.role).toLowerCase()] || '#bbb', 'class': 'role-segment' });
      tip(r, 'member ' + member.id + ': ' + s.role + ', term ' + text(s.term) + '\n' +
        ms(s.start_ns) + ' .. ' + ms(s.end_ns) + ' ms');
      if (x(s.end_ns) - x(s.start_ns) > 34) {
        var label = node('text', { x: Math.max(LABEL, x(s.start_ns)) + 3, y: top + LANE / 2 + 4,
          'font-size': 10, 'pointer-events': 'none' }, group);
        label.textContent = String(s.role).charAt(0).toUpperCase() + ' t' + text(s.term);
      }
    });
    member.outages.forEach(function (o) {
      if (!visible(o.start_ns, o.end_ns)) return;
      var r = bar(group, o.start_ns, o.end_ns, top + 3, LANE - 6, { fill: 'url(#hatch)',
        stroke: '#555', 'class': 'outage' });
      tip(r, 'member ' + member.id + ' ' + o.kind + '\n' + ms(o.start_ns) + ' .. ' + ms(o.end_ns) + ' ms');
    });
    member.marks.forEach(function (m) {
      if (!visible(m.t_ns, m.t_ns)) return;
      var bad = m.kind === 'crash' || m.kind === 'pause' || m.kind === 'stop';
      var mark = node('path', { d: 'M' + x(m.t_ns) + ' ' + (top + 1) + ' l5 -0 l-5 9 l-5 -9 z',
        fill: bad ? '#cf222e' : '#1a7f37', 'class': 'mark mark-' + m.kind }, group);
      tip(mark, 'member ' + member.id + ': ' + m.kind + (m.detail ? ' (' + m.detail + ')' : '') +
        ' at ' + ms(m.t_ns) + ' ms');
    });
    return top + LANE;
  }

  function draw_faults(svg, top) {
    var faults = data.faults.slice().sort(function (a, b) { return a.start_ns - b.start_ns; });
    var rows = pack(faults, function (f) { return f.start_ns; },
      function (f) { return f.end_ns === null ? Math.max(open_fault_end, f.start_ns) : f.end_ns; });
    var height = rows * (LANE - 6) + 6;
    var group = node('g', { 'class': 'fault-lane' }, svg);
    lane_label(group, top, height, 'faults');
    faults.forEach(function (f) {
      var stop = f.end_ns === null ? Math.max(open_fault_end, f.start_ns) : Math.max(f.end_ns, f.start_ns);
      if (!visible(f.start_ns, stop)) return;
      var r = bar(group, f.start_ns, stop, top + 3 + f._row * (LANE - 6), LANE - 8,
        { fill: FAULT_COLORS[f.kind] || '#d4a72c', 'class': 'fault', opacity: 0.85 });
      if (x(stop) - x(f.start_ns) > 50) {
        var label = node('text', { x: Math.max(LABEL, x(f.start_ns)) + 3,
          y: top + 3 + f._row * (LANE - 6) + LANE / 2 - 1, 'font-size': 10, fill: '#fff',
          'pointer-events': 'none' }, group);
        label.textContent = f.kind;
      }
      tip(r, 'fault ' + f.kind + (f.detail ? '\n' + f.detail : '') + '\n' + ms(f.start_ns) +
        ' .. ' + (f.end_ns === null ? 'heal (no end recorded)' : ms(f.end_ns) + ' ms'));
    });
    return top + height;
  }

  function operation_tip(op) {
    return 'operation ' + text(op.id) + ' (client ' + op.client + ', ' + op.status +
      (op.counterexample ? ', COUNTEREXAMPLE' : '') + ')\ninvoke ' + ms(op.invoke_ns) +
      ' ms, return ' + (op.return_ns === null ? 'never' : ms(op.return_ns) + ' ms') +
      '\nrequest: ' + text(op.request) + '\nresponse: ' + text(op.response);
  }

  var by_client = {};
  data.operations.forEach(function (op) { (by_client[op.client] = by_client[op.client] || []).push(op); });
  var client_rows = {};
  data.clients.forEach(function (client) {
    // An indeterminate operation never returned: it is drawn to the end of the run.
    client_rows[client] = pack(by_client[client] || [], function (op) { return op.invoke_ns; },
      function (op) { return op.return_ns === null ? end : op.return_ns; });
  });

  function draw_client(svg, client, top, counters) {
    var rows = client_rows[client], height = rows * (LANE - 8) + 8;
    var group = node('g', { 'class': 'client-lane', 'data-client': client }, svg);
    lane_label(group, top, height, 'client ' + client);
    (by_client[client] || []).forEach(function (op) {
      var stop = op.return_ns === null ? end : Math.max(op.return_ns, op.invoke_ns);
      if (!visible(op.invoke_ns, stop)) return;
      var attributes = { fill: STATUS_COLORS[op.status] || '#999',
        'class': 'op op-' + op.status + (op.counterexample ? ' op-counterexample' : ''),
        'data-op': text(op.id) };
      if (op.status === 'indeterminate') attributes.opacity = 0.55;
      if (op.counterexample) { attributes.stroke = '#000'; attributes['stroke-width'] = 2.5; }
      var r = bar(group, op.invoke_ns, stop, top + 4 + op._row * (LANE - 8), LANE - 12, attributes);
      tip(r, operation_tip(op));
      counters.operations++;
      if (op.counterexample) counters.counterexample++;
    });
    return top + height;
  }

  var svg_holder = document.getElementById('timeline');
  function render() {
    tips = [];
    svg_holder.textContent = '';
    var svg = node('svg', { width: svg_width, id: 'timeline-svg' }, svg_holder);
    var defs = node('defs', {}, svg);
    var hatch = node('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse',
      patternTransform: 'rotate(45)' }, defs);
    node('rect', { width: 6, height: 6, fill: '#ddd' }, hatch);
    node('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#555', 'stroke-width': 2 }, hatch);
    draw_axis(svg);
    var top = AXIS, counters = { operations: 0, counterexample: 0 };
    data.members.forEach(function (member) { top = draw_member(svg, member, top); });
    top = draw_faults(svg, top + GAP);
    top += GAP;
    data.clients.forEach(function (client) { top = draw_client(svg, client, top, counters); });
    svg.setAttribute('height', top + 4);
    if (data.heal_at_ns !== null && visible(data.heal_at_ns, data.heal_at_ns)) {
      var heal = node('line', { x1: x(data.heal_at_ns), x2: x(data.heal_at_ns), y1: AXIS - 4,
        y2: top, stroke: '#1a7f37', 'stroke-dasharray': '4 3', 'class': 'heal-line' }, svg);
      tip(heal, 'faults healed at ' + ms(data.heal_at_ns) + ' ms (liveness phase begins)');
    }
    document.getElementById('window-from').value = ms(view.from);
    document.getElementById('window-to').value = ms(view.to);
    var marker = document.getElementById('timeline-rendered') || html('div', '', document.body);
    marker.id = 'timeline-rendered';
    marker.setAttribute('data-member-lanes', data.members.length);
    marker.setAttribute('data-client-lanes', data.clients.length);
    marker.setAttribute('data-operations-drawn', counters.operations);
    marker.setAttribute('data-counterexample-drawn', counters.counterexample);
    marker.textContent = 'showing ' + ms(view.from) + ' .. ' + ms(view.to) + ' ms: ' +
      counters.operations + ' operations drawn';
  }

  function set_view(from, to) {
    var span = Math.max(1000, to - from);
    from = Math.max(0, Math.min(from, end - 1)); to = Math.min(end, from + span);
    view = { from: from, to: Math.max(to, from + 1) };
    render();
  }

  function fill_tables() {
    var notes = document.getElementById('notes');
    data.notes.forEach(function (note) { html('li', note, notes); });
    if (data.members.length === 0) html('li', 'timeline.json names no members', notes);
    var checks = document.getElementById('checks-table');
    var head = html('tr', null, checks);
    ['check', 'verdict', 'detail', 'counterexample operations'].forEach(function (h) { html('th', h, head); });
    data.checks.forEach(function (check) {
      var row = html('tr', null, checks, 'check-row');
      html('td', check.name, row);
      html('td', check.verdict, row, verdict_class(check.verdict));
      html('td', check.detail, row, 'mono');
      html('td', check.counterexample.map(text).join(', '), row, 'mono');
    });
    var cx = data.operations.filter(function (op) { return op.counterexample; });
    var section = document.getElementById('counterexample-section');
    section.style.display = cx.length ? '' : 'none';
    var table = document.getElementById('counterexample-table');
    var header = html('tr', null, table);
    ['op', 'client', 'invoke ms', 'return ms', 'status', 'request', 'response'].forEach(function (h) { html('th', h, header); });
    cx.forEach(function (op) {
      var row = html('tr', null, table, 'clickable counterexample-row');
      [text(op.id), op.client, ms(op.invoke_ns), ms(op.return_ns), op.status].forEach(function (v) { html('td', v, row); });
      html('td', text(op.request), row, 'mono');
      html('td', text(op.response), row, 'mono');
      row.addEventListener('click', function () {
        var stop = op.return_ns === null ? end : op.return_ns, margin = Math.max(1e6, (stop - op.invoke_ns) * 2);
        set_view(op.invoke_ns - margin, stop + margin);
      });
    });
    var trace = document.getElementById('trace-table');
    if (data.trace) {
      var trace_head = html('tr', null, trace);
      html('th', 'trace event kind', trace_head); html('th', 'count', trace_head);
      Object.keys(data.trace.by_kind).forEach(function (kind) {
        var row = html('tr', null, trace);
        html('td', kind, row); html('td', String(data.trace.by_kind[kind]), row);
      });
    } else {
      html('p', 'no trace.jsonl in this run directory', document.getElementById('trace-section'));
    }
    var probes = document.getElementById('probes-table');
    if (data.probes) {
      var probe_head = html('tr', null, probes);
      html('th', 'coverage probe', probe_head); html('th', 'site', probe_head); html('th', 'hits', probe_head);
      data.probes.forEach(function (probe) {
        var row = html('tr', null, probes, probe.hits === 0 ? 'probe-row probe-missed' : 'probe-row');
        html('td', probe.name, row); html('td', probe.site, row, 'mono'); html('td', text(probe.hits), row);
      });
    } else {
      html('p', 'no probes.json in this run directory', document.getElementById('probes-section'));
    }
    document.getElementById('scenario').textContent =
      data.scenario === null ? 'no scenario.json in this run directory' : JSON.stringify(data.scenario, null, 2);
  }

  function wire_controls() {
    document.getElementById('window-apply').addEventListener('click', function () {
      var from = parseFloat(document.getElementById('window-from').value) * 1e6;
      var to = parseFloat(document.getElementById('window-to').value) * 1e6;
      if (isFinite(from) && isFinite(to) && to > from) set_view(from, to);
    });
    document.getElementById('window-reset').addEventListener('click', function () { set_view(0, end); });
    var tooltip = document.getElementById('tooltip');
    svg_holder.addEventListener('mousemove', function (event) {
      var index = event.target.getAttribute && event.target.getAttribute('data-tip');
      if (index === null || index === undefined) { tooltip.style.display = 'none'; return; }
      tooltip.textContent = tips[index];
      tooltip.style.display = 'block';
      tooltip.style.left = (event.clientX + 14) + 'px';
      tooltip.style.top = (event.clientY + 14) + 'px';
    });
    svg_holder.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; });
    svg_holder.addEventListener('wheel', function (event) {
      event.preventDefault();
      var box = svg_holder.getBoundingClientRect();
      var fraction = Math.min(1, Math.max(0, (event.clientX - box.left - LABEL) / plot));
      var at = view.from + fraction * (view.to - view.from);
      var scale = event.deltaY < 0 ? 0.8 : 1.25, span = (view.to - view.from) * scale;
      set_view(at - fraction * span, at + (1 - fraction) * span);
    }, { passive: false });
    var drag = null;
    svg_holder.addEventListener('mousedown', function (event) { drag = { x: event.clientX, view: view }; });
    window.addEventListener('mouseup', function () { drag = null; });
    window.addEventListener('mousemove', function (event) {
      if (!drag) return;
      var shift = (drag.x - event.clientX) / plot * (drag.view.to - drag.view.from);
      if (Math.abs(shift) > 0) set_view(drag.view.from + shift, drag.view.to + shift);
    });
  }

  fill_tables();
  wire_controls();
  render();
})();
)js";

std::string field_text(const json& summary, const char* name) {
  const auto found = summary.find(name);
  return found == summary.end() || found->is_null() ? std::string("—") : display_text(*found);
}

std::string verdict_class(const std::string& verdict) {
  if (verdict == "pass") return "verdict-pass";
  if (verdict == "fail") return "verdict-fail";
  return "verdict-unknown";
}

std::string render_header(const json& summary) {
  const std::string verdict = field_text(summary, "verdict");
  std::string out = "<header id=\"run-header\"><h1>lockstep run: " +
                    escape_html(field_text(summary, "scenario")) + " (seed " +
                    escape_html(field_text(summary, "seed")) + ")</h1><dl class=\"header\">";
  auto row = [&out](std::string_view name, const std::string& value, std::string_view id,
                    const std::string& css_class = {}) {
    out += "<dt>" + std::string(name) + "</dt><dd id=\"" + std::string(id) + "\"" +
           (css_class.empty() ? "" : " class=\"" + css_class + "\"") + ">" + escape_html(value) +
           "</dd>";
  };
  row("scenario", field_text(summary, "scenario"), "header-scenario");
  row("seed", field_text(summary, "seed"), "header-seed");
  row("verdict", verdict, "header-verdict", verdict_class(verdict));
  row("trace hash", field_text(summary, "trace_hash"), "header-trace-hash");
  row("simulated time", field_text(summary, "sim_time_ms") + " ms", "header-sim-time");
  row("wall time", field_text(summary, "wall_ms") + " ms", "header-wall-time");
  row("operations", field_text(summary, "ops"), "header-operations");
  out += "</dl></header>\n";
  return out;
}

constexpr std::string_view kBody = R"html(
<div id="js-errors"></div>
<ul id="notes" class="notes"></ul>
<h2>Timeline</h2>
<div id="controls">window from <input id="window-from"> to <input id="window-to"> ms
<button id="window-apply">show</button> <button id="window-reset">whole run</button>
<span style="color:#666">— mouse wheel zooms, drag pans, hover for details</span></div>
<div class="legend"><span><i style="background:#2da44e"></i>leader</span><span><i style="background:#f0b429"></i>candidate</span><span><i style="background:#8cb8e0"></i>follower</span><span><i style="background:#ddd;border:1px solid #555"></i>down / paused</span><span><i style="background:#4c9be8"></i>op ok</span><span><i style="background:#d1242f"></i>op failed</span><span><i style="background:#f08c00;opacity:.55"></i>op indeterminate</span><span><i style="border:2px solid #000"></i>counterexample</span></div>
<div id="timeline"></div>
<div id="tooltip"></div>
<h2>Checks</h2>
<table id="checks-table"></table>
<section id="counterexample-section"><h2>Counterexample operations</h2>
<p>Click a row to zoom the timeline to it.</p>
<table id="counterexample-table"></table></section>
<section id="trace-section"><h2>Trace</h2><table id="trace-table"></table></section>
<section id="probes-section"><h2>Coverage probes</h2><table id="probes-table"></table></section>
<h2>Scenario</h2>
<pre id="scenario"></pre>
)html";

}  // namespace

std::string render_report_page(const json& model) {
  const json& summary = model["summary"];
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>";
  page += escape_html("lockstep " + field_text(summary, "scenario") + " seed " +
                      field_text(summary, "seed") + ": " + field_text(summary, "verdict"));
  page += "</title>\n<style>";
  page += kStyle;
  page += "</style>\n<script>";
  page += kErrorHook;
  page += "</script>\n</head><body>\n";
  page += render_header(summary);
  page += kBody;
  page += "<script type=\"application/json\" id=\"run-data\">";
  page += json_for_script_element(model);
  page += "</script>\n<script>";
  page += kRenderer;
  page += "</script>\n</body></html>\n";
  return page;
}

}  // namespace lockstep::reports
